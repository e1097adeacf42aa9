"""Listening reads. The dashboard's figures come from the rollups, never from scanning mentions.

- ``volume_series``: mentions per topic and day (or hour) by sentiment — ``MentionHourly``;
- ``share_of_voice``: each brand/competitor topic's share of their mentions in the period, and
  beside it its **heart share**: its share of their *positive* mentions — ``MentionHourly``;
- ``top_authors``: authors active in the period with the largest reach — ``AuthorTopic``
  (walked in reach order through its index), with their mentions in the period counted
  for those few authors only;
- ``mention_list``: the mentions, worst first (priority) or newest first, keyset-paginated
  through the matching index.
"""

from __future__ import annotations

import base64
import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from samphan.core.errors import ValidationFailed
from samphan.core.scoping import get_scoped_or_404
from samphan.listening.models import (
    ALL_TOPICS,
    LABELS,
    Alert,
    Author,
    AuthorTopic,
    Mention,
    MentionDaily,
    MentionHourly,
    MentionTopic,
    Source,
    Topic,
)
from samphan.listening.rollups import DAY, day_start, zone_named, zone_of_daily
from samphan.listening.spikes import HOUR, hour_of

MAX_DAYS = 366
MAX_PAGE = 100


def _ws(workspace: Any) -> int:
    return getattr(workspace, "pk", workspace)


def _zone(workspace: Any) -> ZoneInfo:
    return zone_named(getattr(workspace, "time_zone", "") or "")


@dataclass
class Period:
    since: datetime  # first hour included (UTC)
    until: datetime  # last hour included (UTC)
    days: int


def period_of(*, days: int = 30, now: datetime | None = None) -> Period:
    if not 1 <= int(days) <= MAX_DAYS:
        raise ValidationFailed(f"days must be between 1 and {MAX_DAYS}",
                               details=[{"field": "days", "reason": f"between 1 and {MAX_DAYS}"}])
    last = hour_of(now or timezone.now())
    return Period(since=last - (int(days) * 24 - 1) * HOUR, until=last, days=int(days))


def topics_of(*, workspace: Any, active_only: bool = False) -> QuerySet[Topic]:
    qs = Topic.objects.for_workspace(workspace).order_by("name", "id")
    return qs.filter(is_active=True) if active_only else qs


def topic_get(*, workspace: Any, topic_id: int) -> Topic:
    return get_scoped_or_404(Topic, workspace, pk=topic_id)


def _scope(workspace: Any, topic_id: int | None) -> int:
    if topic_id in (None, ALL_TOPICS):
        return ALL_TOPICS
    return topic_get(workspace=workspace, topic_id=int(topic_id)).pk


@dataclass
class _Split:
    """A period cut into whole local days (read from ``MentionDaily``) and hourly edges around them."""

    first_day: date  # first and last whole day
    last_day: date
    edges: list[tuple[datetime, datetime]]  # [since, until) hour ranges read from ``MentionHourly``


def _split(period: Period, zone: ZoneInfo) -> _Split | None:
    """The whole days of ``zone`` inside the period, or None when there is none.

    A day is whole when every hour starting in it is inside the period. Hours are whole UTC
    hours, so the last hour of a day starts before the next day's start.
    """
    first = period.since.astimezone(zone).date()
    if day_start(first, zone) < period.since:
        first += DAY
    end = period.until + HOUR  # the period as [since, end)
    last = end.astimezone(zone).date()
    while day_start(last + DAY, zone) > end:
        last -= DAY
    if last < first:
        return None
    return _Split(first, last, [(period.since, day_start(first, zone)), (day_start(last + DAY, zone), end)])


def _daily_zone(workspace: Any, wanted: ZoneInfo | None = None) -> ZoneInfo | None:
    """The zone of the workspace's daily rows, if they exist (and are in ``wanted`` when given)."""
    name = zone_of_daily(_ws(workspace))
    if not name or (wanted is not None and name != wanted.key):
        return None
    return zone_named(name)


def _hourly(workspace: Any, scopes: list[int], ranges: list[tuple[datetime, datetime]]) -> QuerySet:
    """Hourly rows of the scopes in the [start, end) ranges (empty ones skipped)."""
    cond = Q()
    for start, end in ranges:
        if start < end:
            cond |= Q(hour__gte=start, hour__lt=end)
    if not cond:
        return MentionHourly.objects.none()
    return MentionHourly.objects.filter(cond, workspace_id=_ws(workspace), topic_id__in=scopes)


