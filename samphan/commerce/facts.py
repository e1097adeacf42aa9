"""Keeping the purchase facts (PurchaseFact, CategoryPurchaseFact) exactly up to date.

A fact row sums one customer's completed orders over one product (or one product
category): first and last order time, orders, quantity, amount. Every write path of
orders calls one of these, in its own transaction, set-based:

- `purchase_facts_add_orders` — orders that are new (order_create, demo data): their
  lines are added to the customers' rows (`INSERT … ON CONFLICT DO UPDATE` adding counts
  and widening first/last);
- `purchase_facts_add_lines` — the same for the order import, which already holds the new
  orders' lines in memory: they are summed there and only the sums travel (COPY into a
  temporary table on PostgreSQL, one JSON parameter on SQLite), instead of the database
  reading back the rows it was just sent;
- `purchase_facts_refresh_customers` — anything that changes or removes what was
  counted (an imported order whose status, lines or customer changed — refunds and
  cancellations; a customer merge and its undo; PDPA erasure): those customers' rows are
  recomputed from their orders;
- `purchase_facts_rebuild` — a whole workspace from scratch (backfill migration,
  `samphan purchase_facts --rebuild`).

Orders count when completed and linked to a customer; lines count when they point at a
product (category facts: at a product with a category).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl
from django.db import connection, transaction

from samphan.commerce.models import CategoryPurchaseFact, Order, OrderLine, Product, PurchaseFact
from samphan.imports import bulk
from samphan.imports.parsing import scaled_text

FACTS = (PurchaseFact, CategoryPurchaseFact)
_VALUES = ("workspace_id", "customer_id", "{key}", "first_at", "last_at", "orders", "quantity", "amount")


def _key(model: type) -> str:
    return "product_id" if model is PurchaseFact else "category"


def _select(model: type, where: str) -> str:
    """The fact rows of the completed orders matching `where` (on `o`, the order table)."""
    o, line, product = bulk.table(Order), bulk.table(OrderLine), bulk.table(Product)
    if model is PurchaseFact:
        key, join, having = "l.product_id", "", "l.product_id IS NOT NULL"
    else:
        key, join, having = "p.category", f"JOIN {product} p ON p.id = l.product_id", "p.category <> ''"
    # Lines are summed per order first, so an order counts once however many of its lines match;
    # both levels group by hashing (COUNT(DISTINCT) would sort millions of rows).
    return (  # table and column names only; values are parameters
        f"SELECT workspace_id, customer_id, k AS fact_key, MIN(at) AS first_at, MAX(at) AS last_at, "  # noqa: S608
        f"COUNT(*) AS orders, SUM(q) AS quantity, SUM(a) AS amount FROM ("
        f"SELECT o.workspace_id, o.customer_id, {key} AS k, o.id, o.ordered_at AS at, "
        f"SUM(l.quantity) AS q, SUM(l.amount) AS a "
        f"FROM {o} o JOIN {line} l ON l.order_id = o.id {join} "
        f"WHERE {where} AND o.status = %s AND o.customer_id IS NOT NULL AND {having} "
        f"GROUP BY o.workspace_id, o.customer_id, {key}, o.id, o.ordered_at) per_order "
        f"WHERE true GROUP BY workspace_id, customer_id, k"
    )


def _columns(model: type) -> str:
    return ", ".join(c.format(key=_key(model)) for c in _VALUES)


def _on_conflict(model: type, *, add: bool) -> str:
    """The upsert's conflict clause: add to the existing row (add) or replace it."""
    t = bulk.table(model)
    least, greatest = ("LEAST", "GREATEST") if connection.vendor == "postgresql" else ("MIN", "MAX")
    if add:
        update = (f"first_at = {least}({t}.first_at, excluded.first_at), "
                  f"last_at = {greatest}({t}.last_at, excluded.last_at), "
                  f"orders = {t}.orders + excluded.orders, quantity = {t}.quantity + excluded.quantity, "
                  f"amount = {t}.amount + excluded.amount")
    else:
        update = ("first_at = excluded.first_at, last_at = excluded.last_at, orders = excluded.orders, "
                  "quantity = excluded.quantity, amount = excluded.amount")
    return f"ON CONFLICT (customer_id, {_key(model)}) DO UPDATE SET {update}"


