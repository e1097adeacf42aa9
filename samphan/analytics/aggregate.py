"""One pass of SQL over a workspace's orders: the per-customer figures every model needs.

The database does the heavy part (10M orders → 1M rows): orders of the same
local calendar day are merged into one purchase day, then each customer gets
the number of purchase days, first / second / last day, order count, spend,
the value of the first day (the Gamma-Gamma model wants repeat purchases
only), discounted orders, and the purchase days and spend inside the RFM
period and the lifecycle window. Only completed orders count.

Days are integers: days since 1970-01-01 in the workspace's time zone. On
PostgreSQL that is exact (AT TIME ZONE); SQLite has no time-zone database, so
it applies the zone's UTC offset on the as-of date (exact for zones without
daylight saving, such as Asia/Bangkok).

Database-specific code stays here behind `connection.vendor`.
"""

# SQL here is composed from module constants and column names; values are always bound.
# ruff: noqa: S608

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from django.db import connection

from samphan.analytics.summary import day_number

COLUMNS = ("customer_id", "purchase_days", "first_day", "second_day", "last_day", "order_count", "total_spend",
           "first_value", "discounted_orders", "period_days", "period_spend", "window_days", "window_spend")

_DAYS_CTE = """
days AS (
    SELECT customer_id, {day} AS d, SUM(total) AS v, COUNT(*) AS n,
           SUM(CASE WHEN discount_total > 0 THEN 1 ELSE 0 END) AS nd
    FROM commerce_order
    WHERE workspace_id = %(ws)s AND status = 'completed' AND customer_id IS NOT NULL
          AND {ts} < %(end)s {since} {range}
    GROUP BY customer_id, {day}
)"""

_PER_CUSTOMER = """
WITH {days_cte},
ranked AS (
    SELECT customer_id, d, v, n, nd, ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY d) AS k FROM days
)
SELECT customer_id,
       COUNT(*) AS purchase_days,
       MIN(d) AS first_day,
       MAX(CASE WHEN k = 2 THEN d END) AS second_day,
       MAX(d) AS last_day,
       SUM(n) AS order_count,
       CAST(SUM(v) AS {float}) AS total_spend,
       CAST(SUM(CASE WHEN k = 1 THEN v ELSE 0 END) AS {float}) AS first_value,
       SUM(nd) AS discounted_orders,
       SUM(CASE WHEN d >= %(period_start)s THEN 1 ELSE 0 END) AS period_days,
       CAST(SUM(CASE WHEN d >= %(period_start)s THEN v ELSE 0 END) AS {float}) AS period_spend,
       SUM(CASE WHEN d >= %(window_start)s THEN 1 ELSE 0 END) AS window_days,
       CAST(SUM(CASE WHEN d >= %(window_start)s THEN v ELSE 0 END) AS {float}) AS window_spend
FROM ranked
GROUP BY customer_id
"""

_SPEND = """
SELECT customer_id, CAST(SUM(total) AS {float}) AS spend
FROM commerce_order
WHERE workspace_id = %(ws)s AND status = 'completed' AND customer_id IS NOT NULL
      AND {ts} < %(end)s {since}
GROUP BY customer_id
"""


def local_day_start(day: date, tz_name: str) -> datetime:
    """The instant a local calendar day begins in the zone."""
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name))


def _sql_parts(tz_name: str, on: date) -> dict[str, str]:
    if connection.vendor == "postgresql":
        return {"day": "((ordered_at AT TIME ZONE %(tz)s)::date - DATE '1970-01-01')", "float": "float8",
                "ts": "ordered_at"}
    offset = int(local_day_start(on, tz_name).utcoffset().total_seconds())  # type: ignore[union-attr]
    # unixepoch() reads Django's stored UTC text; integer division floors for dates after 1970.
    # "+ordered_at" keeps SQLite on the (workspace, customer, ordered_at) index, which reads a
    # customer's orders together; the (workspace, ordered_at) index costs twice the time.
    return {"day": f"((unixepoch(ordered_at) + {offset}) / 86400)", "float": "REAL", "ts": "+ordered_at"}


def _render(template: str, tz_name: str, on: date, *, since: bool, id_range: bool = False) -> str:
    parts = _sql_parts(tz_name, on)
    return (template.replace("{days_cte}", _DAYS_CTE).replace("{day}", parts["day"])
            .replace("{range}", "AND customer_id >= %(lo)s AND customer_id < %(hi)s" if id_range else "")
            .replace("{float}", parts["float"]).replace("{ts}", parts["ts"])
            .replace("{since}", f"AND {parts['ts']} >= %(start)s" if since else ""))


def _params(**values: object) -> dict[str, object]:
    ops = connection.ops
    return {k: ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for k, v in values.items()}


@dataclass(frozen=True)
class CustomerAggregates:
    frame: pl.DataFrame  # COLUMNS, one row per customer with at least one completed order, sorted by id

    def column(self, name: str) -> np.ndarray:
        return self.frame[name].to_numpy()


