"""Bulk loading of generated rows, one writer per database vendor.

The ORM's per-object cost (a Python object, signals, one parameter tuple built
attribute by attribute) dominates at tens of millions of rows, so the demo
generator hands whole columns (a polars DataFrame named by database column) to
a writer that speaks the database's own bulk path:

- PostgreSQL: ``COPY … FROM STDIN`` (CSV written by polars in Rust) through
  psycopg 3's ``cursor.copy``.
- SQLite: ``executemany`` of plain tuples inside the caller's transaction,
  with pragmas suited to a bulk load for the duration.

The schema still rules: table and column names come from the models' _meta,
every concrete column is written (missing ones get the field's default or
NULL), and primary keys are reserved so concurrent writers cannot collide.
Triggers (SQLite's full-text index) and constraints stay on.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
from typing import Any

import polars as pl
from django.db import models

from samphan.core.db import column_of, pk_column


def writer_for(connection: Any, models_: list[type[models.Model]]) -> BulkWriter:
    """The writer for this connection's database (Wagtail-style dispatch on the vendor)."""
    writers = {"postgresql": PostgresWriter, "sqlite": SQLiteWriter}
    try:
        return writers[connection.vendor](connection, models_)
    except KeyError:
        raise NotImplementedError(f"demo data cannot bulk-load into {connection.vendor}") from None


class BulkWriter:
    def __init__(self, connection: Any, models_: list[type[models.Model]]) -> None:
        self.connection = connection
        self.tables = tuple(m._meta.db_table for m in models_)

    # --- public ------------------------------------------------------------------
    @contextmanager
    def session(self):
        """Session settings for the whole load (outside the per-chunk transactions)."""
        yield

    def parallel_loaders(self, requested: int) -> int:
        """How many connections may load chunks at once (each chunk in its own transaction)."""
        return 1

    def begin_chunk(self) -> None:
        """Called first inside each chunk's transaction."""

    def end_chunk(self) -> None:
        """Called last inside each chunk's transaction."""

    def reserve_ids(self, model: type[models.Model], count: int) -> int:
        """First of `count` consecutive primary keys no one else will use. Call inside a transaction."""
        raise NotImplementedError

    def insert(self, model: type[models.Model], frame: pl.DataFrame) -> int:
        """Write every row of `frame` (columns named by database column) into the model's table."""
        if frame.height == 0:
            return 0
        frame = self._complete(model, frame)
        self._write(model, frame)
        return frame.height

    # --- helpers -----------------------------------------------------------------
    def _write(self, model: type[models.Model], frame: pl.DataFrame) -> None:
        raise NotImplementedError

    def _quote(self, name: str) -> str:
        return self.connection.ops.quote_name(name)

    def _complete(self, model: type[models.Model], frame: pl.DataFrame) -> pl.DataFrame:
        """Every concrete column of the model, in _meta order, in its database representation."""
        fields = model._meta.concrete_fields
        known = {f.column for f in fields}
        unknown = set(frame.columns) - known
        if unknown:
            raise ValueError(f"{model._meta.label} has no column(s) {sorted(unknown)}")
        exprs = []
        for field in fields:
            if field.column in frame.columns:
                exprs.append(self._convert(field, pl.col(field.column)).alias(field.column))
            else:
                exprs.append(self._missing(model, field).alias(column_of(field)))
        return frame.select(exprs)

    def _missing(self, model: type[models.Model], field: models.Field) -> pl.Expr:
        if field.has_default():
            value = field.get_default()
            if isinstance(field, models.JSONField):
                import json

                return pl.lit(json.dumps(value, ensure_ascii=False))
            if isinstance(value, str | int | float | bool):
                return self._convert(field, pl.lit(value))
        if field.null:
            return pl.lit(None)
        if isinstance(field, models.CharField | models.TextField) and field.blank:
            return pl.lit("")
        raise ValueError(
            f"the demo generator does not fill {model._meta.label}.{field.name}, which has no default; "
            "teach samphan/demo/generator.py about it"
        )

    def _convert(self, field: models.Field, expr: pl.Expr) -> pl.Expr:
        return expr


