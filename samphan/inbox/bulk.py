"""Set-based writes for the ingest hot path, where the ORM's bulk_create and bulk_update cost more
than the database work itself: Django prepares every value of every row in Python and builds one
placeholder per value, and psycopg re-parses a statement of thousands of placeholders on every call.

On PostgreSQL each write is one short statement whose parameters are one array per column
(`INSERT … SELECT * FROM unnest(…)`, `UPDATE … FROM unnest(…)`): the statement text is the same
for every batch, whatever its size. SQLite runs in-process and keeps the ORM / executemany forms.
Column and table names come from model metadata; values always travel as parameters.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, cast

from django.db import connection, models

from samphan.inbox.models import Conversation

COUNTER_FIELDS = ("message_count", "last_message_at", "last_message_preview", "last_message_direction",
                  "last_inbound_at", "waiting_since", "status", "updated_at",
                  # the SLA clock (samphan/sla/clock.py), recomputed for the batch
                  "sla_policy", "first_response_due_at", "next_response_due_at", "resolution_due_at", "sla_due_at",
                  "sla_sweep_at", "sla_breaches")


def _array_type(field: models.Field) -> str:
    """The column's type for an array parameter: JSON travels as text and is cast, the rest as is."""
    return "text" if isinstance(field, models.JSONField) else str(field.db_type(connection) or "text")


def _column_values(field: models.Field, objs: Sequence[models.Model]) -> list[Any]:
    values = [getattr(obj, field.attname) for obj in objs]
    if isinstance(field, models.JSONField):
        encoder = field.encoder
        return [None if v is None else json.dumps(v, cls=encoder, ensure_ascii=False) for v in values]
    # Choices (TextChoices members): their value, as the ORM writes them (psycopg would write an enum's name).
    return [v.value if isinstance(v, Enum) else v for v in values]


def _select_list(fields: Sequence[models.Field]) -> str:
    """`unnest(%s::t1[], …)` columns, JSON ones cast back from text."""
    return ", ".join(f"%s::{_array_type(f)}[]" for f in fields)


def rows_insert(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """INSERT new rows of `model` (primary keys left to the database; not set on `objs`)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(list(objs), batch_size=500)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    for obj in objs:
        for f in fields:
            if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add):
                f.pre_save(obj, add=True)
    qn = connection.ops.quote_name
    columns = ", ".join(qn(str(f.column)) for f in fields)
    picks = ", ".join(f"u.c{i}::jsonb" if isinstance(f, models.JSONField) else f"u.c{i}" for i, f in enumerate(fields))
    names = ", ".join(f"c{i}" for i in range(len(fields)))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(meta.db_table)} ({columns}) SELECT {picks} "
                       f"FROM unnest({_select_list(fields)}) AS u({names})",
                       [_column_values(f, objs) for f in fields])


def conversations_write_counters(conversations: Iterable[Conversation]) -> None:
    """Write each conversation's denormalised fields (counts, last message, waiting and SLA clocks, status)."""
    conversations = list(conversations)
    if not conversations:
        return
    meta = Conversation._meta
    fields = [cast(models.Field, meta.get_field(name)) for name in COUNTER_FIELDS]
    qn = connection.ops.quote_name
    table, pk = qn(meta.db_table), qn(str(meta.pk.column))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: UPDATE … FROM unnest(one array per column).
            names = ", ".join(["id"] + [f"c{i}" for i in range(len(fields))])
            sets = ", ".join(f"{qn(str(f.column))} = v.c{i}" for i, f in enumerate(fields))
            cursor.execute(f"UPDATE {table} AS t SET {sets} FROM unnest(%s::{meta.pk.db_type(connection)}[], "
                           f"{_select_list(fields)}) AS v({names}) WHERE t.{pk} = v.id",
                           [[c.pk for c in conversations]] + [_column_values(f, conversations) for f in fields])
        else:
            # SQLite runs in-process: a prepared statement per row is as fast as anything.
            rows = [[f.get_db_prep_save(getattr(c, f.attname), connection) for f in fields] + [c.pk]
                    for c in conversations]
            sets = ", ".join(f"{qn(str(f.column))} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", rows)
