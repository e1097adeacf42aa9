"""Fetching sources on their schedule, and on demand.

``fetch_due_sources`` takes every active source whose ``next_fetch_at`` has passed (locking
each row with SKIP LOCKED on PostgreSQL, so two schedulers never fetch the same source), fetches
it, ingests what is new and records the outcome: ``last_fetched_at``, ``last_count``,
``last_error`` (a failure is kept on the source for the UI, and the source is tried again at its
next interval), and the cursor (feeds: ETag / Last-Modified; X: the newest post id). Run it
every minute from cron (``samphan listening fetch --due``) or Celery beat (task
``listening.fetch_due``).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from samphan.listening.connectors import FetchFailed
from samphan.listening.connectors import rss as rss_connector
from samphan.listening.connectors import x as x_connector
from samphan.listening.ingest import IngestResult, mentions_ingest
from samphan.listening.models import Mention, Source

logger = logging.getLogger("samphan.listening")


def x_bearer_token(source: Source) -> str:
    return source.secrets.get("bearer_token") or getattr(settings, "SAMPHAN_X_BEARER_TOKEN", "") or ""


def source_fetch(source: Source) -> dict[str, Any]:
    """Fetch one source now and ingest its new mentions. Raises FetchFailed."""
    result = IngestResult()
    rejected = 0
    if source.kind == Source.Kind.RSS:
        body, etag, modified = rss_connector.fetch_feed(url=source.url, etag=source.etag, modified=source.modified)
        if body is not None:
            items, errors, _info = rss_connector.parse_feed(body, feed_url=source.url)
            rejected = len(errors)
            result = mentions_ingest(workspace=source.workspace_id, items=items, connector=Mention.Connector.RSS,
                                     feed=source)
        source.etag, source.modified = etag, modified
    elif source.kind == Source.Kind.X:
        items, errors, newest = x_connector.search_recent(query=source.query, bearer_token=x_bearer_token(source),
                                                          since_id=source.cursor)
        rejected = len(errors)
        result = mentions_ingest(workspace=source.workspace_id, items=items, connector=Mention.Connector.X,
                                 feed=source)
        source.cursor = newest or source.cursor
    else:
        raise FetchFailed(f"unknown source kind {source.kind!r}")
    return {**result.as_dict(), "rows_rejected": rejected}


def _record(source: Source, *, now, count: int = 0, error: str = "") -> None:
    source.last_fetched_at = now
    source.last_count = count
    source.last_error = error[:500]
    source.next_fetch_at = now + timedelta(minutes=source.interval_minutes)
    source.save(update_fields=["last_fetched_at", "last_count", "last_error", "next_fetch_at", "etag", "modified",
                               "cursor"])


def source_fetch_now(*, source_id: int) -> dict[str, Any]:
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        return {"error": "no such source"}
    return _fetch_and_record(source)


def _fetch_and_record(source: Source) -> dict[str, Any]:
    now = timezone.now()
    try:
        outcome = source_fetch(source)
    except FetchFailed as exc:
        logger.warning("listening source %s (%s) failed: %s", source.pk, source.kind, exc.message)
        _record(source, now=now, error=exc.message)
        return {"source": source.pk, "error": exc.message}
    _record(source, now=now, count=outcome["created"])
    return {"source": source.pk, **outcome}


def _claim_due(now, limit: int, workspace_id: int | None) -> list[Source]:
    with transaction.atomic():
        qs = Source.objects.filter(is_active=True, next_fetch_at__lte=now).order_by("next_fetch_at", "id")
        if workspace_id is not None:
            qs = qs.filter(workspace_id=workspace_id)
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        due = list(qs[:limit])
        # Push them forward now, so a second scheduler running meanwhile does not take them too.
        for source in due:
            Source.objects.filter(pk=source.pk).update(
                next_fetch_at=now + timedelta(minutes=source.interval_minutes))
    return due


def fetch_due_sources(*, workspace: Any = None, limit: int = 100) -> dict[str, Any]:
    now = timezone.now()
    due = _claim_due(now, limit, getattr(workspace, "pk", workspace))
    outcomes = [_fetch_and_record(source) for source in due]
    return {"sources": len(outcomes), "created": sum(o.get("created", 0) for o in outcomes),
            "failed": sum(1 for o in outcomes if o.get("error")), "outcomes": outcomes}