class SQLiteWriter(BulkWriter):
    @contextmanager
    def session(self):
        """Bulk-load pragmas for the duration of the load, restored afterwards.

        Durability is relaxed (synchronous=OFF: a power cut may lose the last
        chunks, never corrupt the file in WAL mode) and the page cache is large.
        Foreign-key checks are switched off when we are not inside a transaction
        (inside one, SQLite ignores the pragma): every id we write was reserved
        or read in the same transaction, and the tests run PRAGMA
        foreign_key_check over generated data. They cost half the load time.
        """
        self.connection.ensure_connection()
        raw = self.connection.connection
        wanted = {"cache_size": -524288, "temp_store": 2}  # 512 MiB of pages; temp tables in memory
        if not self.connection.in_atomic_block:  # these two cannot change inside a transaction
            wanted.update(synchronous=0, foreign_keys=0)
        before = {name: raw.execute(f"PRAGMA {name}").fetchone()[0] for name in wanted}
        for name, value in wanted.items():
            raw.execute(f"PRAGMA {name}={value}")
        try:
            yield
        finally:
            for name, value in before.items():
                raw.execute(f"PRAGMA {name}={int(value)}")

    def reserve_ids(self, model: type[models.Model], count: int) -> int:
        # Writers are serialised by SQLite (the transaction is BEGIN IMMEDIATE), so
        # the maximum read inside our transaction is stable until we commit.
        table = model._meta.db_table
        raw = self.connection.connection
        top = raw.execute(f"SELECT max({self._quote(pk_column(model))}) FROM {self._quote(table)}").fetchone()[0]
        seq = raw.execute("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)).fetchone()
        return max(top or 0, seq[0] if seq else 0) + 1

    def _convert(self, field: models.Field, expr: pl.Expr) -> pl.Expr:
        if isinstance(field, models.DateTimeField):
            # Django stores naive UTC text; the space separator matters for range filters.
            return expr.dt.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(field, models.DateField):
            return expr.dt.strftime("%Y-%m-%d")
        return expr

    def _write(self, model: type[models.Model], frame: pl.DataFrame) -> None:
        table = self._quote(model._meta.db_table)
        cols = ", ".join(self._quote(c) for c in frame.columns)
        marks = ", ".join("?" * frame.width)
        sql = f"INSERT INTO {table} ({cols}) VALUES ({marks})"
        raw = self.connection.connection
        triggers = self._set_wise_triggers(model)
        for _, _, _, drop in triggers:
            raw.execute(drop)
        step = 200_000
        for start in range(0, frame.height, step):
            part = frame.slice(start, step)
            raw.executemany(sql, zip(*(part.get_column(c).to_list() for c in part.columns), strict=True))
        ids = frame.get_column(pk_column(model))
        for _, create, replay, _ in triggers:
            raw.execute(replay, (ids.min(), ids.max()))
            raw.execute(create)

    def _set_wise_triggers(self, model: type[models.Model]) -> list[tuple[str, str, str, str]]:
        """AFTER INSERT triggers that copy NEW's columns into another table, rewritten set-wise.

        A per-row trigger into an FTS5 index costs ~5x what one INSERT … SELECT
        over the same rows costs. Inside our transaction we drop such a trigger,
        insert, run its body once for the id range, and create it again: other
        connections never see it missing. Triggers of any other shape keep firing
        per row. Returns (name, create sql, replay sql, drop sql).
        """
        raw = self.connection.connection
        table, pk = model._meta.db_table, pk_column(model)
        rows = raw.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?",
                           (table,)).fetchall()
        out = []
        for name, create in rows:
            match = _COPY_TRIGGER.fullmatch(create.strip())
            if not match or match["table"].strip('"') != table:
                continue
            values = [v.strip() for v in match["values"].split(",")]
            if not all(v.lower().startswith("new.") for v in values):
                continue
            columns = ", ".join(self._quote(v[4:].strip('"')) for v in values)
            replay = (f"INSERT INTO {match['target']} ({match['columns']}) "
                      f"SELECT {columns} FROM {self._quote(table)} WHERE {self._quote(pk)} BETWEEN ? AND ?")
            out.append((name, create, replay, f"DROP TRIGGER {self._quote(name)}"))
        return out


_COPY_TRIGGER = re.compile(
    r"CREATE\s+TRIGGER\s+(?:IF\s+NOT\s+EXISTS\s+)?\S+\s+AFTER\s+INSERT\s+ON\s+(?P<table>\S+)\s+"
    r"(?:FOR\s+EACH\s+ROW\s+)?BEGIN\s+INSERT\s+INTO\s+(?P<target>[\w\"]+)\s*\((?P<columns>[^)]*)\)\s*"
    r"VALUES\s*\((?P<values>[^)]*)\)\s*;\s*END",
    re.IGNORECASE,
)


