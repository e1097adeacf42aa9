"""Bulk reads and writes for imports, one implementation per database vendor.

The ORM writes one row per statement round trip; a million order rows need
set-based SQL instead: lookups by external id with one parameter holding all
keys (SQLite json_each, PostgreSQL = ANY(array)), ids reserved up front so
order lines can point at orders before either is written, and inserts through
executemany in one transaction (SQLite) or COPY (PostgreSQL).

Everything here is scoped by the caller's SQL (always `workspace_id = %s`);
table and column names come from the models' _meta, so a column added to a
model later gets its Django default on insert.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import connection, models
from django.utils import timezone

from samphan.core.db import column_of, pk_column

SQLITE_IN_CHUNK = 200_000  # keys per json_each parameter
SQLITE_MAX_PARAMS = 32_766  # SQLite >= 3.32
SQLITE_ROWS_PER_INSERT = 500
SQLITE_IMPORT_CACHE_KIB = 256 * 1024
SQLITE_IMPORT_CHECKPOINT_PAGES = 64 * 1024  # 256 MB of WAL


def vendor() -> str:
    return "postgresql" if connection.vendor == "postgresql" else "sqlite"


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[models.Model]) -> str:
    return quote(model._meta.db_table)


def column(model: type[models.Model], field: str) -> str:
    return quote(column_of(model._meta.get_field(field)))


def in_keys(sql_column: str, *, integer: bool = False) -> str:
    """A WHERE fragment matching `sql_column` against one parameter holding all the keys.

    One string parameter (see keys_param), because adapting a Python list of
    200,000 keys costs more than the query.

    PostgreSQL: `= ANY(%s::text[])` with the array as one literal. The planner then
    sees a constant array and, when it filters rather than probes an index, tests
    rows against a hash of it (PostgreSQL 14+). The earlier form, `= ANY(ARRAY(SELECT
    json_array_elements_text(%s)))`, is a run-time array that is searched key by key
    for every row: on a table just filled by an import (no statistics yet, so a
    workspace looks like 7 rows) the planner scanned the workspace and did one
    comparison per (row, key) — 20,000 keys against 40,000 customers took 28 s. An
    `IN (SELECT json_array_elements_text(…))` semi-join is no better: it was planned as
    a nested loop re-reading the whole key list for every product.
    """
    if vendor() == "postgresql":
        return f"{sql_column} = ANY(%s::{'bigint' if integer else 'text'}[])"
    return f"{sql_column} IN (SELECT value FROM json_each(%s))"


def _array_element(key: Any) -> str:
    if isinstance(key, int):
        return str(key)
    return '"' + str(key).replace("\\", "\\\\").replace('"', '\\"') + '"'


def keys_param(keys: Sequence[Any]) -> str:
    """The keys as one parameter: a PostgreSQL array literal, or a JSON array for SQLite."""
    if vendor() == "postgresql":
        if keys and all(isinstance(k, str) for k in keys):
            # Escaped as columns: a chunk's 20,000 keys one by one cost more than the lookup.
            quoted = pl.Series(keys, dtype=pl.String).str.replace_all("\\", "\\\\", literal=True) \
                .str.replace_all('"', '\\"', literal=True)
            return '{"' + '","'.join(quoted.to_list()) + '"}'
        return "{" + ",".join(map(_array_element, keys)) + "}"
    return json.dumps(list(keys), ensure_ascii=False)


def fetch(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_by_keys(sql: str, params_before: Sequence[Any], keys: Sequence[Any]) -> list[tuple]:
    """Run `sql` (whose last parameter is the key list) in slices of keys."""
    rows: list[tuple] = []
    keys = list(keys)
    step = len(keys) if vendor() == "postgresql" else SQLITE_IN_CHUNK
    for start in range(0, len(keys), max(step, 1)):
        rows.extend(fetch(sql, [*params_before, keys_param(keys[start:start + step])]))
    return rows


def fetch_frame(sql: str, params: Sequence[Any], schema: dict[str, Any]) -> pl.DataFrame:
    """A query's rows as a DataFrame. PostgreSQL: COPY ... TO STDOUT in CSV, read by polars."""
    if vendor() != "postgresql":
        return pl.DataFrame(fetch(sql, params), schema=schema, orient="row")
    buffer = bytearray()
    # COPY goes to psycopg's own cursor; wrap_database_errors turns its errors into Django's.
    with connection.wrap_database_errors, connection.cursor() as cursor, \
            cursor.cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", params) as copy:
        for data in copy:
            buffer += data
    if not buffer:
        return pl.DataFrame(schema=schema)
    return pl.read_csv(bytes(buffer), has_header=False, schema=schema)


