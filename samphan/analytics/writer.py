"""Bulk write of a recompute: scores into a temporary table, then three set-based statements.

1. load the new scores into a temporary table (PostgreSQL: COPY; SQLite: executemany);
2. append a StageChange for every customer whose stage differs from the stored one;
3. upsert the scores (INSERT … ON CONFLICT DO UPDATE), keeping `stage_since` when the stage holds,
   moving the stored P(alive) to `p_alive_previous` when it changes, and leaving a row
   untouched when none of its figures changed (a recompute after an import
   rewrites only the customers whose numbers moved; `computed_at` is when a row last changed);
4. delete the scores of customers merged away or erased since the last run.

The caller runs it inside one transaction, so readers see the old scores or
the new ones, never a mix. Database-specific code stays behind `connection.vendor`.
"""

# SQL here is built from module constants (table and column names); values are always bound.
# ruff: noqa: S608

from __future__ import annotations

import io
from datetime import datetime

import polars as pl
from django.db import connection

from samphan.analytics.models import CustomerScore

TMP = "analytics_tmp_score"
SCORE_TABLE = CustomerScore._meta.db_table
STAGE_TABLE = "analytics_stagechange"

# Columns loaded per row, in the order of the frame handed to `scores_write`; stage_since
# and computed_at are the same for every row of a run and are bound once (STAMPS).
SCORE_COLUMNS = (
    "customer_id", "workspace_id", "order_count", "purchase_days", "total_spend", "discounted_orders",
    "first_purchase", "last_purchase", "recency_days", "period_frequency", "period_spend", "r", "f", "m",
    "rfm_segment", "stage", "p_alive", "expected_purchases_90d", "expected_spend", "clv",
)
STAMPS = ("stage_since", "computed_at")


def scores_write(frame: pl.DataFrame, *, workspace_id: int, changed_at: datetime,
                 computed_at: datetime) -> dict[str, int]:
    """Write the scores of one workspace; returns the number of rows and of stage changes.

    `changed_at` dates the stage changes (and `stage_since` of a new stage); `computed_at`
    stamps every row.
    """
    frame = frame.select(SCORE_COLUMNS)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        _load_temp(cursor, frame)
        cursor.execute(
            f"""INSERT INTO {STAGE_TABLE} (workspace_id, customer_id, from_stage, to_stage, changed_at)
                SELECT t.workspace_id, t.customer_id, COALESCE(s.stage, ''), t.stage, %s
                FROM {TMP} t LEFT JOIN {SCORE_TABLE} s ON s.customer_id = t.customer_id
                WHERE s.customer_id IS NULL OR s.stage <> t.stage""",
            [adapt(changed_at)],
        )
        changes = cursor.rowcount
        columns = ", ".join(SCORE_COLUMNS + STAMPS)
        updates = ", ".join(f"{c} = excluded.{c}" for c in SCORE_COLUMNS + STAMPS
                            if c not in ("customer_id", "workspace_id", "stage_since"))
        distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        changed = " OR ".join(f"{SCORE_TABLE}.{c} {distinct} excluded.{c}" for c in SCORE_COLUMNS
                              if c not in ("customer_id", "workspace_id"))
        # "WHERE true" lets SQLite tell the ON CONFLICT clause from a join condition.
        cursor.execute(
            f"""INSERT INTO {SCORE_TABLE} ({columns}) SELECT {", ".join(SCORE_COLUMNS)}, %s, %s FROM {TMP} WHERE true
                ON CONFLICT (customer_id) DO UPDATE SET {updates},
                stage_since = CASE WHEN {SCORE_TABLE}.stage = excluded.stage
                                   THEN {SCORE_TABLE}.stage_since ELSE excluded.stage_since END,
                p_alive_previous = CASE WHEN {SCORE_TABLE}.p_alive {distinct} excluded.p_alive
                                        THEN {SCORE_TABLE}.p_alive ELSE {SCORE_TABLE}.p_alive_previous END
                WHERE {changed}""",
            [adapt(changed_at), adapt(computed_at)],
        )
        rewritten = cursor.rowcount
        # Customers merged away or erased since the last run (deleted ones cascade by themselves).
        cursor.execute(
            f"""DELETE FROM {SCORE_TABLE} WHERE customer_id IN (
                    SELECT id FROM customers_customer WHERE workspace_id = %s
                    AND (merged_into_id IS NOT NULL OR erased_at IS NOT NULL))""",
            [workspace_id],
        )
        removed = cursor.rowcount
        cursor.execute(f"DROP TABLE {TMP}")
    return {"rows": frame.height, "rewritten": rewritten, "stage_changes": changes, "removed": removed}


def _load_temp(cursor, frame: pl.DataFrame) -> None:
    cursor.execute(f"DROP TABLE IF EXISTS {TMP}")
    if connection.vendor == "postgresql":
        cursor.execute(
            f"CREATE TEMP TABLE {TMP} AS SELECT {', '.join(SCORE_COLUMNS)} FROM {SCORE_TABLE} WITH NO DATA"
        )
        buffer = io.BytesIO()
        # Strings quoted so an empty segment stays '' and only an unquoted empty field is NULL.
        frame.write_csv(buffer, include_header=False, quote_style="non_numeric", null_value="")
        raw = cursor.cursor
        with raw.copy(f"COPY {TMP} ({', '.join(SCORE_COLUMNS)}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(buffer.getvalue())
        cursor.execute(f"ANALYZE {TMP}")
    else:
        cursor.execute(f"CREATE TEMP TABLE {TMP} AS SELECT {', '.join(SCORE_COLUMNS)} FROM {SCORE_TABLE} WHERE 0")
        placeholders = ", ".join(["%s"] * len(SCORE_COLUMNS))
        cursor.executemany(f"INSERT INTO {TMP} VALUES ({placeholders})", _sqlite_rows(frame))
        # without it the "no longer live" DELETE probes the temp table row by row: O(n²)
        cursor.execute(f"CREATE UNIQUE INDEX {TMP}_customer ON {TMP} (customer_id)")


def _sqlite_rows(frame: pl.DataFrame):
    """Rows in Django's SQLite storage format: dates as ISO text, money as decimal text."""
    out = frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d") for c in ("first_purchase", "last_purchase")]
        + [pl.col(c).cast(pl.Utf8) for c in ("total_spend", "period_spend")]
    )
    return out.iter_rows()