def customer_aggregates(*, workspace_id: int, tz_name: str, as_of: date, period_days: int,
                        window_days: int, id_range: tuple[int, int] | None = None) -> CustomerAggregates:
    """Per-customer purchase figures over completed orders up to the end of `as_of` (local).

    `id_range` (lo, hi) limits it to customers with lo <= id < hi, so that parallel
    connections can each take a share (see `parallel_reads`).
    """
    end = local_day_start(as_of + timedelta(days=1), tz_name)
    as_of_day = day_number(as_of)
    lo, hi = id_range or (None, None)
    params = _params(ws=workspace_id, end=end, tz=tz_name, period_start=as_of_day - period_days + 1,
                     window_start=as_of_day - window_days + 1, lo=lo, hi=hi)
    sql = _render(_PER_CUSTOMER, tz_name, as_of, since=False, id_range=id_range is not None)
    schema = {c: pl.Float64 if c.endswith(("spend", "value")) or c == "second_day" else pl.Int64 for c in COLUMNS}
    frame = fetch_frame(sql, params, COLUMNS, schema).sort("customer_id")
    return CustomerAggregates(frame=frame)


def customer_id_ranges(workspace_id: int, parts: int) -> list[tuple[int, int]]:
    """Split the workspace's customer ids into `parts` contiguous ranges of equal width."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT MIN(id), MAX(id) FROM customers_customer WHERE workspace_id = %s", [workspace_id])
        low, high = cursor.fetchone()
    if low is None:
        return [(0, 1)]
    bounds = np.linspace(low, high + 1, parts + 1).round().astype(np.int64)
    return [(int(a), int(b)) for a, b in itertools.pairwise(bounds) if b > a]


def can_read_in_parallel() -> bool:
    """Parallel reads use other connections, which see only committed data: outside a transaction.

    PostgreSQL runs each connection in its own backend; SQLite (a file in WAL mode) lets
    readers run side by side, and Python's sqlite3 releases the GIL while a query runs.
    """
    if connection.in_atomic_block:
        return False
    if connection.vendor == "postgresql":
        return True
    name = str(connection.settings_dict.get("NAME", ""))
    return connection.vendor == "sqlite" and ":memory:" not in name and "mode=memory" not in name


def parallel_reads(tasks: list[Callable[[], Any]]) -> list[Any]:
    """Run read-only database tasks in threads, one connection each (Django's are per thread).

    Each query runs in its own PostgreSQL backend (or SQLite, with the GIL released), so on
    a 2-core machine two halves of the aggregation finish in about half the time.
    """

    def run(task: Callable[[], Any]) -> Any:
        try:
            return task()
        finally:
            connection.close()  # this thread's connection

    with ThreadPoolExecutor(max_workers=len(tasks), thread_name_prefix="analytics-read") as pool:
        return list(pool.map(run, tasks))


def customer_spend(*, workspace_id: int, tz_name: str, start: date | None, end: date | None) -> np.ndarray:
    """Completed-order revenue per customer between two local dates (inclusive), as an array."""
    until = end or date.today() + timedelta(days=36500)
    params = _params(ws=workspace_id, end=local_day_start(until + timedelta(days=1), tz_name),
                     start=local_day_start(start, tz_name) if start else None)
    sql = _render(_SPEND, tz_name, end or date.today(), since=start is not None)
    frame = fetch_frame(sql, params, ("customer_id", "spend"), {"customer_id": pl.Int64, "spend": pl.Float64})
    return frame["spend"].to_numpy() if frame.height else np.zeros(0)


def fetch_frame(sql: str, params: Any, columns: tuple[str, ...],
                schema: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run a query of numeric columns and return its rows as a Polars frame (row order not kept)."""
    schema = schema or dict.fromkeys(columns, pl.Float64)
    if connection.vendor == "postgresql":
        return _fetch_frame_packed(sql, params, columns, schema)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return pl.DataFrame(rows, schema=schema, orient="row")


PACK_ROWS = 100_000


def _fetch_frame_packed(sql: str, params: Any, columns: tuple[str, ...], schema: dict[str, Any]) -> pl.DataFrame:
    """PostgreSQL: the rows come back as a few large CSV texts, one per 100,000 ids.

    A million rows through a cursor (or COPY, which psycopg hands over row by row) cost
    seconds of Python; string_agg builds the CSV in the server and Polars parses it in one
    go. Numeric columns only: format('%s') writes NULL as an empty field, which Polars reads
    as null. The first column must be an integer id (it decides the packing).
    """
    fields = ", ".join(f"q.{c}" for c in columns)
    packed = (f"SELECT string_agg(format('{','.join(['%%s'] * len(columns))}', {fields}), E'\\n') "
              f"FROM ({sql}) AS q({', '.join(columns)}) GROUP BY q.{columns[0]} / {PACK_ROWS}")
    with connection.cursor() as cursor:
        cursor.execute(packed, params)
        chunks = [row[0] for row in cursor.fetchall()]
    if not chunks:
        return pl.DataFrame(schema=schema)
    data = "\n".join(chunks).encode()
    return pl.read_csv(io.BytesIO(data), has_header=False, new_columns=list(columns), schema=schema)