def volume_series(*, workspace: Any, period: Period, topic_ids: list[int] | None = None,
                  bucket: str = "") -> dict[str, Any]:
    """{"bucket": "day"|"hour", "buckets": [labels], "series": {topic_id: {label: [counts]}, ...}}.

    Days are the workspace's local days (Asia/Bangkok by default). Topic 0 is all mentions.
    Whole days come from the daily rollup when it is counted in the workspace's zone; the
    partial days at the ends of the period, and hours, from the hourly rollup.
    """
    scopes = sorted(set(topic_ids or [ALL_TOPICS]))
    bucket = bucket or ("hour" if period.days <= 2 else "day")
    zone = _zone(workspace)
    keys: list[Any]
    if bucket == "hour":
        keys = [period.since + i * HOUR for i in range(period.days * 24)]
        label_of = [k.astimezone(zone).strftime("%d %b %H:00") for k in keys]
    else:
        first = period.since.astimezone(zone).date()
        last = period.until.astimezone(zone).date()
        keys = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        label_of = [k.isoformat() for k in keys]
    index = {k: i for i, k in enumerate(keys)}
    # Local days as UTC instants where each begins: a row's day is found by bisection, one time-zone
    # conversion per day instead of one per hourly row.
    day_starts = [day_start(k, zone) for k in keys] if bucket == "day" else []
    series = {s: {label: [0] * len(keys) for label in LABELS} for s in scopes}
    split = _split(period, zone) if bucket == "day" and _daily_zone(workspace, zone) else None
    if split is None:
        hourly = _hourly(workspace, scopes, [(period.since, period.until + HOUR)])
    else:
        hourly = _hourly(workspace, scopes, split.edges)
        days = (MentionDaily.objects.filter(workspace_id=_ws(workspace), topic_id__in=scopes,
                                            day__gte=split.first_day, day__lte=split.last_day)
                .values_list("topic_id", "day", *LABELS))
        for topic_id, day, *counts in days:
            target = series[topic_id]
            for label, count in zip(LABELS, counts, strict=True):
                target[label][index[day]] += count
    for topic_id, hour, *counts in hourly.values_list("topic_id", "hour", *LABELS):
        i = index.get(hour) if bucket == "hour" else bisect_right(day_starts, hour) - 1
        if i is None or i < 0:
            continue
        target = series[topic_id]
        for label, count in zip(LABELS, counts, strict=True):
            target[label][i] += count
    return {"bucket": bucket, "buckets": label_of, "keys": [k.isoformat() for k in keys], "series": series}


def totals_by_topic(*, workspace: Any, period: Period, topic_ids: list[int]) -> dict[int, dict[str, int]]:
    """topic id → {label: mentions in the period, "total": …}; grouped reads of the rollups.

    Whole days (of whatever zone the daily rollup is counted in) from ``MentionDaily``, the
    hours around them from ``MentionHourly``.
    """
    out = {t: {**dict.fromkeys(LABELS, 0), "total": 0} for t in topic_ids}
    if not topic_ids:
        return out
    zone = _daily_zone(workspace)
    split = _split(period, zone) if zone is not None else None
    sums = {f"s_{label}": Sum(label) for label in LABELS}
    reads: list[QuerySet] = []
    if split is None:
        reads.append(_hourly(workspace, topic_ids, [(period.since, period.until + HOUR)]))
    else:
        reads.append(_hourly(workspace, topic_ids, split.edges))
        reads.append(MentionDaily.objects.filter(workspace_id=_ws(workspace), topic_id__in=topic_ids,
                                                 day__gte=split.first_day, day__lte=split.last_day))
    for qs in reads:
        for row in qs.values("topic_id").annotate(**sums).order_by():
            entry = out[row["topic_id"]]
            for label in LABELS:
                entry[label] += row[f"s_{label}"] or 0
    for entry in out.values():
        entry["total"] = sum(entry[label] for label in LABELS)
    return out