def _upsert(model: type, where: str, params: list[Any], *, add: bool) -> None:
    """Insert the fact rows of `where`; on a row that exists, add to it (add) or replace it."""
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {bulk.table(model)} ({_columns(model)}) {_select(model, where)} "
                    f"{_on_conflict(model, add=add)}",
                    [*params, Order.Status.COMPLETED.value])


def purchase_facts_add_lines(*, workspace_id: int, lines: pl.DataFrame) -> None:
    """Add newly written orders to the facts from their lines held in memory.

    `lines` has one row per order line of the new orders: customer_id, order_id, the
    order's time in microseconds since the epoch, UTC (ordered_us), its status, the line's
    product_id (null: none), the product's category ('' : none), quantity in thousandths
    and amount in satang (scaled integers, as the import parses them).
    Same result as purchase_facts_add_orders on the same orders; call once per order.
    """
    lines = lines.filter((pl.col("status") == Order.Status.COMPLETED.value) & pl.col("customer_id").is_not_null())
    if lines.height == 0:
        return
    with transaction.atomic():
        for model in FACTS:
            key = _key(model)
            mine = lines.filter(pl.col(key).is_not_null())
            if model is CategoryPurchaseFact:
                mine = mine.filter(pl.col(key) != "")
            if mine.height == 0:
                continue
            # Lines are summed per order first, so an order counts once however many of its lines match.
            sums = (
                mine.group_by("customer_id", key, "order_id")
                .agg(at=pl.col("ordered_us").first(), q=pl.col("quantity").sum(), a=pl.col("amount").sum())
                .group_by("customer_id", key)
                .agg(f=pl.col("at").min(), l=pl.col("at").max(), n=pl.len(), q=pl.col("q").sum(), a=pl.col("a").sum())
            )
            # In index order: the unique (customer, key) index then grows at one end.
            _upsert_sums(model, workspace_id, sums.sort("customer_id", key))


def _upsert_sums(model: type[PurchaseFact | CategoryPurchaseFact], workspace_id: int, sums: pl.DataFrame) -> None:
    """Upsert (adding) fact rows: customer_id, the key, f and l (µs), n, q (thousandths), a (satang)."""
    t = bulk.table(model)
    key = _key(model)
    if connection.vendor == "postgresql":
        # Through a temporary table filled by COPY: the same rows as one JSON parameter
        # spent more time in json_to_recordset than in the upsert's index work.
        stage = f"samphan_stage_{model._meta.model_name}"
        bulk.stage_frame(stage, f"c bigint, k {'text' if model is CategoryPurchaseFact else 'bigint'}, f timestamptz, l timestamptz, "
                                f"n integer, q numeric, a numeric", sums.select(
            "customer_id", key, bulk.datetime_value(pl.col("f")).alias("f"), bulk.datetime_value(pl.col("l")).alias("l"),
            "n", scaled_text(pl.col("q"), 3).alias("q"), scaled_text(pl.col("a"), 2).alias("a")))
        source = f"SELECT %s, c, k, f, l, n, q, a FROM {bulk.quote(stage)}"  # noqa: S608
        params: list[Any] = [workspace_id]
    else:
        # SQLite keeps decimals as numbers; the division rounds as parsing "123.45" would.
        rows = sums.select(pl.struct(
            c="customer_id", k=key, f=bulk.datetime_value(pl.col("f")), l=bulk.datetime_value(pl.col("l")),
            n="n", q="q", a="a",
        ).struct.json_encode().str.join(",")).item()
        v = "json_extract(value, '$.{}')".format
        source = (f"SELECT %s, {v('c')}, {v('k')}, {v('f')}, {v('l')}, {v('n')}, {v('q')} / 1000.0, "  # noqa: S608
                  f"{v('a')} / 100.0 FROM json_each(%s) WHERE true")  # WHERE: SQLite's upsert-after-SELECT rule
        params = [workspace_id, f"[{rows}]"]
    with connection.cursor() as cur:
        cur.execute(f"INSERT INTO {t} ({_columns(model)}) {source} {_on_conflict(model, add=True)}", params)


