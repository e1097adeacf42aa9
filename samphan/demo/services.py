"""Generating demo data into a workspace (`samphan demo-data`)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
from django.db import connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from samphan.commerce.facts import purchase_facts_add_orders
from samphan.commerce.models import Order, OrderLine, Product
from samphan.core.audit import audit_record
from samphan.core.db import refresh_planner_statistics
from samphan.core.errors import ValidationFailed
from samphan.customers.models import (
    Consent,
    Customer,
    CustomerMembership,
    CustomerTag,
    Identity,
    Insight,
    Organisation,
    Tag,
)
from samphan.customers.services import customer_search_text
from samphan.demo import vocab
from samphan.demo.bulk import writer_for
from samphan.demo.generator import (
    CHUNK_CUSTOMERS,
    Calendar,
    Catalogue,
    Chunk,
    ChunkGenerator,
    Plan,
    org_rows,
)

# Insert order: parents before children.
TABLES = {
    "customer": Customer,
    "membership": CustomerMembership,
    "identity": Identity,
    "consent": Consent,
    "customer_tag": CustomerTag,
    "insight": Insight,
    "order": Order,
    "order_line": OrderLine,
}
MAX_CUSTOMER_NUMBER = 9_999_999  # external ids are C + 7 digits
MAX_ORDER_NUMBER = 999_999_999  # O + 9 digits
CUSTOMERS_PER_ORGANISATION = 250


def catalogue_for(workspace: Any) -> str:
    """coffee, fashion or retail, guessed from the workspace's name (the demo brands are a café and a silk shop)."""
    text = f"{workspace.slug} {workspace.name}".lower()
    if any(word in text for word in ("coffee", "cafe", "café", "กาแฟ", "คอฟฟี่")):
        return "coffee"
    if any(word in text for word in ("silk", "fashion", "boutique", "ไหม", "ผ้า")):
        return "fashion"
    return "retail"


def _last_number(queryset: Any, prefix: str, digits: int) -> int:
    """The highest demo number already used (external ids like C0000042), 0 if none."""
    top = (queryset.filter(external_id__regex=rf"^{prefix}[0-9]{{{digits}}}$")
           .aggregate(top=Max("external_id"))["top"])
    return int(top[len(prefix):]) if top else 0


def _ensure_products(workspace: Any, name: str) -> Catalogue:
    rows = vocab.CATALOGUES[name]
    counters: dict[str, int] = {}
    wanted = []
    for prefix, th, en, category, price, popularity in rows:
        counters[prefix] = counters.get(prefix, 0) + 1
        wanted.append((f"{prefix}-{counters[prefix]:03d}", f"{th} {en}", category, price, popularity))
    skus = [w[0] for w in wanted]
    have = set(Product.objects.for_workspace(workspace).filter(sku__in=skus).values_list("sku", flat=True))
    Product.objects.bulk_create([
        Product(workspace=workspace, sku=sku, name=title, category=category, price=Decimal(price))
        for sku, title, category, price, _ in wanted if sku not in have
    ])
    products = {p.sku: p for p in Product.objects.for_workspace(workspace).filter(sku__in=skus)}
    categories: dict[str, int] = {}
    for w in wanted:
        categories.setdefault(w[2], len(categories))
    return Catalogue(
        ids=np.array([products[s].pk for s in skus], dtype=np.int64),
        skus=skus,
        price_satang=np.array([int(products[s].price * 100) for s in skus], dtype=np.int64),
        category=np.array([categories[w[2]] for w in wanted], dtype=np.int64),
        popularity=np.array([w[4] for w in wanted], dtype=float),
    )


def _ensure_tags(workspace: Any) -> dict[str, int]:
    return {name: Tag.objects.get_or_create(workspace=workspace, name=name)[0].pk for name in vocab.TAGS}


