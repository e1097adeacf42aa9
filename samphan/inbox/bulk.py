"""Set-based writes for the ingest hot path, where the ORM's bulk_update (a CASE per row per
column, built in Python) costs more than the database work itself.

Database-specific SQL sits behind one dispatch on `connection.vendor`. Column and
table names come from model metadata; values always travel as parameters.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

from samphan.inbox.models import Conversation

COUNTER_FIELDS = ("message_count", "last_message_at", "last_message_preview", "last_message_direction",
                  "last_inbound_at", "waiting_since", "status", "updated_at",
                  # the SLA clock (samphan/sla/clock.py), recomputed for the batch
                  "sla_policy", "first_response_due_at", "next_response_due_at", "resolution_due_at", "sla_due_at",
                  "sla_sweep_at", "sla_breaches")


def conversations_write_counters(conversations: Iterable[Conversation]) -> None:
    """Write each conversation's denormalised fields (counts, last message, waiting and SLA clocks, status)."""
    meta = Conversation._meta
    fields = [meta.get_field(name) for name in COUNTER_FIELDS]
    rows = [[conversation.pk] + [f.get_db_prep_save(getattr(conversation, f.attname), connection) for f in fields]
            for conversation in conversations]
    if not rows:
        return
    qn = connection.ops.quote_name
    table, pk = qn(meta.db_table), qn(meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement: UPDATE … FROM (VALUES …), typed by the first row's casts.
            casts = [meta.pk.db_type(connection)] + [f.db_type(connection) for f in fields]
            names = ["id"] + [f"c{i}" for i in range(len(fields))]
            first = "(" + ", ".join(f"%s::{cast}" for cast in casts) + ")"
            rest = "(" + ", ".join("%s" for _ in casts) + ")"
            values = ", ".join([first] + [rest] * (len(rows) - 1))
            sets = ", ".join(f"{qn(f.column)} = v.c{i}" for i, f in enumerate(fields))
            cursor.execute(f"UPDATE {table} AS t SET {sets} FROM (VALUES {values}) AS v({', '.join(names)}) "
                           f"WHERE t.{pk} = v.id", [value for row in rows for value in row])
        else:
            # SQLite runs in-process: a prepared statement per row is as fast as anything.
            sets = ", ".join(f"{qn(f.column)} = %s" for f in fields)
            cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", [row[1:] + row[:1] for row in rows])
