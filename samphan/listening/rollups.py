"""The per-day rollup (``MentionDaily``): days of the workspace's time zone, kept exactly.

``MentionHourly`` counts mentions per topic and UTC hour; ``MentionDaily`` holds the same
counts summed per local day, so a dashboard over a year reads 365 rows per topic instead of
8,760. An hourly row belongs to the day its hour starts in: the day ``d`` with
``start(d) ≤ hour < start(d + 1)``, ``start(d)`` being local midnight of ``d`` as a UTC
instant — the bucketing the dashboard always used, so daily counts equal summed hourly ones.

Every writer of the hourly rollup (ingest, label corrections, topic rematches and deletions)
writes the daily one in the same transaction, through ``zone_for_write``:

- it holds the workspace's ``DailyRollupZone`` row (``FOR SHARE`` on PostgreSQL) for the rest
  of the transaction, so a rebuild cannot interleave with it;
- when the workspace has no row yet, or its time zone changed since the daily rows were
  counted, it rebuilds them from the hourly rows first (holding the row exclusively).

Readers use the daily rows only when they were counted in the zone they need
(``zone_of_daily``); otherwise they read the hourly rows, as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from samphan.listening import bulk
from samphan.listening.models import LABELS, DailyRollupZone, MentionDaily, MentionHourly

DAY = timedelta(days=1)


def zone_named(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or timezone.get_default_timezone_name())
    except Exception:  # a bad name in the database must not break the dashboard or ingest
        return ZoneInfo("UTC")


def workspace_zone(workspace: Any) -> ZoneInfo:
    """The workspace's time zone (``Workspace.time_zone``; UTC when the name is not valid)."""
    name = getattr(workspace, "time_zone", None)
    if name is None:
        from samphan.accounts.models import Workspace

        name = Workspace.objects.filter(pk=workspace).values_list("time_zone", flat=True).first() or ""
    return zone_named(name)


@lru_cache(maxsize=8192)
def day_start(day: date, zone: ZoneInfo) -> datetime:
    """Local midnight of ``day`` as a UTC instant (the dashboard's day boundaries)."""
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


@lru_cache(maxsize=65536)
def day_of(hour: datetime, zone: ZoneInfo) -> date:
    """The local day an hour belongs to: the ``d`` with ``day_start(d) ≤ hour < day_start(d + 1)``."""
    d = hour.astimezone(zone).date()
    if day_start(d, zone) > hour:  # a midnight that happens twice (clocks set back at 00:00)
        d -= DAY
    elif day_start(d + DAY, zone) <= hour:
        d += DAY
    return d


def daily_of(hourly: dict[tuple[int, datetime], list[int]], zone: ZoneInfo) -> dict[tuple[int, date], list[int]]:
    """Hourly counts {(topic, hour): [4 counts]} summed into {(topic, day): [4 counts]}."""
    out: dict[tuple[int, date], list[int]] = {}
    for (topic_id, hour), counts in hourly.items():
        target = out.setdefault((topic_id, day_of(hour, zone)), [0, 0, 0, 0])
        for i, n in enumerate(counts):
            target[i] += n
    return out


def zone_of_daily(workspace_id: int) -> str | None:
    """The zone the workspace's daily rows are counted in; None when there are none to read."""
    return DailyRollupZone.objects.filter(workspace_id=workspace_id).values_list("time_zone", flat=True).first()


def zone_for_write(workspace_id: int) -> ZoneInfo:
    """The zone to count daily rows in, holding the workspace's zone row until the transaction ends.

    Call inside the transaction that writes the rollups, before it takes other locks. When the
    workspace has no daily rows yet or its time zone changed, they are first rebuilt from the
    hourly rows in the new zone (holding the row exclusively; a concurrent writer waits, then
    finds the zone right). Otherwise the row is only shared: writers do not wait for each other.
    """
    wanted = workspace_zone(workspace_id)
    if zone_of_daily(workspace_id) != wanted.key and bulk.zone_row(workspace_id, exclusive=True) != wanted.key:
        daily_rebuild(workspace_id=workspace_id, zone=wanted)
        DailyRollupZone.objects.filter(workspace_id=workspace_id).update(time_zone=wanted.key)
    # Normally the wanted zone; another one only if the zone changed a moment ago (its rows stay
    # consistent and the next writer rebuilds them).
    return zone_named(bulk.zone_row(workspace_id, exclusive=False) or wanted.key)


def daily_rebuild(*, workspace_id: int, zone: ZoneInfo, topic_ids: Iterable[int] | None = None) -> None:
    """Recount the daily rows (of some topics, or all) from the hourly rows, in ``zone``'s days."""
    daily = MentionDaily.objects.filter(workspace_id=workspace_id)
    hourly_rows = MentionHourly.objects.filter(workspace_id=workspace_id)
    if topic_ids is not None:
        topic_ids = list(topic_ids)
        daily = daily.filter(topic_id__in=topic_ids)
        hourly_rows = hourly_rows.filter(topic_id__in=topic_ids)
    daily.delete()
    hourly = {(topic_id, hour): counts for topic_id, hour, *counts
              in hourly_rows.values_list("topic_id", "hour", *LABELS).iterator(chunk_size=10_000)}
    rows = {key: counts for key, counts in daily_of(hourly, zone).items() if any(counts)}
    if rows:
        bulk.daily_add(workspace_id=workspace_id, rows=rows)


@transaction.atomic
def daily_rebuild_workspace(*, workspace_id: int) -> str:
    """Recount all the workspace's daily rows in its current time zone (``samphan listening rollups``)."""
    zone = workspace_zone(workspace_id)
    bulk.zone_row(workspace_id, exclusive=True)
    daily_rebuild(workspace_id=workspace_id, zone=zone)
    DailyRollupZone.objects.filter(workspace_id=workspace_id).update(time_zone=zone.key)
    return zone.key