def share_of_voice(*, workspace: Any, period: Period,
                   totals: dict[int, dict[str, int]] | None = None) -> list[dict[str, Any]]:
    """Each brand and competitor topic: mentions, share of voice, positive mentions, heart share, net sentiment.

    ``totals`` (from ``totals_by_topic`` for the same period) saves reading the rollup twice.
    """
    topics = list(topics_of(workspace=workspace, active_only=True)
                  .filter(kind__in=[Topic.Kind.BRAND, Topic.Kind.COMPETITOR]).values("id", "name", "kind"))
    if totals is None or any(t["id"] not in totals for t in topics):
        totals = totals_by_topic(workspace=workspace, period=period, topic_ids=[t["id"] for t in topics])
    all_mentions = sum(totals[t["id"]]["total"] for t in topics)
    all_positive = sum(totals[t["id"]]["positive"] for t in topics)
    out: list[dict[str, Any]] = []
    for t in topics:
        c = totals[t["id"]]
        opinionated = c["positive"] + c["negative"]
        out.append({
            "topic_id": t["id"], "name": t["name"], "kind": t["kind"], "mentions": c["total"],
            "positive": c["positive"], "negative": c["negative"],
            "share_of_voice": round(c["total"] / all_mentions, 4) if all_mentions else 0.0,
            "heart_share": round(c["positive"] / all_positive, 4) if all_positive else 0.0,
            "net_sentiment": round((c["positive"] - c["negative"]) / opinionated, 4) if opinionated else 0.0,
        })
    out.sort(key=lambda r: (r["kind"] != Topic.Kind.BRAND, -r["mentions"], r["name"]))
    return out


def top_authors(*, workspace: Any, period: Period, topic_id: int | None = None, limit: int = 10) -> list[dict]:
    """The authors with the largest reach among those with a mention (of the topic) in the period."""
    scope = _scope(workspace, topic_id)
    rows = list(AuthorTopic.objects.filter(workspace_id=_ws(workspace), topic_id=scope,
                                           last_mention_at__gte=period.since)
                .order_by("-reach", "-id").values("author_id", "reach", "mentions", "negative")[:limit])
    if not rows:
        return []
    ids = [r["author_id"] for r in rows]
    authors = {a.pk: a for a in Author.objects.filter(pk__in=ids).select_related("customer")}
    mentions = Mention.objects.filter(author_id__in=ids, published_at__gte=period.since)
    if scope != ALL_TOPICS:
        mentions = mentions.filter(Exists(MentionTopic.objects.filter(mention_id=OuterRef("pk"), topic_id=scope)))
    in_period = {r["author_id"]: r for r in mentions.values("author_id").annotate(
        n=Count("id"), neg=Count("id", filter=Q(label="negative")))}
    out = []
    for r in rows:
        a = authors[r["author_id"]]
        p = in_period.get(a.pk, {"n": 0, "neg": 0})
        out.append({"author_id": a.pk, "name": a.name, "handle": a.handle, "source": a.source, "reach": a.reach,
                    "mentions": p["n"], "negative": p["neg"], "mentions_all_time": r["mentions"],
                    "customer_id": a.customer_id, "customer_name": a.customer.name if a.customer else ""})
    return out


def alerts_recent(*, workspace: Any, limit: int = 10, open_only: bool = False) -> QuerySet[Alert]:
    qs = Alert.objects.for_workspace(workspace).select_related("topic").order_by("-created_at", "-id")
    if open_only:
        qs = qs.filter(acknowledged_at__isnull=True)
    return qs[:limit]


def alerts_open_count(*, workspace: Any) -> int:
    return Alert.objects.for_workspace(workspace).filter(acknowledged_at__isnull=True).count()


# --- mentions ------------------------------------------------------------------------------


@dataclass
class MentionFilters:
    topic_id: int | None = None
    status: str = ""  # new / handled / dismissed; empty: all
    label: str = ""
    source: str = ""
    q: str = ""
    order: str = "priority"  # priority (worst first) or newest