def _prefetched(items: Iterator[Chunk]) -> Iterator[Chunk]:
    """The same items, the next one computed in a thread while the caller works on this one.

    NumPy and polars release the GIL, and so does SQLite while it steps, so
    generating chunk n+1 overlaps with writing chunk n.
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-generate") as pool:
        upcoming = pool.submit(next, items, None)
        while (item := upcoming.result()) is not None:
            upcoming = pool.submit(next, items, None)
            yield item


def _load_in_parallel(chunks: Iterator[Chunk], *, load: Callable, reserve: Callable, loaders: int) -> None:
    """Chunks loaded by `loaders` threads, each with its own connection and one transaction per chunk.

    The main thread generates the next chunk and reserves its ids (a short
    transaction of its own) while the loaders copy; the queue bounds memory.
    """
    pending: queue.Queue = queue.Queue(maxsize=loaders)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            while (item := pending.get()) is not None:
                if not errors:  # after a failure, drain the queue so the producer never blocks
                    try:
                        load(*item)
                    except BaseException as exc:
                        errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, name=f"demo-loader-{i}", daemon=True) for i in range(loaders)]
    for thread in threads:
        thread.start()
    try:
        for chunk in chunks:
            if errors:
                break
            with transaction.atomic():
                starts = reserve(chunk)
            pending.put((chunk, starts))
    finally:
        for _ in threads:
            pending.put(None)
        for thread in threads:
            thread.join()
    if errors:
        raise errors[0]


def _check_search_text(chunk: Chunk) -> None:
    """Guard against drift: a sample of rows must match customers.services.customer_search_text."""
    customers, members = chunk.frames["customer"], chunk.frames["membership"]
    if not customers.height:
        return
    # customer_id still holds the chunk-local index here
    member_of = dict(zip(members["customer_id"].head(10).to_list(), members["member_number"].head(10).to_list(),
                         strict=True))
    sample = sorted({i for i in range(3) if i < customers.height} | set(member_of))
    for i in sample:
        row = customers.row(i, named=True)
        c = Customer(first_name=row["first_name"], last_name=row["last_name"], display_name=row["display_name"],
                     email=row["email"], phone=row["phone"], external_id=row["external_id"])
        expected = customer_search_text(c, member_of.get(i, ""))
        if row["search_text"] != expected:
            raise RuntimeError(
                f"demo search_text {row['search_text']!r} differs from customer_search_text {expected!r}: "
                "update samphan.demo.generator.search_text_frame to the new rule"
            )


def demo_data_generate(
    *,
    workspace: Any,
    customers: int,
    seed: int = 1,
    orders_per_customer: float = 5.0,
    until: date | None = None,
    catalogue: str = "auto",
    progress: Callable[[int], None] | None = None,
    via: str = "cli",
    workers: int = 2,
    chunk_size: int = CHUNK_CUSTOMERS,
) -> dict[str, Any]:
    """Generate `customers` demo customers with organisations, identities, consent, tags, insights and orders.

    Numbering continues after demo rows already in the workspace (customers
    C0000001…, orders O000000001…, organisations ORG000001…), so running it
    again adds more customers instead of failing on unique constraints.
    `progress(n)` is called with the number of customers written after each chunk.
    On PostgreSQL, `workers` connections load chunks side by side. Each chunk of
    `chunk_size` customers has its own random stream and transaction: the same
    seed gives the same data only with the same chunk size.
    """
    started = time.perf_counter()
    if customers < 0:
        raise ValidationFailed("--customers must be 0 or more")
    if seed < 0:
        raise ValidationFailed("--seed must be 0 or more")
    if not 0 <= orders_per_customer <= 1000:
        raise ValidationFailed("--orders-per-customer must be between 0 and 1000")
    if catalogue == "auto":
        catalogue = catalogue_for(workspace)
    if catalogue not in vocab.CATALOGUES:
        raise ValidationFailed(f"unknown catalogue {catalogue!r}; one of auto, {', '.join(vocab.CATALOGUES)}")
    until = until or timezone.localdate()

    customer_offset = _last_number(Customer.objects.for_workspace(workspace), "C", 7)
    order_offset = _last_number(Order.objects.for_workspace(workspace), "O", 9)
    org_offset = _last_number(Organisation.objects.for_workspace(workspace), "ORG", 6)
    if customer_offset + customers > MAX_CUSTOMER_NUMBER:
        raise ValidationFailed(f"the workspace would pass {MAX_CUSTOMER_NUMBER:,} demo customers")
    if order_offset + customers * max(orders_per_customer, 1) * 3 > MAX_ORDER_NUMBER:
        raise ValidationFailed(f"the workspace would pass {MAX_ORDER_NUMBER:,} demo orders")

    with transaction.atomic():
        products = _ensure_products(workspace, catalogue)
        tag_ids = _ensure_tags(workspace)
        org_count = max(3, round(customers / CUSTOMERS_PER_ORGANISATION)) if customers else 0
        orgs = Organisation.objects.bulk_create([
            Organisation(workspace=workspace, **row)
            for row in org_rows(seed=seed, first_number=org_offset + 1, count=org_count)
        ])
        org_ids = np.array(
            Organisation.objects.for_workspace(workspace)
            .filter(external_id__in=[o.external_id for o in orgs]).order_by("external_id").values_list("pk", flat=True),
            dtype=np.int64,
        )
        org_corporate = np.array([o.kind == Organisation.Kind.CORPORATE for o in orgs], dtype=bool)

    plan = Plan(
        seed=seed, orders_per_customer=orders_per_customer, until=until, catalogue_name=catalogue,
        catalogue=products, calendar=Calendar.build(until, seed), org_ids=org_ids, org_corporate=org_corporate,
        tag_ids=tag_ids,
        insights=[(k, lang, text) for k, lang, text, cat in vocab.INSIGHTS
                  if cat == "any" or catalogue in (cat, "retail")],
    )
    generator = ChunkGenerator(plan)
    writer = writer_for(connection, list(TABLES.values()))
    counts = dict.fromkeys(TABLES, 0)
    counts_lock = threading.Lock()

    def reserve(chunk: Chunk) -> dict[str, int]:
        return {name: writer.reserve_ids(model, chunk.count(name)) for name, model in TABLES.items()}

    def load(chunk: Chunk, starts: dict[str, int] | None) -> None:
        with transaction.atomic():
            writer.begin_chunk()
            frames = chunk.bind(starts or reserve(chunk), workspace.pk)
            done = {name: writer.insert(model, frames[name]) for name, model in TABLES.items()}
            purchase_facts_add_orders(frames["order"]["id"].to_list())
            writer.end_chunk()
        with counts_lock:
            for name, n in done.items():
                counts[name] += n
        if progress:
            progress(chunk.count("customer"))

    def chunks() -> Iterator[Chunk]:
        next_order = order_offset + 1
        for start in range(0, customers, chunk_size):
            chunk = generator.generate(first_number=customer_offset + start + 1,
                                       count=min(chunk_size, customers - start), first_order_number=next_order)
            next_order += chunk.count("order")
            if start == 0:
                _check_search_text(chunk)
            yield chunk

    with writer.session():
        loaders = writer.parallel_loaders(workers)
        if loaders == 1:
            for chunk in _prefetched(chunks()):
                load(chunk, None)  # ids reserved inside the chunk's transaction
        else:
            _load_in_parallel(chunks(), load=load, reserve=reserve, loaders=loaders)
    refresh_planner_statistics(TABLES.values())

    seconds = time.perf_counter() - started
    rows = sum(counts.values()) + len(orgs)
    summary = {
        "workspace": workspace.slug,
        "customers": counts["customer"],
        "orders": counts["order"],
        "order_lines": counts["order_line"],
        "identities": counts["identity"],
        "memberships": counts["membership"],
        "consents": counts["consent"],
        "customer_tags": counts["customer_tag"],
        "insights": counts["insight"],
        "organisations": len(orgs),
        "products": len(products.ids),
        "catalogue": catalogue,
        "seed": seed,
        "orders_per_customer": orders_per_customer,
        "until": until.isoformat(),
        "first_customer": f"C{customer_offset + 1:07d}" if customers else None,
        "database": connection.vendor,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rows / seconds) if seconds else None,
    }
    audit_record(workspace=workspace, action="demo_data.generated", via=via,
                 summary=f"{counts['customer']:,} demo customers, {counts['order']:,} orders (seed {seed})",
                 changes={k: v for k, v in summary.items() if k not in ("seconds", "rows_per_second")})
    return summary
