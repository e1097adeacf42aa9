"""Importing orders: validate the whole file as columns, then write orders in chunks.

Rows sharing an order_id are one order (one row per order line is allowed):
the total is the sum of the rows' amounts, the rows must agree on customer_id,
ordered_at and currency (a later row that differs is an error), a row with a
sku becomes an OrderLine, and a negative amount is a refund line. An order with
any bad row is rejected whole and each of its rows is reported.

An order, its lines, and the customer and products it creates are written in
the same transaction (one per chunk of orders), so nothing is half-written.
Re-importing the same file changes nothing: orders are matched by order_id in
the workspace and compared field by field, lines included.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import polars as pl
from django.db import IntegrityError, connection, transaction

from samphan.accounts.models import Workspace
from samphan.commerce.facts import purchase_facts_add_lines, purchase_facts_refresh_customers
from samphan.commerce.models import Order, OrderLine, Product
from samphan.customers.models import Customer
from samphan.customers.services import customer_search_text
from samphan.imports import bulk
from samphan.imports.currencies import ISO_4217
from samphan.imports.parsing import (
    MONEY,
    PRICE,
    QUANTITY,
    parse_datetimes,
    parse_numbers,
    scaled_text,
)
from samphan.imports.reading import ROW, ImportFileError, Table
from samphan.imports.summary import ImportSummary, Progress

REQUIRED = ("order_id", "customer_id", "ordered_at", "amount")
OPTIONAL = ("currency", "channel", "sku", "quantity", "unit_price", "discount", "status")
STATUSES = tuple(Order.Status.values)
# Error columns in the order they are reported for one row.
FIELDS = ("order_id", "customer_id", "ordered_at", "amount", "currency", "channel", "sku",
          "quantity", "unit_price", "discount", "status")
MAX_TOTAL = 10**14  # Order.total: 14 digits, 2 decimal places, in satang
MAX_UNIT_PRICE = 10**12
# Orders per transaction. SQLite rewrites every index page a transaction touched
# into its WAL on commit, so it gets bigger chunks; each chunk holds the write lock.
CHUNK_ORDERS = {"sqlite": 50_000, "postgresql": 20_000}


def check_columns(table: Table) -> list[str]:
    """The names of columns this kind does not use (raises if a required one is missing)."""
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ImportFileError(f"missing required column{'s' if len(missing) > 1 else ''}: {', '.join(missing)}")
    return [c for c in table.columns if c not in REQUIRED + OPTIONAL]


def _text_rule(name: str, max_length: int, *, required: bool = False) -> pl.Expr:
    col = pl.col(name)
    rule = pl.when(col.is_null()).then(pl.lit("missing" if required else None, pl.String))
    return rule.when(col.str.len_chars() > max_length).then(pl.lit(f"longer than {max_length} characters"))


def validate(frame: pl.DataFrame, *, time_zone: str, default_currency: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(parsed rows with an `_error` flag, errors frame with row/field/reason)."""
    frame = frame.with_columns([pl.lit(None, pl.String).alias(c) for c in OPTIONAL if c not in frame.columns])
    ordered_at, ordered_at_error = parse_datetimes(frame["ordered_at"], time_zone)
    amount, amount_error = parse_numbers(frame["amount"], MONEY)
    quantity, quantity_error = parse_numbers(frame["quantity"], QUANTITY)
    unit_price, unit_price_error = parse_numbers(frame["unit_price"], PRICE)
    discount, discount_error = parse_numbers(frame["discount"], PRICE)
    frame = frame.with_columns(
        v_ordered_us=ordered_at.dt.epoch("us"), x_ordered_at=ordered_at_error,
        v_amount=amount, x_amount=amount_error, v_quantity=quantity, x_quantity=quantity_error,
        v_unit_price=unit_price, e_unit_price=unit_price_error, v_discount=discount, e_discount=discount_error,
    )
    currency = pl.col("currency").str.to_uppercase()
    status = pl.col("status").str.to_lowercase()
    parsed = frame.with_columns(
        v_quantity=pl.col("v_quantity").fill_null(QUANTITY.scale),
        v_discount=pl.col("v_discount").fill_null(0),
        v_currency=currency.fill_null(pl.lit(default_currency)),
        v_status=status,
        e_order_id=_text_rule("order_id", 100, required=True),
        e_customer_id=_text_rule("customer_id", 100, required=True),
        e_ordered_at=pl.when(pl.col("ordered_at").is_null()).then(pl.lit("missing")).otherwise(pl.col("x_ordered_at")),
        e_amount=pl.when(pl.col("amount").is_null()).then(pl.lit("missing")).otherwise(pl.col("x_amount")),
        e_currency=pl.when(currency.is_not_null() & ~currency.is_in(sorted(ISO_4217)))
        .then(pl.format("unknown currency code {}", pl.col("currency"))),
        e_channel=_text_rule("channel", 64),
        e_sku=_text_rule("sku", 64),
        e_quantity=pl.when(pl.col("x_quantity").is_not_null()).then(pl.col("x_quantity"))
        .when(pl.col("v_quantity") == 0).then(pl.lit("must not be 0")),
        e_status=pl.when(status.is_not_null() & ~status.is_in(STATUSES))
        .then(pl.lit(f"unknown status (use {', '.join(STATUSES)})")),
    )
    # A line without a unit price costs amount ÷ quantity.
    computed_unit = (pl.col("v_amount").cast(pl.Float64) * QUANTITY.scale / pl.col("v_quantity")).round(0)
    parsed = parsed.with_columns(
        v_unit_price=pl.coalesce(pl.col("v_unit_price"), computed_unit.cast(pl.Int64, strict=False)),
        e_unit_price=pl.coalesce(
            pl.col("e_unit_price"),
            pl.when(pl.col("v_unit_price").is_null() & pl.col("sku").is_not_null() & (computed_unit.abs() >= MAX_UNIT_PRICE))
            .then(pl.lit("too large (amount ÷ quantity); give unit_price")),
        ),
    )

    # Rows of one order must agree with its first row. Window functions over a
    # string key are slow on a million rows, so: a dense integer id per order,
    # rows sorted by (order, file row), and each row's order's first row found
    # by index.
    parsed = parsed.with_columns(gid=pl.col("order_id").rank("dense")).sort(["gid", ROW], nulls_last=True)
    gid = pl.col("gid")
    parsed = parsed.with_columns(
        _first=pl.when((gid != gid.shift(1)).fill_null(True)).then(pl.int_range(pl.len())).forward_fill(),
    )
    key = "order_id"
    has_key = gid.is_not_null()

    def first(name: str) -> pl.Expr:
        return pl.col(name).gather(pl.col("_first"))

    first_row, first_customer, first_time = first(ROW), first("customer_id"), first("v_ordered_us")
    parsed = parsed.with_columns(
        e_customer_id=pl.coalesce(
            pl.col("e_customer_id"),
            pl.when(has_key & first_customer.is_not_null() & (pl.col("customer_id") != first_customer))
            .then(pl.format("order {} has customer {} on row {}", pl.col(key), first_customer, first_row)),
        ),
        e_ordered_at=pl.coalesce(
            pl.col("e_ordered_at"),
            pl.when(has_key & first_time.is_not_null() & pl.col("v_ordered_us").is_not_null()
                    & (pl.col("v_ordered_us") != first_time))
            .then(pl.format("order {} was placed at {} on row {}", pl.col(key), first("ordered_at"), first_row)),
        ),
        e_currency=pl.coalesce(
            pl.col("e_currency"),
            pl.when(has_key & pl.col("e_currency").is_null() & (pl.col("v_currency") != first("v_currency")))
            .then(pl.format("order {} is in {} on row {}", pl.col(key), first("v_currency"), first_row)),
        ),
        _total=pl.col("v_amount").sum().over("gid"),
        _discounts=pl.col("v_discount").sum().over("gid"),
    )
    parsed = parsed.with_columns(
        e_amount=pl.coalesce(
            pl.col("e_amount"),
            pl.when(has_key & (pl.col(ROW) == first_row)
                    & ((pl.col("_total").abs() >= MAX_TOTAL) | (pl.col("_discounts").abs() >= MAX_TOTAL)))
            .then(pl.lit("the order's total is too large")),
        ),
    )
    error_columns = [f"e_{f}" for f in FIELDS]
    parsed = parsed.with_columns(_bad=pl.any_horizontal([pl.col(c).is_not_null() for c in error_columns]))
    parsed = parsed.with_columns(
        _order_bad=pl.col("_bad").any().over("gid"),
        _first_bad=pl.when(pl.col("_bad")).then(pl.col(ROW)).min().over("gid"),
    )
    parsed = parsed.with_columns(
        e_order_id=pl.coalesce(
            pl.col("e_order_id"),
            pl.when(has_key & ~pl.col("_bad") & pl.col("_order_bad"))
            .then(pl.format("order {} is rejected: row {} has an error", pl.col(key), pl.col("_first_bad"))),
        ),
        _error=pl.col("_bad") | (has_key & pl.col("_order_bad")),
    )
    errors = pl.concat([
        parsed.filter(pl.col(f"e_{f}").is_not_null()).select(
            pl.col(ROW).alias("row"), pl.lit(f).alias("field"), pl.col(f"e_{f}").alias("reason"),
            pl.lit(i).alias("_order"),
        )
        for i, f in enumerate(FIELDS)
    ]).sort("row", "_order").drop("_order")
    return parsed, errors


