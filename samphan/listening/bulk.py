"""Upserts that keep the rollups and authors in step with the mentions, one statement per batch.

``INSERT … ON CONFLICT (…) DO UPDATE`` adds a batch's counts to the existing rows; PostgreSQL
and SQLite (3.24+, RETURNING from 3.35) both speak it, so one code path serves both. Rows are
sent in key order so two workers upserting the same rows lock them in the same order (no
deadlock). Datetimes go through the backend's adapter, so SQLite stores the same text Django
would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from django.db import connection

from samphan.listening.models import (
    Author,
    AuthorTopic,
    DailyRollupZone,
    MentionDaily,
    MentionHourly,
)

_CHUNK = 400


def _dt(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _utc_text(value: datetime) -> str:
    return str(value.astimezone(UTC).replace(tzinfo=None))


def datetime_adapter() -> Callable[[datetime], Any]:
    """``_dt`` for many values: what the backend's adapter gives for an aware datetime, without
    looking the connection up per value (a third of the CPU of adapting thousands of them).

    PostgreSQL takes the datetime itself; SQLite its UTC text (``timezone.make_naive`` in the
    connection's zone, UTC under USE_TZ, then ``str``).
    """
    if connection.vendor == "postgresql":
        return _same
    if connection.vendor == "sqlite" and connection.timezone == UTC:
        return _utc_text
    return connection.ops.adapt_datetimefield_value


def _same(value: datetime) -> datetime:
    return value


def _chunks(rows: Sequence[Any], size: int = _CHUNK):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _insert(table: str, columns: Sequence[str], pg_types: Sequence[str], rows: Sequence[Sequence[Any]],
            tail: str = "") -> list[tuple]:
    """INSERT rows, with ``tail`` (ON CONFLICT … / RETURNING …) after them; returns what RETURNING gives.

    PostgreSQL: one statement whatever the row count, the columns sent as arrays and spread by
    ``unnest`` — psycopg then parses a query with one placeholder per column instead of one per
    value (parsing 15,000 placeholders cost more than the insert). SQLite: multi-row VALUES in
    chunks under its parameter limit (its driver binds in C).
    """
    if not rows:
        return []
    out: list[tuple] = []
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            names = [f"c{i}" for i in range(len(columns))]
            select = ", ".join(f"{n}::jsonb" if t == "jsonb" else n for n, t in zip(names, pg_types, strict=True))
            arrays = ", ".join(f"%s::{'text' if t == 'jsonb' else t}[]" for t in pg_types)
            cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {select} FROM unnest({arrays}) "
                           f"AS u({', '.join(names)}) {tail}", [list(col) for col in zip(*rows, strict=True)])
            if "RETURNING" in tail:
                out.extend(cursor.fetchall())
            return out
        size = max(1, 30_000 // len(columns))
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for chunk in _chunks(rows, size):
            cursor.execute(f"INSERT INTO {table} ({cols}) VALUES {', '.join([row] * len(chunk))} {tail}",
                           [v for r in chunk for v in r])
            if "RETURNING" in tail:
                out.extend(cursor.fetchall())
    return out


def _counts_add(table: str, key: str, key_type: str, rows: Sequence[tuple[int, Any, list[int]]],
                workspace_id: int) -> None:
    _insert(table, ("workspace_id", "topic_id", key, "positive", "neutral", "negative", "question"),
            ("int8", "int8", key_type, "int8", "int8", "int8", "int8"),
            [(workspace_id, topic_id, value, *counts) for topic_id, value, counts in rows],
            f"ON CONFLICT (workspace_id, topic_id, {key}) DO UPDATE SET "
            f"positive = {table}.positive + excluded.positive, neutral = {table}.neutral + excluded.neutral, "
            f"negative = {table}.negative + excluded.negative, question = {table}.question + excluded.question")


def hourly_add(*, workspace_id: int, rows: dict[tuple[int, datetime], list[int]]) -> None:
    """Add counts [positive, neutral, negative, question] to (topic_id, hour) rows; negative deltas allowed."""
    dt = datetime_adapter()
    _counts_add(MentionHourly._meta.db_table, "hour", "timestamptz",
                [(topic_id, dt(hour), counts) for (topic_id, hour), counts in sorted(rows.items())], workspace_id)


def daily_add(*, workspace_id: int, rows: dict[tuple[int, date], list[int]]) -> None:
    """Add counts to (topic_id, local day) rows of ``MentionDaily``, like ``hourly_add``."""
    _counts_add(MentionDaily._meta.db_table, "day", "date",
                [(topic_id, connection.ops.adapt_datefield_value(day), counts)
                 for (topic_id, day), counts in sorted(rows.items())], workspace_id)


def author_topics_add(*, workspace_id: int, rows: dict[tuple[int, int], tuple[int, int, int, datetime]]) -> None:
    """(author_id, topic_id) → (reach, mentions, negative, last_mention_at): add the counts, keep the latest."""
    t = AuthorTopic._meta.db_table
    dt = datetime_adapter()
    _insert(t, ("workspace_id", "author_id", "topic_id", "reach", "mentions", "negative", "last_mention_at"),
            ("int8", "int8", "int8", "int8", "int8", "int8", "timestamptz"),
            [(workspace_id, author_id, topic_id, reach, mentions, negative, dt(last))
             for (author_id, topic_id), (reach, mentions, negative, last) in sorted(rows.items())],
            f"ON CONFLICT (author_id, topic_id) DO UPDATE SET "
            f"reach = excluded.reach, mentions = {t}.mentions + excluded.mentions, "
            f"negative = {t}.negative + excluded.negative, "
            f"last_mention_at = CASE WHEN excluded.last_mention_at > {t}.last_mention_at "
            f"THEN excluded.last_mention_at ELSE {t}.last_mention_at END")


def authors_upsert(*, workspace_id: int, rows: dict[tuple[str, str], tuple[str, str, int, int | None]],
                   now: datetime) -> dict[tuple[str, str], int]:
    """(source, key) → (name, handle, reach, customer_id): insert or refresh; returns their ids.

    Name, handle and reach take the newest values; a customer link is set when found and never
    cleared here (an unlinked mention does not unlink the author).
    """
    t = Author._meta.db_table
    found = _insert(
        t, ("workspace_id", "source", "key", "name", "handle", "reach", "customer_id", "first_seen_at"),
        ("int8", "text", "text", "text", "text", "int8", "int8", "timestamptz"),
        [(workspace_id, source, key, name, handle, reach, customer_id, _dt(now))
         for (source, key), (name, handle, reach, customer_id) in sorted(rows.items())],
        f"ON CONFLICT (workspace_id, source, key) DO UPDATE SET "
        f"name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE {t}.name END, "
        f"handle = CASE WHEN excluded.handle <> '' THEN excluded.handle ELSE {t}.handle END, "
        f"reach = CASE WHEN excluded.reach > 0 THEN excluded.reach ELSE {t}.reach END, "
        f"customer_id = COALESCE(excluded.customer_id, {t}.customer_id) RETURNING id, source, key")
    return {(source, key): pk for pk, source, key in found}


# Mention columns written on ingest, in order, with their PostgreSQL types.
MENTION_COLUMNS = (
    ("workspace_id", "int8"), ("connector", "text"), ("source", "text"), ("feed_id", "int8"),
    ("external_id", "text"), ("dedupe_key", "text"), ("url", "text"), ("text", "text"), ("language", "text"),
    ("author_id", "int8"), ("author_name", "text"), ("author_handle", "text"), ("reach", "int8"),
    ("engagement", "int8"), ("customer_id", "int8"), ("published_at", "timestamptz"),
    ("created_at", "timestamptz"), ("label", "text"), ("model_label", "text"), ("score_positive", "float8"),
    ("score_neutral", "float8"), ("score_negative", "float8"), ("score_question", "float8"),
    ("velocity", "float8"), ("priority", "float8"), ("status", "text"), ("meta", "jsonb"),
)


def mentions_insert(rows: Sequence[Any]) -> None:
    """Insert new mentions (objects with the attributes of ``MENTION_COLUMNS``) and set their ``pk``.

    What Django's bulk_create does, without model instances compiled field by field: at
    thousands of mentions a second that cost more than the database's work. The ids are
    matched back by dedupe key.
    """
    import json

    from samphan.listening.models import Mention

    dt = datetime_adapter()
    values = [(m.workspace_id, m.connector, m.source, m.feed_id, m.external_id, m.dedupe_key, m.url, m.text,
               m.language, m.author_id, m.author_name, m.author_handle, m.reach, m.engagement, m.customer_id,
               dt(m.published_at), dt(m.created_at), m.label, m.model_label, m.score_positive, m.score_neutral,
               m.score_negative, m.score_question, m.velocity, m.priority, m.status,
               json.dumps(m.meta, ensure_ascii=False)) for m in rows]
    found = _insert(Mention._meta.db_table, [c for c, _ in MENTION_COLUMNS], [t for _, t in MENTION_COLUMNS],
                    values, "RETURNING id, dedupe_key")
    ids = {key: pk for pk, key in found}
    for m in rows:
        m.pk = ids[m.dedupe_key]


def mention_topics_insert(*, workspace_id: int, links: Sequence[tuple[int, int, datetime]]) -> None:
    """(mention_id, topic_id, published_at) rows of MentionTopic."""
    from samphan.listening.models import MentionTopic

    dt = datetime_adapter()
    _insert(MentionTopic._meta.db_table, ("workspace_id", "mention_id", "topic_id", "published_at"),
            ("int8", "int8", "int8", "timestamptz"),
            [(workspace_id, mention_id, topic_id, dt(published_at)) for mention_id, topic_id, published_at in links])


def zone_row(workspace_id: int, *, exclusive: bool) -> str | None:
    """The workspace's ``DailyRollupZone.time_zone``, locked until the transaction ends.

    Shared (``FOR SHARE``) for writers of the rollups; ``exclusive`` (``FOR UPDATE``, creating
    the row with an empty zone when missing) for a rebuild. SQLite has one writer at a time.
    """
    table = DailyRollupZone._meta.db_table
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if exclusive:
            cursor.execute(f"INSERT INTO {table} (workspace_id, time_zone) VALUES (%s, '') "
                           f"ON CONFLICT (workspace_id) DO NOTHING", [workspace_id])
        lock = (" FOR UPDATE" if exclusive else " FOR SHARE") if postgres else ""
        cursor.execute(f"SELECT time_zone FROM {table} WHERE workspace_id = %s{lock}", [workspace_id])
        row = cursor.fetchone()
    return row[0] if row else None