def fetch_frame_by_keys(sql: str, params_before: Sequence[Any], keys: Sequence[Any],
                        schema: dict[str, Any]) -> pl.DataFrame:
    keys = list(keys)
    step = len(keys) if vendor() == "postgresql" else SQLITE_IN_CHUNK
    frames = [fetch_frame(sql, [*params_before, keys_param(keys[start:start + step])], schema)
              for start in range(0, len(keys), max(step, 1))]
    return pl.concat(frames) if frames else pl.DataFrame(schema=schema)


def scaled_sql(sql_column: str, places: int) -> str:
    """A decimal column as an integer count of 10^-places (exact on both vendors)."""
    if vendor() == "postgresql":
        return f"({sql_column} * {10**places})::bigint"
    # SQLite keeps decimals as NUMERIC (integer or double); ROUND undoes the binary fraction.
    return f"CAST(ROUND({sql_column} * {10**places}) AS INTEGER)"


def datetime_text_sql(sql_column: str) -> str:
    """A datetime column as UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]'."""
    if vendor() == "postgresql":
        return f"to_char({sql_column} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
    # Django stores UTC text in this very format; concatenating keeps the text (a
    # bare column would go through Django's datetime converter, row by row).
    return f"({sql_column} || '')"


def datetime_text_to_us(expr: pl.Expr) -> pl.Expr:
    """Parse datetime_text_sql() output into microseconds since the epoch."""
    return expr.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False).dt.epoch("us")