def _orders_and_lines(good: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One row per order (good is sorted by gid, so group_by keeps that order) and the lines."""
    orders = good.group_by("gid", maintain_order=True).agg(
        order_id=pl.col("order_id").first(),
        customer_id=pl.col("customer_id").first(),
        ordered_us=pl.col("v_ordered_us").first(),
        currency=pl.col("v_currency").first(),
        channel=pl.col("channel").drop_nulls().first().fill_null(""),
        status=pl.col("v_status").drop_nulls().first().fill_null(Order.Status.COMPLETED.value),
        total=pl.col("v_amount").sum(),
        discount_total=pl.col("v_discount").sum(),
        n_rows=pl.len(),
        first_row=pl.col(ROW).first(),
    )
    lines = good.filter(pl.col("sku").is_not_null()).select(
        "gid", "order_id", "sku", pl.col("v_quantity").alias("quantity"),
        pl.col("v_unit_price").alias("unit_price"), pl.col("v_discount").alias("discount"),
        pl.col("v_amount").alias("amount"),
    )
    return orders, lines


def _line_signatures(lines: pl.DataFrame) -> pl.DataFrame:
    """order_id → the order's lines as one comparable text (in file order)."""
    return lines.group_by("order_id", maintain_order=True).agg(
        lines=pl.format("{}|{}|{}|{}|{}", "sku", "quantity", "unit_price", "discount", "amount").str.join("\n"),
    )


def import_orders(
    *, workspace: Any, table: Table, actor: Any = None, via: str = "cli", progress: Progress | None = None,
    chunk_orders: int | None = None,
) -> ImportSummary:
    chunk_orders = chunk_orders or CHUNK_ORDERS[bulk.vendor()]
    summary = ImportSummary(kind="orders", rows=table.rows)
    summary.ignored_columns = check_columns(table)
    parsed, errors = validate(table.frame, time_zone=workspace.time_zone,
                              default_currency=workspace.default_currency or "THB")
    summary.add_errors(errors)
    good = parsed.filter(~pl.col("_error"))
    orders, lines = _orders_and_lines(good)
    done = table.rows - good.height
    if progress:
        progress(done, table.rows)

    writer = _OrderWriter(workspace)
    # A workspace without orders (a first import) has nothing to compare with: chunks skip
    # reading stored orders back. Only a writer running beside the import can break that
    # assumption, and then the unique order id makes the chunk fail; it is written again
    # the careful way, as is the rest of the file.
    writer.assume_new = not bulk.fetch(
        f"SELECT 1 FROM {bulk.table(Order)} WHERE {bulk.column(Order, 'workspace')} = %s LIMIT 1",  # noqa: S608
        [workspace.pk])
    orders = orders.with_columns(_chunk=(pl.int_range(pl.len()) // chunk_orders))
    lines = lines.join(orders.select("gid", "_chunk"), on="gid", how="left", maintain_order="left")
    line_chunks = lines.partition_by("_chunk", as_dict=True, include_key=False)
    chunks = [(chunk, line_chunks.get((index,), lines.clear().drop("_chunk")))
              for (index,), chunk in orders.partition_by("_chunk", as_dict=True, include_key=False).items()]

    def chunk_done(chunk: pl.DataFrame) -> None:
        nonlocal done
        writer.statistics.refresh()
        done += int(chunk["n_rows"].sum())
        if progress:
            progress(done, table.rows)

    if bulk.vendor() == "postgresql" and len(chunks) > 1 and not connection.in_atomic_block:
        # What two writers could collide on is created first, in one transaction of its own.
        with transaction.atomic():
            writer.write_parents(orders, lines, summary)
        writer.statistics.refresh()
        _write_in_parallel(writer, workspace, chunks, summary, chunk_done)
        return summary
    # Every parent a chunk points at (workspace, customers, products, orders) is read
    # or written inside that chunk's transaction: see _OrderWriter.write.
    with bulk.bulk_session(parents_checked=True):
        for chunk, chunk_lines in chunks:
            _write_chunk(writer, chunk, chunk_lines, summary)
            chunk_done(chunk)
    return summary


def _write_chunk(writer: _OrderWriter, chunk: pl.DataFrame, lines: pl.DataFrame, summary: ImportSummary) -> None:
    """One chunk in one transaction; again without assume_new if that assumption broke."""
    counts = (summary.imported, summary.updated, summary.unchanged, summary.customers_created)
    try:
        with transaction.atomic():
            writer.write(chunk, lines, summary)
    except IntegrityError:
        if not writer.assume_new:
            raise
        writer.assume_new = False
        summary.imported, summary.updated, summary.unchanged, summary.customers_created = counts
        with transaction.atomic():
            writer.write(chunk, lines, summary)


PARALLEL_WRITERS = 2


def _write_in_parallel(writer: _OrderWriter, workspace: Any, chunks: list[tuple[pl.DataFrame, pl.DataFrame]],
                       summary: ImportSummary, chunk_done: Callable[[pl.DataFrame], None]) -> None:
    """PostgreSQL: chunks written by two connections at once, each chunk still one transaction.

    One connection spends most of a chunk waiting for the server, the server most of it
    waiting for the next statement: two writers keep both busy (and both cores of a small
    machine). What two writers could collide on, the file's new customers and products, the
    caller has created already (write_parents). Each chunk looks them up again in its
    own transaction (following merges), as the sequential path does. Orders of different
    chunks are different orders; fact rows are upserted in (customer, key) order by both
    writers, so they wait for each other rather than deadlock.
    """
    todo: queue.Queue[tuple[pl.DataFrame, pl.DataFrame]] = queue.Queue()
    for item in chunks:
        todo.put(item)
    finished: queue.Queue[tuple[pl.DataFrame, ImportSummary | None, dict[str, int], BaseException | None]] = \
        queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                try:
                    chunk, lines = todo.get_nowait()
                except queue.Empty:
                    return
                own = _OrderWriter(workspace)
                own.assume_new = writer.assume_new
                counts = ImportSummary(kind="orders")
                try:
                    _write_chunk(own, chunk, lines, counts)
                except BaseException as exc:  # handed to the caller's thread, which raises it
                    finished.put((chunk, None, {}, exc))
                    return
                if not own.assume_new:
                    writer.assume_new = False
                finished.put((chunk, counts, own.statistics.written, None))
        finally:
            connection.close()  # this thread's own connection

    threads = [threading.Thread(target=work, name=f"samphan-import-{i}", daemon=True)
               for i in range(PARALLEL_WRITERS)]
    for thread in threads:
        thread.start()
    try:
        for _ in chunks:
            chunk, counts, written, error = finished.get()
            if error is not None:
                raise error
            assert counts is not None
            for table_name, n in written.items():  # the main thread analyses (chunk_done)
                writer.statistics.written[table_name] = writer.statistics.written.get(table_name, 0) + n
            summary.imported += counts.imported
            summary.updated += counts.updated
            summary.unchanged += counts.unchanged
            summary.customers_created += counts.customers_created
            chunk_done(chunk)
    finally:
        stop.set()
        for thread in threads:
            thread.join()


class _OrderWriter:
    """Writes one chunk of orders at a time, remembering customers and products it has seen."""

    def __init__(self, workspace: Any) -> None:
        self.workspace_id = workspace.pk
        self.customers: dict[str, int] = {}  # external id → pk (the survivor when merged)
        self.products: dict[str, int] = {}  # sku → pk
        self.categories: dict[str, str] = {}  # sku → the product's category ('' : none)
        self.statistics = bulk.Statistics(Customer, Order, OrderLine)
        self.assume_new = False  # True: no order of this file can be stored already (see import_orders)

    # --- customers and products ------------------------------------------------
    def _resolve_customers(self, external_ids: list[str], summary: ImportSummary) -> None:
        wanted = [e for e in external_ids if e not in self.customers]
        if not wanted:
            return
        rows = bulk.fetch_by_keys(
            f"SELECT {bulk.column(Customer, 'external_id')}, {bulk.column(Customer, 'id')}, "  # noqa: S608
            f"{bulk.column(Customer, 'merged_into')} FROM {bulk.table(Customer)} "
            f"WHERE {bulk.column(Customer, 'workspace')} = %s AND {bulk.in_keys(bulk.column(Customer, 'external_id'))}",
            [self.workspace_id], wanted,
        )
        merged: dict[str, int] = {}
        for external_id, pk, merged_into in rows:
            self.customers[external_id] = pk
            if merged_into:
                merged[external_id] = merged_into
        for _depth in range(10):  # follow merges to the surviving customer
            if not merged:
                break
            survivors = dict(bulk.fetch_by_keys(
                f"SELECT {bulk.column(Customer, 'id')}, {bulk.column(Customer, 'merged_into')} "  # noqa: S608
                f"FROM {bulk.table(Customer)} WHERE {bulk.column(Customer, 'workspace')} = %s "
                f"AND {bulk.in_keys(bulk.column(Customer, 'id'), integer=True)}",
                [self.workspace_id], sorted(set(merged.values())),
            ))
            next_round = {}
            for external_id, pk in merged.items():
                self.customers[external_id] = pk
                if survivors.get(pk):
                    next_round[external_id] = survivors[pk]
            merged = next_round
        missing = [e for e in wanted if e not in self.customers]
        if not missing:
            return
        missing.sort()  # the unique (workspace, external_id) index then grows in order
        ids = bulk.reserve_ids(Customer, len(missing))
        blank = {"first_name": "", "last_name": "", "display_name": "", "email": "", "phone": ""}
        search = [customer_search_text(SimpleNamespace(**blank, external_id=e)) for e in missing]  # type: ignore[arg-type]
        bulk.insert_frame(Customer, pl.DataFrame({
            "id": ids, "workspace_id": [self.workspace_id] * len(ids), "external_id": missing,
            "search_text": search,
        }, schema={"id": pl.Int64, "workspace_id": pl.Int64, "external_id": pl.String, "search_text": pl.String}))
        self.customers.update(zip(missing, ids, strict=True))
        self.statistics.wrote(Customer, len(missing))
        summary.customers_created += len(missing)

    def _resolve_products(self, skus: list[str]) -> None:
        wanted = [s for s in skus if s not in self.products]
        if not wanted:
            return
        rows = bulk.fetch_by_keys(
            f"SELECT {bulk.column(Product, 'sku')}, {bulk.column(Product, 'id')}, "  # noqa: S608
            f"{bulk.column(Product, 'category')} FROM {bulk.table(Product)} "
            f"WHERE {bulk.column(Product, 'workspace')} = %s AND {bulk.in_keys(bulk.column(Product, 'sku'))}",
            [self.workspace_id], wanted,
        )
        for sku, pk, category in rows:
            self.products[sku] = pk
            self.categories[sku] = category or ""
        missing = [s for s in wanted if s not in self.products]
        if missing:
            ids = bulk.reserve_ids(Product, len(missing))
            bulk.insert_frame(Product, pl.DataFrame({
                "id": ids, "workspace_id": [self.workspace_id] * len(ids), "sku": missing, "name": missing,
            }, schema={"id": pl.Int64, "workspace_id": pl.Int64, "sku": pl.String, "name": pl.String}))
            self.products.update(zip(missing, ids, strict=True))
            self.categories.update(dict.fromkeys(missing, ""))

    # --- what is stored --------------------------------------------------------
    def _existing(self, order_ids: list[str]) -> pl.DataFrame:
        o = bulk.column
        schema = {"id": pl.Int64, "order_id": pl.String, "s_customer": pl.Int64, "s_ordered_at": pl.String,
                  "s_total": pl.Int64, "s_discount_total": pl.Int64, "s_currency": pl.String,
                  "s_channel": pl.String, "s_status": pl.String}
        stored = bulk.fetch_frame_by_keys(
            f"SELECT {o(Order, 'id')}, {o(Order, 'external_id')}, {o(Order, 'customer')}, "  # noqa: S608
            f"{bulk.datetime_text_sql(o(Order, 'ordered_at'))}, {bulk.scaled_sql(o(Order, 'total'), 2)}, "
            f"{bulk.scaled_sql(o(Order, 'discount_total'), 2)}, {o(Order, 'currency')}, {o(Order, 'channel')}, "
            f"{o(Order, 'status')} FROM {bulk.table(Order)} "
            f"WHERE {o(Order, 'workspace')} = %s AND {bulk.in_keys(o(Order, 'external_id'))}",
            [self.workspace_id], order_ids, schema,
        ).with_columns(pl.col("s_channel").fill_null(""))
        if stored.height == 0:
            return stored.with_columns(s_ordered_us=pl.lit(None, pl.Int64), s_lines=pl.lit(None, pl.String))
        # By order id only: the ids come from the workspace-scoped query above, and a
        # workspace filter here tempts SQLite into scanning the workspace's lines.
        stored_lines = bulk.fetch_frame_by_keys(
            f"SELECT {o(OrderLine, 'order')}, {o(OrderLine, 'sku')}, {bulk.scaled_sql(o(OrderLine, 'quantity'), 3)}, "  # noqa: S608
            f"{bulk.scaled_sql(o(OrderLine, 'unit_price'), 2)}, {bulk.scaled_sql(o(OrderLine, 'discount'), 2)}, "
            f"{bulk.scaled_sql(o(OrderLine, 'amount'), 2)} FROM {bulk.table(OrderLine)} "
            f"WHERE {bulk.in_keys(o(OrderLine, 'order'), integer=True)} "
            f"ORDER BY {o(OrderLine, 'order')}, {o(OrderLine, 'id')}",
            [], stored["id"].to_list(),
            {"id": pl.Int64, "sku": pl.String, "q": pl.Int64, "u": pl.Int64, "d": pl.Int64, "a": pl.Int64},
        ).with_columns(pl.col("sku").fill_null(""))
        stored_lines = stored_lines.group_by("id", maintain_order=True).agg(
            s_lines=pl.format("{}|{}|{}|{}|{}", "sku", "q", "u", "d", "a").str.join("\n"),
        )
        return stored.join(stored_lines, on="id", how="left").with_columns(
            s_ordered_us=bulk.datetime_text_to_us(pl.col("s_ordered_at")),
            s_lines=pl.col("s_lines").fill_null(""),
        )

    def _check_workspace(self) -> None:
        if not bulk.fetch(f"SELECT 1 FROM {bulk.table(Workspace)} WHERE {bulk.quote('id')} = %s",  # noqa: S608
                          [self.workspace_id]):
            raise ImportFileError("the workspace no longer exists")

    # --- the parents of the whole file (parallel writing) -----------------------
    def write_parents(self, orders: pl.DataFrame, lines: pl.DataFrame, summary: ImportSummary) -> None:
        """Create the customers and products the orders need (they are looked up again per chunk)."""
        self._check_workspace()
        self._resolve_customers(orders["customer_id"].unique(maintain_order=True).to_list(), summary)
        self._resolve_products(lines["sku"].unique(maintain_order=True).to_list())

    # --- one chunk -------------------------------------------------------------
    def write(self, orders: pl.DataFrame, lines: pl.DataFrame, summary: ImportSummary) -> None:
        # Parents are looked up again in each chunk's transaction, never carried over
        # from an earlier one: with SQLite's foreign-key checks off during an import
        # (bulk_session), that is what guarantees every reference points at a row.
        self.customers.clear()
        self.products.clear()
        self.categories.clear()
        self._check_workspace()
        self._resolve_customers(orders["customer_id"].unique(maintain_order=True).to_list(), summary)
        self._resolve_products(lines["sku"].unique(maintain_order=True).to_list())
        chunk_customers = {key: self.customers[key] for key in orders["customer_id"].unique().to_list()}
        orders = orders.with_columns(
            customer_pk=pl.col("customer_id").replace_strict(chunk_customers, return_dtype=pl.Int64),
        )
        stored = self._existing([] if self.assume_new else orders["order_id"].to_list())
        orders = orders.join(stored, on="order_id", how="left", maintain_order="left")
        if stored.height:  # compare lines only where there is something to compare with
            present = lines.filter(pl.col("order_id").is_in(stored["order_id"].implode()))
            orders = orders.join(_line_signatures(present), on="order_id", how="left", maintain_order="left")
            orders = orders.with_columns(pl.col("lines").fill_null(""))
        else:
            orders = orders.with_columns(lines=pl.lit("", pl.String))
        same = (
            (pl.col("s_customer") == pl.col("customer_pk")).fill_null(False)
            & (pl.col("s_ordered_us") == pl.col("ordered_us"))
            & (pl.col("s_total") == pl.col("total"))
            & (pl.col("s_discount_total") == pl.col("discount_total"))
            & (pl.col("s_currency") == pl.col("currency"))
            & (pl.col("s_channel") == pl.col("channel"))
            & (pl.col("s_status") == pl.col("status"))
            & (pl.col("s_lines") == pl.col("lines"))
        )
        orders = orders.with_columns(
            _state=pl.when(pl.col("id").is_null()).then(pl.lit("new"))
            .when(same.fill_null(False)).then(pl.lit("same")).otherwise(pl.lit("changed")),
        )
        new = orders.filter(pl.col("_state") == "new")
        changed = orders.filter(pl.col("_state") == "changed")
        summary.imported += int(new["n_rows"].sum())
        summary.updated += int(changed["n_rows"].sum())
        summary.unchanged += int(orders.filter(pl.col("_state") == "same")["n_rows"].sum())

        # New orders go in by customer: the two indexes that start with the customer
        # then grow in order instead of at random places (SQLite feels that most).
        new = new.sort("customer_pk", "ordered_us")
        new = new.with_columns(id=pl.Series(bulk.reserve_ids(Order, new.height), dtype=pl.Int64))
        bulk.insert_frame(Order, new.select(
            "id", pl.lit(self.workspace_id, pl.Int64).alias("workspace_id"),
            pl.col("order_id").alias("external_id"), pl.col("customer_pk").alias("customer_id"),
            bulk.datetime_value(pl.col("ordered_us")).alias("ordered_at"), "channel",
            scaled_text(pl.col("total"), 2).alias("total"),
            scaled_text(pl.col("discount_total"), 2).alias("discount_total"), "currency", "status",
        ))
        self.statistics.wrote(Order, new.height)
        if changed.height:
            values = changed.select(
                "customer_pk", bulk.datetime_value(pl.col("ordered_us")), "channel", scaled_text(pl.col("total"), 2),
                scaled_text(pl.col("discount_total"), 2).alias("d"), "currency", "status", "id",
            ).rows()
            bulk.update_rows(Order, ["customer", "ordered_at", "channel", "total", "discount_total", "currency",
                                     "status"], values)
            bulk.delete_where_in(OrderLine, "order", changed["id"].to_list())
        written = pl.concat([new.select("order_id", "id"), changed.select("order_id", "id")])
        out_lines = lines.join(written, on="order_id", how="inner", maintain_order="left")
        if out_lines.height:
            out_lines = out_lines.with_columns(
                line_id=pl.Series(bulk.reserve_ids(OrderLine, out_lines.height), dtype=pl.Int64),
                product_id=pl.col("sku").replace_strict(
                    {sku: self.products[sku] for sku in out_lines["sku"].unique().to_list()}, return_dtype=pl.Int64),
            )
            # Ids follow the file; rows go in by sku, so the three indexes on the
            # product grow in order rather than at random places.
            bulk.insert_frame(OrderLine, out_lines.sort("sku", "line_id").select(
                pl.col("line_id").alias("id"), pl.lit(self.workspace_id, pl.Int64).alias("workspace_id"),
                pl.col("id").alias("order_id"), "product_id", "sku",
                scaled_text(pl.col("quantity"), 3).alias("quantity"),
                scaled_text(pl.col("unit_price"), 2).alias("unit_price"),
                scaled_text(pl.col("discount"), 2).alias("discount"),
                scaled_text(pl.col("amount"), 2).alias("amount"),
            ))
            self.statistics.wrote(OrderLine, out_lines.height)
        # Purchase facts in the same transaction: new orders add to them; a changed order
        # (status, lines, customer) has its old and new customer's facts recomputed.
        # The new orders' lines are in memory already: the facts are summed here.
        fact_lines = out_lines.filter(pl.col("id").is_in(new["id"].implode())) if out_lines.height else out_lines
        if fact_lines.height:
            fact_lines = fact_lines.join(new.select("id", "customer_pk", "ordered_us", "status"), on="id")
            purchase_facts_add_lines(workspace_id=self.workspace_id, lines=fact_lines.select(
                pl.col("customer_pk").alias("customer_id"), pl.col("id").alias("order_id"), "ordered_us", "status",
                "product_id", pl.col("sku").replace_strict(self.categories, return_dtype=pl.String).alias("category"),
                "quantity", "amount",
            ))
        if changed.height:
            purchase_facts_refresh_customers(
                workspace=self.workspace_id,
                customer_ids=pl.concat([changed["s_customer"], changed["customer_pk"]]).drop_nulls().unique().to_list())