def purchase_facts_add_orders(order_ids: Sequence[int]) -> None:
    """Add newly written orders (and their lines) to the facts. Call only once per order."""
    if not order_ids:
        return
    with transaction.atomic():
        for model in FACTS:
            _upsert(model, bulk.in_keys("o.id", integer=True), [bulk.keys_param(order_ids)], add=True)


def purchase_facts_refresh_customers(*, workspace: Any, customer_ids: Sequence[int]) -> None:
    """Recompute these customers' facts from their orders (after a change that is not an addition)."""
    ids = sorted({int(c) for c in customer_ids if c is not None})
    if not ids:
        return
    workspace_id = getattr(workspace, "pk", workspace)
    keys = bulk.keys_param(ids)
    with transaction.atomic(), connection.cursor() as cur:
        for model in FACTS:
            cur.execute(f"DELETE FROM {bulk.table(model)} WHERE workspace_id = %s AND "  # noqa: S608
                        f"{bulk.in_keys('customer_id', integer=True)}", [workspace_id, keys])
            _upsert(model, f"o.workspace_id = %s AND {bulk.in_keys('o.customer_id', integer=True)}",
                    [workspace_id, keys], add=False)


def purchase_facts_rebuild(*, workspace: Any) -> dict[str, int]:
    """Recompute a workspace's facts from all its orders; returns the row counts."""
    workspace_id = getattr(workspace, "pk", workspace)
    counts: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SET LOCAL work_mem = '256MB'")  # the grouping stays in memory
        for model in FACTS:
            cur.execute(f"DELETE FROM {bulk.table(model)} WHERE workspace_id = %s", [workspace_id])  # noqa: S608
            _upsert(model, "o.workspace_id = %s", [workspace_id], add=False)
            cur.execute(f"SELECT COUNT(*) FROM {bulk.table(model)} WHERE workspace_id = %s",  # noqa: S608
                        [workspace_id])
            counts[str(model._meta.model_name)] = cur.fetchone()[0]
        if connection.vendor == "postgresql":
            for model in FACTS:
                cur.execute(f"ANALYZE {bulk.table(model)}")
    return counts


def purchase_facts_differences(*, workspace: Any) -> dict[str, int]:
    """Rows where the stored facts differ from a recomputation from the orders (0 and 0 when exact)."""
    workspace_id = getattr(workspace, "pk", workspace)
    result: dict[str, int] = {}
    with transaction.atomic(), connection.cursor() as cur:
        for model in FACTS:
            t = bulk.table(model)
            key = _key(model)
            cur.execute(f"CREATE TEMP TABLE fact_check AS {_select(model, 'o.workspace_id = %s')}",
                        [workspace_id, Order.Status.COMPLETED.value])
            # Rounded, because SQLite sums decimals as floating point.
            stored = (f"SELECT workspace_id, customer_id, {key}, first_at, last_at, orders, ROUND(quantity, 3), "  # noqa: S608
                      f"ROUND(amount, 2) FROM {t} WHERE workspace_id = %s")
            computed = ("SELECT workspace_id, customer_id, fact_key, first_at, last_at, orders, ROUND(quantity, 3), "
                        "ROUND(amount, 2) FROM fact_check")
            cur.execute(f"SELECT COUNT(*) FROM ({stored} EXCEPT {computed}) stored_only", [workspace_id])  # noqa: S608
            stored_only = cur.fetchone()[0]
            cur.execute(f"SELECT COUNT(*) FROM ({computed} EXCEPT {stored}) computed_only", [workspace_id])  # noqa: S608
            result[str(model._meta.model_name)] = stored_only + cur.fetchone()[0]
            cur.execute("DROP TABLE fact_check")
    return result