def datetime_value(us: pl.Expr) -> pl.Expr:
    """Microseconds since the epoch (UTC) as the text each vendor stores or COPY reads."""
    moment = pl.from_epoch(us, time_unit="us")
    base = moment.dt.strftime("%Y-%m-%d %H:%M:%S")
    micro = (us % 1_000_000).cast(pl.String).str.zfill(6)
    if vendor() == "postgresql":
        return pl.format("{}.{}+00:00", base, micro)
    # Exactly Django's SQLite form (str(datetime)): the fraction only when non-zero,
    # so text comparisons against ORM-written rows stay right.
    return pl.when(us % 1_000_000 == 0).then(base).otherwise(pl.format("{}.{}", base, micro))


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys, inside the caller's transaction."""
    if count <= 0:
        return []
    pk = pk_column(model)
    if vendor() == "postgresql":
        # The sequence is looked up once: pg_get_serial_sequence() in the select list
        # runs (catalog lookups) for every row, ten times the cost of nextval itself.
        # The ids come back as one text value: a million rows (fetched, or read from
        # COPY, which hands them over one row at a time) cost seconds in the client.
        (sequence,) = fetch("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, pk])[0]
        literal = "'" + str(sequence).replace("'", "''") + "'"
        ((text,),) = fetch(f"SELECT string_agg(nextval({literal}::regclass)::text, ',') "
                           f"FROM generate_series(1, %s)", [count])
        return pl.Series([text]).str.split(",").explode().cast(pl.Int64).to_list()
    # SQLite: the write lock is held (BEGIN IMMEDIATE), so nobody else can take these.
    # AUTOINCREMENT never reuses an id, so start above sqlite_sequence too.
    (max_id,) = fetch(f"SELECT COALESCE(MAX({quote(pk)}), 0) FROM {table(model)}", [])[0]
    seq = fetch("SELECT seq FROM sqlite_sequence WHERE name = %s", [model._meta.db_table])
    start = max(max_id, seq[0][0] if seq else 0) + 1
    return list(range(start, start + count))


def _default_for(field: models.Field, now: datetime) -> Any:
    if (getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            or field.default is timezone.now):
        value: Any = now
    else:
        value = field.get_default()
    return value


def _copy_text(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _constant(field: models.Field, value: Any) -> Any:
    """A default value in the form the vendor's bulk path takes."""
    if vendor() == "postgresql":
        return _copy_text(value)
    if isinstance(field, models.JSONField):
        return json.dumps(value, ensure_ascii=False)
    prepared = field.get_db_prep_save(value, connection)
    return str(prepared) if isinstance(prepared, Decimal) else prepared


def insert_frame(model: type[models.Model], frame: pl.DataFrame) -> None:
    """Insert every row of `frame` (columns named by db column) into the model's table.

    Columns the frame leaves out get the field's default (auto_now fields: now).
    Values must already be in their stored form (text for decimals and datetimes).
    """
    if frame.height == 0:
        return
    now = timezone.now()
    constants = []
    for field in model._meta.concrete_fields:
        if field.column in frame.columns:
            continue
        value = _constant(field, _default_for(field, now))
        if isinstance(value, bool):
            value = int(value)
        dtype = pl.Int64 if isinstance(value, int) else pl.Float64 if isinstance(value, float) else pl.String
        constants.append(pl.lit(value, dtype=dtype).alias(column_of(field)))
    frame = frame.with_columns(constants) if constants else frame
    columns = ", ".join(quote(c) for c in frame.columns)
    if vendor() == "postgresql":
        data = frame.write_csv(include_header=False, null_value="")
        with connection.wrap_database_errors, connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY {table(model)} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(data)
        return
    # Several rows per INSERT: SQLite's per-statement cost (and AUTOINCREMENT's
    # sqlite_sequence update) is paid once per statement, not once per row.
    width = len(frame.columns)
    per_statement = max(1, min(SQLITE_ROWS_PER_INSERT, SQLITE_MAX_PARAMS // width))
    one = "(" + ", ".join(["%s"] * width) + ")"
    flat = list(itertools.chain.from_iterable(frame.iter_rows(buffer_size=50_000)))
    step = per_statement * width
    full = len(flat) // step * step
    with connection.cursor() as cursor:
        if full:
            cursor.executemany(
                f"INSERT INTO {table(model)} ({columns}) VALUES {', '.join([one] * per_statement)}",
                # Django takes any iterable of parameter lists (its debug wrapper too); the stubs say Sequence.
                (flat[start:start + step] for start in range(0, full, step)),  # type: ignore[arg-type]
            )
        if full < len(flat):
            rest = flat[full:]
            cursor.execute(
                f"INSERT INTO {table(model)} ({columns}) VALUES {', '.join([one] * (len(rest) // width))}",
                rest,
            )


def stage_frame(name: str, columns: str, frame: pl.DataFrame) -> None:
    """PostgreSQL: put `frame` into the temporary table `name` (created with `columns`, DDL).

    For set-based statements over rows sent from memory (an upsert, say): COPY then
    `… SELECT FROM name` costs a fraction of the same rows sent as a JSON parameter
    (`json_to_recordset` parsed a million rows in 3.8 s). The table lives as long as the
    connection, is emptied first, and is emptied again at every commit.
    """
    with connection.wrap_database_errors, connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(name)} ({columns}) ON COMMIT DELETE ROWS")
        cursor.execute(f"TRUNCATE {quote(name)}")
        with cursor.cursor.copy(f"COPY {quote(name)} FROM STDIN WITH (FORMAT csv)") as copy:
            copy.write(frame.write_csv(include_header=False, null_value=""))


@contextlib.contextmanager
def bulk_session(*, parents_checked: bool = False) -> Iterator[None]:
    """Settings for a bulk import on this connection, put back afterwards.

    SQLite: a larger page cache (the default 2 MB thrashes when a million rows go
    into indexes in random key order) and fewer WAL checkpoints. With
    parents_checked — the caller promises that every row it writes points only at
    rows it read or wrote inside the same transaction, which holds SQLite's write
    lock (BEGIN IMMEDIATE), so nobody can delete them in between — SQLite's
    per-row foreign-key lookups are switched off for the session, as Django's
    loaddata does; they cost a third of the insert time. PRAGMA foreign_keys
    cannot change inside a transaction, so inside an outer atomic block (a
    preview, a test) the checks simply stay on.

    PostgreSQL needs nothing and keeps every check.
    """
    if vendor() != "sqlite":
        yield
        return
    (previous,) = fetch("PRAGMA cache_size", [])[0]
    (checkpoint,) = fetch("PRAGMA wal_autocheckpoint", [])[0]
    (foreign_keys,) = fetch("PRAGMA foreign_keys", [])[0]
    switch_off = parents_checked and foreign_keys and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA cache_size = -{SQLITE_IMPORT_CACHE_KIB}")
        # Index pages are rewritten by chunk after chunk; copying them back into the
        # database after every commit (the default: past 1,000 WAL pages) does that
        # work many times over.
        cursor.execute(f"PRAGMA wal_autocheckpoint = {SQLITE_IMPORT_CHECKPOINT_PAGES}")
        if switch_off:
            cursor.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(previous)}")
            cursor.execute(f"PRAGMA wal_autocheckpoint = {int(checkpoint)}")
            if switch_off:
                cursor.execute("PRAGMA foreign_keys = ON")


class Statistics:
    """Keeps PostgreSQL's planner statistics up with the tables an import fills.

    Without statistics (a table never analysed, or analysed when it was a tenth of
    its size) the planner misjudges the lookups of the next chunks, e.g. reads
    every order line to find one chunk's. Autovacuum catches up only later (and is
    off on some servers), so after each chunk the tables that at least doubled
    since their last ANALYZE are analysed: a million rows cost a handful of
    ANALYZEs of a 30,000-row sample each. SQLite plans without row counts here.
    """

    def __init__(self, *models_: type[models.Model]) -> None:
        self.models = models_
        self.written: dict[str, int] = {}

    def wrote(self, model: type[models.Model], count: int) -> None:
        self.written[model._meta.db_table] = self.written.get(model._meta.db_table, 0) + count

    def refresh(self) -> None:
        if vendor() != "postgresql" or not self.written:
            return
        names = [m._meta.db_table for m in self.models if self.written.get(m._meta.db_table)]
        if not names:
            return
        known = dict(fetch("SELECT relname, reltuples FROM pg_class WHERE relname = ANY(%s::text[]) "
                           "AND relkind = 'r'", [keys_param(names)]))
        stale = [n for n in names if self.written[n] >= max(known.get(n, -1), 0)]
        with connection.cursor() as cursor:
            for name in stale:
                cursor.execute(f"ANALYZE {quote(name)}")
                self.written[name] = 0


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """UPDATE by primary key; each row is (value for each field..., pk)."""
    assignments = ", ".join(f"{column(model, f)} = %s" for f in fields)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table(model)} SET {assignments} WHERE {quote(pk_column(model))} = %s",
            list(rows),
        )


def delete_where_in(model: type[models.Model], field: str, keys: Sequence[Any]) -> None:
    keys = list(keys)
    if not keys:
        return
    step = len(keys) if vendor() == "postgresql" else SQLITE_IN_CHUNK
    with connection.cursor() as cursor:
        for start in range(0, len(keys), step):
            cursor.execute(
                f"DELETE FROM {table(model)} WHERE {in_keys(column(model, field), integer=isinstance(keys[0], int))}",
                [keys_param(keys[start:start + step])],
            )
