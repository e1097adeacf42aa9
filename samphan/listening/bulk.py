"""Upserts that keep the rollups and authors in step with the mentions, one statement per batch.

``INSERT … ON CONFLICT (…) DO UPDATE`` adds a batch's counts to the existing rows; PostgreSQL
and SQLite (3.24+, RETURNING from 3.35) both speak it, so one code path serves both. Rows are
sent in key order so two workers upserting the same rows lock them in the same order (no
deadlock). Datetimes go through the backend's adapter, so SQLite stores the same text Django
would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from samphan.listening.models import Author, AuthorTopic, MentionHourly

_CHUNK = 400  # rows per statement: 7 parameters each, under SQLite's 32,766-parameter limit


def _dt(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _chunks(rows: Sequence[Any], size: int = _CHUNK):
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def hourly_add(*, workspace_id: int, rows: dict[tuple[int, datetime], list[int]]) -> None:
    """Add counts [positive, neutral, negative, question] to (topic_id, hour) rows; negative deltas allowed."""
    table = MentionHourly._meta.db_table
    ordered = sorted(rows.items())
    for chunk in _chunks(ordered):
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        params: list[Any] = []
        for (topic_id, hour), (pos, neu, neg, que) in chunk:
            params.extend([workspace_id, topic_id, _dt(hour), pos, neu, neg, que])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (workspace_id, topic_id, hour, positive, neutral, negative, question) "
                f"VALUES {values} ON CONFLICT (workspace_id, topic_id, hour) DO UPDATE SET "
                f"positive = {table}.positive + excluded.positive, neutral = {table}.neutral + excluded.neutral, "
                f"negative = {table}.negative + excluded.negative, question = {table}.question + excluded.question",
                params)


def author_topics_add(*, workspace_id: int, rows: dict[tuple[int, int], tuple[int, int, int, datetime]]) -> None:
    """(author_id, topic_id) → (reach, mentions, negative, last_mention_at): add the counts, keep the latest."""
    table = AuthorTopic._meta.db_table
    ordered = sorted(rows.items())
    for chunk in _chunks(ordered):
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        params: list[Any] = []
        for (author_id, topic_id), (reach, mentions, negative, last) in chunk:
            params.extend([workspace_id, author_id, topic_id, reach, mentions, negative, _dt(last)])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (workspace_id, author_id, topic_id, reach, mentions, negative, last_mention_at) "
                f"VALUES {values} ON CONFLICT (author_id, topic_id) DO UPDATE SET "
                f"reach = excluded.reach, mentions = {table}.mentions + excluded.mentions, "
                f"negative = {table}.negative + excluded.negative, "
                f"last_mention_at = CASE WHEN excluded.last_mention_at > {table}.last_mention_at "
                f"THEN excluded.last_mention_at ELSE {table}.last_mention_at END",
                params)


def authors_upsert(*, workspace_id: int, rows: dict[tuple[str, str], tuple[str, str, int, int | None]],
                   now: datetime) -> dict[tuple[str, str], int]:
    """(source, key) → (name, handle, reach, customer_id): insert or refresh; returns their ids.

    Name, handle and reach take the newest values; a customer link is set when found and never
    cleared here (an unlinked mention does not unlink the author).
    """
    table = Author._meta.db_table
    ids: dict[tuple[str, str], int] = {}
    ordered = sorted(rows.items())
    for chunk in _chunks(ordered):
        values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
        params: list[Any] = []
        for (source, key), (name, handle, reach, customer_id) in chunk:
            params.extend([workspace_id, source, key, name, handle, reach, customer_id, _dt(now)])
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (workspace_id, source, key, name, handle, reach, customer_id, first_seen_at) "
                f"VALUES {values} ON CONFLICT (workspace_id, source, key) DO UPDATE SET "
                f"name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE {table}.name END, "
                f"handle = CASE WHEN excluded.handle <> '' THEN excluded.handle ELSE {table}.handle END, "
                f"reach = CASE WHEN excluded.reach > 0 THEN excluded.reach ELSE {table}.reach END, "
                f"customer_id = COALESCE(excluded.customer_id, {table}.customer_id) "
                f"RETURNING id, source, key",
                params)
            for pk, source, key in cursor.fetchall():
                ids[(source, key)] = pk
    return ids


# Mention columns written on ingest, in order (the rest keep their database defaults: none here).
MENTION_COLUMNS = ("workspace_id", "connector", "source", "feed_id", "external_id", "dedupe_key", "url", "text",
                   "language", "author_id", "author_name", "author_handle", "reach", "engagement", "customer_id",
                   "published_at", "created_at", "label", "model_label", "score_positive", "score_neutral",
                   "score_negative", "score_question", "label_corrected_by_id", "label_corrected_at", "velocity",
                   "priority", "status", "conversation_id", "meta")
_MENTION_CHUNK = 500  # 30 parameters a row


def mentions_insert(rows: Sequence[Any]) -> None:
    """Insert Mention objects in multi-row statements and set their ids (matched back by dedupe key).

    What Django's bulk_create does, without compiling a model instance field by field: at a few
    thousand mentions a second that compilation cost more than the database's work.
    """
    import json

    from samphan.listening.models import Mention

    table = Mention._meta.db_table
    columns = ", ".join(MENTION_COLUMNS)
    for chunk in _chunks(rows, _MENTION_CHUNK):
        params: list[Any] = []
        for m in chunk:
            params.extend([m.workspace_id, m.connector, m.source, m.feed_id, m.external_id, m.dedupe_key, m.url,
                           m.text, m.language, m.author_id, m.author_name, m.author_handle, m.reach, m.engagement,
                           m.customer_id, _dt(m.published_at), _dt(m.created_at), m.label, m.model_label,
                           m.score_positive, m.score_neutral, m.score_negative, m.score_question, None, None,
                           m.velocity, m.priority, m.status, None, json.dumps(m.meta, ensure_ascii=False)])
        row = "(" + ", ".join(["%s"] * len(MENTION_COLUMNS)) + ")"
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(chunk))} "
                           f"RETURNING id, dedupe_key", params)
            ids = {key: pk for pk, key in cursor.fetchall()}
        for m in chunk:
            m.pk = m.id = ids[m.dedupe_key]
            m._state.adding = False


def mention_topics_insert(*, workspace_id: int, links: Sequence[tuple[int, int, datetime]]) -> None:
    """(mention_id, topic_id, published_at) rows of MentionTopic."""
    from samphan.listening.models import MentionTopic

    table = MentionTopic._meta.db_table
    for chunk in _chunks(links, 1000):
        params: list[Any] = []
        for mention_id, topic_id, published_at in chunk:
            params.extend([workspace_id, mention_id, topic_id, _dt(published_at)])
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} (workspace_id, mention_id, topic_id, published_at) VALUES "
                           + ", ".join(["(%s, %s, %s, %s)"] * len(chunk)), params)