def _encode(values: list[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def _decode(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != 2:
            raise ValueError
        return values
    except (ValueError, TypeError):
        raise ValidationFailed("the cursor is not valid", details=[{"field": "cursor", "reason": "invalid"}]) from None


def mention_list(*, workspace: Any, filters: MentionFilters | None = None, cursor: str = "",
                 limit: int = 25) -> tuple[list[Mention], str | None]:
    """A page of mentions and the cursor of the next page (None at the end)."""
    f = filters or MentionFilters()
    if f.order not in ("priority", "newest"):
        raise ValidationFailed("order is priority or newest", details=[{"field": "order", "reason": "unknown"}])
    if f.status and f.status not in Mention.Status.values:
        raise ValidationFailed(f"status is one of {', '.join(Mention.Status.values)}",
                               details=[{"field": "status", "reason": "unknown"}])
    if f.label and f.label not in LABELS:
        raise ValidationFailed(f"label is one of {', '.join(LABELS)}", details=[{"field": "label", "reason": "unknown"}])
    limit = max(1, min(MAX_PAGE, int(limit)))
    qs = Mention.objects.for_workspace(workspace)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.label:
        qs = qs.filter(label=f.label)
    if f.source:
        qs = qs.filter(source=f.source.lower())
    if f.q:
        qs = qs.filter(text__icontains=f.q.strip()[:100])
    scope = _scope(workspace, f.topic_id)
    if scope != ALL_TOPICS:
        qs = qs.filter(Exists(MentionTopic.objects.filter(mention_id=OuterRef("pk"), topic_id=scope)))
    if f.order == "priority":
        order = ("-priority", "-id")
        if cursor:
            value, pk = _decode(cursor)
            qs = qs.filter(Q(priority__lt=value) | Q(priority=value, id__lt=pk))
    else:
        order = ("-published_at", "-id")
        if cursor:
            value, pk = _decode(cursor)
            try:
                moment = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise ValidationFailed("the cursor is not valid",
                                       details=[{"field": "cursor", "reason": "invalid"}]) from None
            qs = qs.filter(Q(published_at__lt=moment) | Q(published_at=moment, id__lt=pk))
    rows = list(qs.select_related("customer", "author").order_by(*order)[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = _encode([last.priority if f.order == "priority" else last.published_at.isoformat(), last.pk])
    _attach_topics(rows)
    return rows, next_cursor


def _attach_topics(rows: list[Mention]) -> None:
    names: dict[int, list[dict[str, Any]]] = {r.pk: [] for r in rows}
    if rows:
        for mention_id, topic_id, name, kind in (MentionTopic.objects.filter(mention_id__in=list(names))
                                                 .values_list("mention_id", "topic_id", "topic__name", "topic__kind")
                                                 .order_by("topic__name")):
            names[mention_id].append({"id": topic_id, "name": name, "kind": kind})
    for r in rows:
        r.topic_list = names[r.pk]  # type: ignore[attr-defined]


def mention_get(*, workspace: Any, mention_id: int) -> Mention:
    mention = get_scoped_or_404(Mention.objects.select_related("customer", "author", "label_corrected_by"),
                                workspace, pk=mention_id)
    _attach_topics([mention])
    return mention


def sources_of(*, workspace: Any) -> QuerySet[Source]:
    return Source.objects.for_workspace(workspace).order_by("name", "id")


def topic_mention_counts(*, workspace: Any) -> dict[int, int]:
    """All-time mentions per topic, from the daily rollup (the hourly one when there is none)."""
    model = MentionDaily if _daily_zone(workspace) is not None else MentionHourly
    rows = (model.objects.filter(workspace_id=_ws(workspace)).exclude(topic_id=ALL_TOPICS)
            .values("topic_id").annotate(n=Sum("positive") + Sum("neutral") + Sum("negative") + Sum("question")))
    return {r["topic_id"]: r["n"] or 0 for r in rows}


def dashboard(*, workspace: Any, days: int = 30, topic_id: int | None = None,
              now: datetime | None = None) -> dict[str, Any]:
    """Everything the dashboard page shows, for the period ending now."""
    period = period_of(days=days, now=now)
    scope = _scope(workspace, topic_id)
    topics = list(topics_of(workspace=workspace, active_only=True))
    volume = volume_series(workspace=workspace, period=period,
                           topic_ids=[scope] if scope != ALL_TOPICS else [ALL_TOPICS])
    totals = totals_by_topic(workspace=workspace, period=period,
                             topic_ids=sorted({ALL_TOPICS, scope, *(t.pk for t in topics)}))
    priority, _cursor = mention_list(workspace=workspace, filters=MentionFilters(topic_id=scope or None,
                                                                                 status="new"), limit=10)
    return {
        "period": period, "topic_id": scope, "topics": topics, "volume": volume,
        "totals": totals[scope],
        "topic_totals": {t.pk: totals[t.pk] for t in topics},
        "share_of_voice": share_of_voice(workspace=workspace, period=period, totals=totals),
        "top_authors": top_authors(workspace=workspace, period=period, topic_id=scope or None),
        "priority": priority, "alerts": list(alerts_recent(workspace=workspace, limit=5, open_only=True)),
    }

