"""Hand-written SQL for the webhook acknowledgement path, where the ORM's per-save machinery (the
compiler, signals, a model instance's bookkeeping) is a large part of a request's cost.

Table and column names come from model metadata; values always travel as parameters, prepared by
the model's own fields, so rows are stored exactly as `save()` would store them.
"""

from __future__ import annotations

from typing import cast

from django.db import InterfaceError, OperationalError, connection, models

from samphan.channels.models import WebhookEvent

_INSERT_FIELDS = ("workspace", "channel_account", "received_at", "body", "headers", "status", "failure_reason",
                  "attempts", "event_count")


def webhook_insert(event: WebhookEvent) -> int:
    """INSERT an unsaved webhook row (one statement, RETURNING its id); committed at once in autocommit.

    Outside a transaction a connection found dead (the database restarted since this thread's last
    request) is replaced and the INSERT tried once more, so the webhook path can skip Django's
    per-request health check (a `SELECT 1` round trip; samphan/channels/wsgi.py). A retry after an
    INSERT that did commit but whose answer was lost stores the body twice, which processing
    absorbs: messages are unique on (channel account, dedupe key).
    """
    try:
        return _insert(event)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        connection.close()
        return _insert(event)


def _insert(event: WebhookEvent) -> int:
    meta = WebhookEvent._meta
    fields = [cast(models.Field, meta.get_field(name)) for name in _INSERT_FIELDS]
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(str(f.column)) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {qn(str(meta.pk.column))}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [f.get_db_prep_save(getattr(event, f.attname), connection) for f in fields])
        return cursor.fetchone()[0]
