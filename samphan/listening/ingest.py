"""The one write path for mentions, from every connector: ``mentions_ingest``.

For a batch of ``MentionIn`` it

1. drops duplicates — in the batch and against the workspace's stored mentions — on the
   dedupe key: ``sha1(source:external_id)``, or when a connector has no id,
   ``sha1(source:author:normalised text)`` (the content-hash fallback);
2. classifies them with ``samphan.sentiment.workspace.classify_for_workspace`` — the
   workspace's own retrained models where it has them, else the default ones — in batches of
   2,000 (the model's cost is per batch more than per text), keeping label, the four scores and
   the language;
3. matches them to the workspace's active topics (``matching.py``);
4. links each to a customer when an identity of its author (X user id or handle, Facebook id,
   e-mail, LINE id, phone) is known in the workspace — nobody is created here;
5. computes velocity and the priority score (below);
6. writes, in one transaction: authors (upsert), mentions (bulk insert), mention↔topic rows,
   the hourly and daily rollups and the per-author rollup (upserts adding the batch's counts);
7. judges the current hour for a negative spike on the touched topics (``spikes.py``).

Classification and matching run before the transaction, so a slow batch does not hold locks.

**Priority** (the "handle the worst first" order):

    priority = log10(10 + reach) × negativity × velocity

- reach: the author's followers (X ``public_metrics.followers_count``; 0 when unknown), on a
  log scale so 1 M followers weigh 6× one follower, not a million times;
- negativity: the model's probability of "negative" (after an agent's correction: 1 if
  corrected to negative, else 0);
- velocity = surge × spread, as of when the mention arrived:
  surge = negative mentions in the mention's hour ÷ the mean per hour over the 7 days before,
  on the mention's topics (the largest of them; all mentions when it has none), at least 1,
  at most 100 — how fast negativity about this is growing right now;
  spread = 1 + log10(1 + engagement per hour since posting) — how fast the post itself travels
  (likes, reposts, replies, quotes; 1 when the source does not say).
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from samphan.customers.selectors import customer_ids_by_identity
from samphan.listening import bulk
from samphan.listening.matching import matcher_for
from samphan.listening.models import ALL_TOPICS, LABELS, Mention, Topic
from samphan.listening.rollups import daily_of, zone_for_write
from samphan.listening.spikes import HOUR, baseline_hours, hour_of
from samphan.listening.spikes import check as spikes_check
from samphan.sentiment.text import normalise

logger = logging.getLogger("samphan.listening")

CLASSIFY_BATCH = 2000
_KEY_CHUNK = 900
MAX_TEXT = 20_000
SURGE_CAP = 100.0


@dataclass
class MentionIn:
    """A mention as a connector read it."""

    source: str  # where it was published: "x", "facebook", "pantip.com"…
    text: str
    external_id: str = ""
    url: str = ""
    published_at: datetime | None = None
    author_id: str = ""  # the platform's id of the author
    author_handle: str = ""
    author_name: str = ""
    reach: int = 0  # the author's followers
    engagement: int = 0  # likes + reposts + replies + quotes
    language: str = ""  # given by the source; else the detected one
    identities: list[tuple[str, str]] = field(default_factory=list)  # (customers Identity kind, value)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class IngestResult:
    received: int = 0
    created: int = 0
    duplicates: int = 0
    linked: int = 0
    matched: int = 0
    alerts: int = 0
    mention_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {"received": self.received, "created": self.created, "duplicates": self.duplicates,
                "linked_to_customers": self.linked, "matched_topics": self.matched, "alerts": self.alerts}

    def add(self, other: IngestResult) -> None:
        for name in ("received", "created", "duplicates", "linked", "matched", "alerts"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.mention_ids.extend(other.mention_ids)


@dataclass(slots=True)
class _NewMention:
    """A mention about to be inserted: the columns ``bulk.mentions_insert`` writes, and what the
    rollups need (no Django model instance: building thousands of them cost more than the insert)."""

    workspace_id: int
    connector: str
    source: str
    feed_id: int | None
    external_id: str
    dedupe_key: str
    url: str
    text: str
    language: str
    author_name: str
    author_handle: str
    reach: int
    engagement: int
    customer_id: int | None
    published_at: datetime
    created_at: datetime
    label: str
    model_label: str
    score_positive: float
    score_neutral: float
    score_negative: float
    score_question: float
    velocity: float
    priority: float
    meta: dict[str, Any]
    author_key: tuple[str, str] | None
    topics: set[int]
    hour: datetime
    status: str = Mention.Status.NEW
    author_id: int | None = None
    pk: int = 0  # set by the insert


def author_key(item: MentionIn) -> str:
    return (item.author_id or item.author_handle.lstrip("@").lower() or item.author_name.strip().lower())[:255]


def dedupe_key(item: MentionIn) -> str:
    if item.external_id:
        raw = f"{item.source.lower()}:{item.external_id}"
    else:
        raw = f"{item.source.lower()}:{author_key(item)}:{normalise(item.text)}"
    return hashlib.sha1(raw.encode(), usedforsecurity=False).hexdigest()


def topic_matcher(workspace_id: int):
    topics = list(Topic.objects.filter(workspace_id=workspace_id, is_active=True)
                  .values_list("id", "include_terms", "exclude_terms"))
    return matcher_for(topics)


def _existing_keys(workspace_id: int, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(keys), _KEY_CHUNK):
        found.update(Mention.objects.filter(workspace_id=workspace_id, dedupe_key__in=keys[i:i + _KEY_CHUNK])
                     .values_list("dedupe_key", flat=True))
    return found


def priority_of(*, reach: int, negativity: float, velocity: float) -> float:
    return round(math.log10(10 + max(0, reach)) * negativity * velocity, 4)


def spread_of(*, engagement: int, published_at: datetime, now: datetime) -> float:
    if engagement <= 0:
        return 1.0
    hours = max(1.0, (now - published_at).total_seconds() / 3600)
    return 1.0 + math.log10(1.0 + engagement / hours)


def _surges(workspace_id: int, needed: dict[int, set[datetime]],
            batch_negative: dict[tuple[int, datetime], int]) -> dict[tuple[int, datetime], float]:
    """(scope, hour) → negative count in that hour ÷ the mean of the baseline hours before it."""
    from samphan.listening.spikes import negatives_by_hour

    span = baseline_hours()
    out: dict[tuple[int, datetime], float] = {}
    all_hours = [h for hours in needed.values() for h in hours]
    if not all_hours:
        return out
    first, last = min(all_hours) - span * HOUR, max(all_hours)
    stored = negatives_by_hour(workspace_id=workspace_id, scopes=needed, since=first, until=last)
    n = int((last - first) / HOUR) + 1
    for scope, hours in needed.items():
        dense = np.zeros(n, dtype=np.float64)
        for hour, count in stored.get(scope, {}).items():
            dense[int((hour - first) / HOUR)] += count
        for (s, hour), count in batch_negative.items():
            if s == scope:
                dense[int((hour - first) / HOUR)] += count
        prefix = np.concatenate([[0.0], np.cumsum(dense)])
        for hour in hours:
            i = int((hour - first) / HOUR)
            mean = (prefix[i] - prefix[i - span]) / span
            out[(scope, hour)] = float(min(SURGE_CAP, max(1.0, dense[i] / max(mean, 1.0))))
    return out


def mentions_ingest(*, workspace: Any, items: Sequence[MentionIn], connector: str, feed: Any = None,
                    now: datetime | None = None, check_spikes: bool = True) -> IngestResult:
    """Store a batch of mentions of one workspace. Idempotent: a mention seen before is skipped."""
    from samphan.sentiment.workspace import classify_for_workspace

    workspace_id = getattr(workspace, "pk", workspace)
    now = now or timezone.now()
    result = IngestResult(received=len(items))

    fresh: list[tuple[str, MentionIn]] = []
    seen: set[str] = set()
    for item in items:
        key = dedupe_key(item)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        fresh.append((key, item))
    existing = _existing_keys(workspace_id, [k for k, _ in fresh])
    result.duplicates += len(existing)
    fresh = [(k, i) for k, i in fresh if k not in existing]
    if not fresh:
        return result

    texts = [i.text[:MAX_TEXT] for _, i in fresh]
    sentiments: list[dict] = []
    for start in range(0, len(texts), CLASSIFY_BATCH):
        sentiments.extend(classify_for_workspace(workspace=workspace_id, texts=texts[start:start + CLASSIFY_BATCH]))
    topic_sets = topic_matcher(workspace_id).match_many(texts)
    wanted = {ident for _, i in fresh for ident in i.identities if ident[1]}
    customers = customer_ids_by_identity(workspace=workspace_id, identities=wanted) if wanted else {}

    # In UTC: the hourly rollup's hours are UTC hours (a +05:30 time truncated locally would not be).
    published = [min(i.published_at or now, now + timedelta(minutes=5)).astimezone(UTC) for _, i in fresh]
    hours = [hour_of(p) for p in published]
    needed: dict[int, set[datetime]] = defaultdict(set)
    batch_negative: dict[tuple[int, datetime], int] = defaultdict(int)
    for topics, hour, s in zip(topic_sets, hours, sentiments, strict=True):
        for scope in (topics or {ALL_TOPICS}):
            needed[scope].add(hour)
            if s["label"] == "negative":
                batch_negative[(scope, hour)] += 1

    with transaction.atomic():
        zone = zone_for_write(workspace_id)  # first: it may take the zone row exclusively
        surges = _surges(workspace_id, needed, batch_negative)
        authors: dict[tuple[str, str], tuple[str, str, int, int | None]] = {}
        rows: list[_NewMention] = []
        for (key, item), s, topics, when, hour in zip(fresh, sentiments, topic_sets, published, hours, strict=True):
            customer_id = next((customers[ident] for ident in item.identities if ident in customers), None)
            akey = author_key(item)
            if akey:
                previous = authors.get((item.source, akey))
                authors[(item.source, akey)] = (item.author_name[:255], item.author_handle.lstrip("@")[:100],
                                                max(item.reach, previous[2] if previous else 0),
                                                customer_id or (previous[3] if previous else None))
            surge = max(surges[(scope, hour)] for scope in (topics or {ALL_TOPICS}))
            velocity = round(surge * spread_of(engagement=item.engagement, published_at=when, now=now), 4)
            scores = s["scores"]
            rows.append(_NewMention(
                workspace_id=workspace_id, connector=connector, source=item.source[:64],
                feed_id=getattr(feed, "pk", feed), external_id=item.external_id[:255], dedupe_key=key,
                url=item.url[:1000], text=item.text[:MAX_TEXT],
                language=(item.language or s["language"])[:8], author_name=item.author_name[:255],
                author_handle=item.author_handle.lstrip("@")[:100], reach=max(0, item.reach),
                engagement=max(0, item.engagement), customer_id=customer_id, published_at=when, created_at=now,
                label=s["label"], model_label=s["label"], score_positive=scores["positive"],
                score_neutral=scores["neutral"], score_negative=scores["negative"],
                score_question=scores["question"], velocity=velocity,
                priority=priority_of(reach=item.reach, negativity=scores["negative"], velocity=velocity),
                meta={**item.meta, "identities": [list(i) for i in item.identities]} if item.identities
                else (item.meta or {}),
                author_key=(item.source, akey) if akey else None, topics=topics, hour=hour,
            ))
        author_ids = bulk.authors_upsert(workspace_id=workspace_id, rows=authors, now=now) if authors else {}
        for row in rows:
            row.author_id = author_ids.get(row.author_key) if row.author_key else None
        rows = _insert(workspace_id, rows, result)
        _topics_and_rollups(workspace_id, rows, zone)
        result.created = len(rows)
        result.linked = sum(r.customer_id is not None for r in rows)
        result.matched = sum(1 for r in rows if r.topics)
        result.mention_ids = [r.pk for r in rows]
        if check_spikes:
            current = hour_of(now)
            touched = {scope for r in rows if r.label == "negative" and r.hour == current
                       for scope in (r.topics | {ALL_TOPICS})}
            result.alerts = len(spikes_check(workspace_id=workspace_id, scopes=touched, now=now))
    return result


def _insert(workspace_id: int, rows: list[_NewMention], result: IngestResult) -> list[_NewMention]:
    """Bulk insert; if another worker stored some of the same mentions meanwhile, skip those and retry."""
    for _attempt in range(3):
        try:
            with transaction.atomic():
                bulk.mentions_insert(rows)
            return rows
        except IntegrityError:
            taken = _existing_keys(workspace_id, [r.dedupe_key for r in rows])
            result.duplicates += len(taken)
            rows = [r for r in rows if r.dedupe_key not in taken]
            if not rows:
                return rows
    raise IntegrityError("mentions kept colliding with another worker's inserts")


def _topics_and_rollups(workspace_id: int, rows: list[_NewMention], zone: ZoneInfo) -> None:
    """Topic links and the rollups' counts of the batch, summed in Python: one upsert per table."""
    links: list[tuple[int, int, datetime]] = []
    hourly: dict[tuple[int, datetime], list[int]] = {}
    per_author: dict[tuple[int, int], list] = {}
    for row in rows:
        hour = row.hour
        column = LABELS.index(row.label)
        for scope in row.topics | {ALL_TOPICS}:
            if scope != ALL_TOPICS:
                links.append((row.pk, scope, row.published_at))
            counts = hourly.setdefault((scope, hour), [0, 0, 0, 0])
            counts[column] += 1
            if row.author_id:
                entry = per_author.setdefault((row.author_id, scope), [0, 0, 0, row.published_at])
                entry[0] = max(entry[0], row.reach)
                entry[1] += 1
                entry[2] += row.label == "negative"
                entry[3] = max(entry[3], row.published_at)
    if links:
        bulk.mention_topics_insert(workspace_id=workspace_id, links=links)
    if hourly:
        bulk.hourly_add(workspace_id=workspace_id, rows=hourly)
        bulk.daily_add(workspace_id=workspace_id, rows=daily_of(hourly, zone))
    if per_author:
        bulk.author_topics_add(workspace_id=workspace_id, rows={k: tuple(v) for k, v in per_author.items()})