class PostgresWriter(BulkWriter):
    skip_fk_triggers = False

    def parallel_loaders(self, requested: int) -> int:
        # Inside a caller's transaction (tests) other connections could not see
        # the workspace: load on this connection only.
        return 1 if self.connection.in_atomic_block else max(1, requested)

    @contextmanager
    def session(self):
        self.skip_fk_triggers = self._may_skip_fk_triggers()
        yield

    def _may_skip_fk_triggers(self) -> bool:
        """Whether foreign-key checks may be skipped in our transactions.

        PostgreSQL checks each foreign key of each copied row with its own
        query (deferred to commit for Django's constraints): three quarters of
        the load time. `session_replication_role = replica` skips them, but it
        also skips ordinary triggers, so we use it only if the role may set it
        (superuser, or GRANT SET on PostgreSQL 15+) and no table we load has a
        trigger of its own. The ids we write are reserved or read in the same
        transaction, and the tests check every foreign key of generated data.
        """
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT current_setting('is_superuser') = 'on' OR (current_setting('server_version_num')::int >= 150000"
                " AND has_parameter_privilege('session_replication_role', 'SET'))"
            )
            if not cursor.fetchone()[0]:
                return False
            cursor.execute(
                "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgrelid = ANY(%s::regclass[])",
                [list(self.tables)],
            )
            return cursor.fetchone()[0] == 0

    def begin_chunk(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
            if self.skip_fk_triggers:
                cursor.execute("SET LOCAL session_replication_role = replica")

    def end_chunk(self) -> None:
        # Back to normal before the transaction goes on (a test's outer transaction does).
        if self.skip_fk_triggers:
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = origin")

    def reserve_ids(self, model: type[models.Model], count: int) -> int:
        """Take a block of `count` ids from the table's sequence, safe against concurrent inserts.

        ALTER SEQUENCE … INCREMENT BY makes concurrent nextval() calls wait until
        our (short) transaction commits, so one nextval() claims the whole block.
        Loading then runs in other transactions without holding any lock.
        """
        if count == 0:
            return 1
        table = self._quote(model._meta.db_table)
        pk = self._quote(pk_column(model))
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_serial_sequence(%s, %s)", [model._meta.db_table, pk_column(model)])
            sequence = cursor.fetchone()[0]  # schema-qualified and quoted by PostgreSQL
            cursor.execute("SELECT increment_by FROM pg_sequences WHERE format('%%I.%%I', schemaname, sequencename)"
                           " = %s", [sequence])
            step = cursor.fetchone()[0]
            cursor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY {int(count)}")
            cursor.execute("SELECT nextval(%s)", [sequence])
            start = cursor.fetchone()[0] - count + 1
            cursor.execute(f"SELECT max({pk}) FROM {table}")
            top = cursor.fetchone()[0] or 0
            if start <= top:  # rows were written with explicit ids past the sequence
                start = top + 1
                cursor.execute("SELECT setval(%s, %s)", [sequence, start + count - 1])
            cursor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY {int(step)}")
        return start

    def _convert(self, field: models.Field, expr: pl.Expr) -> pl.Expr:
        if isinstance(field, models.DateTimeField):
            return expr.dt.strftime("%Y-%m-%d %H:%M:%S+00")
        if isinstance(field, models.DateField):
            return expr.dt.strftime("%Y-%m-%d")
        if isinstance(field, models.DecimalField):
            return expr.cast(pl.Utf8)
        return expr

    def _write(self, model: type[models.Model], frame: pl.DataFrame) -> None:
        table = self._quote(model._meta.db_table)
        cols = ", ".join(self._quote(c) for c in frame.columns)
        # Unquoted empty CSV fields are NULL; text columns that are NOT NULL read them as "".
        not_null_text = [
            self._quote(column_of(f)) for f in model._meta.concrete_fields
            if not f.null and isinstance(f, models.CharField | models.TextField)
        ]
        options = "FORMAT csv"
        if not_null_text:
            options += f", FORCE_NOT_NULL ({', '.join(not_null_text)})"
        sql = f"COPY {table} ({cols}) FROM STDIN WITH ({options})"
        step = 500_000
        with self.connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg's own cursor: Django's wrapper has no copy()
            with raw.copy(sql) as copy:
                for start in range(0, frame.height, step):
                    buffer = io.BytesIO()
                    frame.slice(start, step).write_csv(buffer, include_header=False, null_value="")
                    copy.write(buffer.getvalue())
