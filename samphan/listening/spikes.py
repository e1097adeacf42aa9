"""Negative-spike detection: the current hour's negative mentions against a rolling baseline.

The rule, per topic and for all mentions (topic 0), evaluated whenever mentions of the current
hour arrive (``ingest.py``) and by ``samphan listening spikes``:

    n  = negative mentions in the current clock hour (UTC; the hour so far)
    μ  = mean negative mentions per hour over the 168 hours (7 days) before it, empty hours as 0
    σ  = their standard deviation, but at least √μ (the Poisson spread of a count with that
         mean) and at least 1, so a perfectly quiet baseline does not alert on every mention
    spike  ⇔  n ≥ MIN_NEGATIVE (5)  and  n ≥ 2·μ  and  n > μ + 3·σ

Three standard deviations above the mean happens by chance in well under 1 % of ordinary hours;
the minimum keeps a topic with almost no traffic quiet until something real happens; "twice
the mean" stops a busy topic alerting on ordinary noise. The hour so far is compared with
whole past hours, so a spike is reported as soon as the partial count crosses the line —
a crisis starts small. One alert per topic and hour (the database's unique constraint);
while the hour lasts, its ``observed`` count is raised as more negative mentions arrive.
Settings: ``SAMPHAN_LISTENING_SPIKE_MIN`` (5), ``SAMPHAN_LISTENING_SPIKE_SIGMAS`` (3),
``SAMPHAN_LISTENING_BASELINE_HOURS`` (168).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction

from samphan.listening.models import ALL_TOPICS, Alert, MentionHourly

HOUR = timedelta(hours=1)


def spike_min() -> int:
    return int(getattr(settings, "SAMPHAN_LISTENING_SPIKE_MIN", 5))


def spike_sigmas() -> float:
    return float(getattr(settings, "SAMPHAN_LISTENING_SPIKE_SIGMAS", 3.0))


def baseline_hours() -> int:
    return int(getattr(settings, "SAMPHAN_LISTENING_BASELINE_HOURS", 168))


def hour_of(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass
class Verdict:
    observed: int
    mean: float
    std: float
    threshold: float
    spike: bool


def judge(observed: int, history: list[int]) -> Verdict:
    """Apply the rule to the current hour's count and the baseline hours' counts (zeros included)."""
    hours = len(history) or 1
    mean = sum(history) / hours
    variance = sum((x - mean) ** 2 for x in history) / hours
    std = max(math.sqrt(variance), math.sqrt(mean), 1.0)
    threshold = max(float(spike_min()), 2 * mean, mean + spike_sigmas() * std)
    # Strictly above μ + kσ, at least the minimum and twice the mean.
    spike = observed >= spike_min() and observed >= 2 * mean and observed > mean + spike_sigmas() * std
    return Verdict(observed=observed, mean=round(mean, 3), std=round(std, 3), threshold=round(threshold, 3),
                   spike=spike)


def negatives_by_hour(*, workspace_id: int, scopes: Iterable[int], since: datetime,
                      until: datetime) -> dict[int, dict[datetime, int]]:
    """scope → hour → negative mentions, from the hourly rollup (one indexed range read)."""
    out: dict[int, dict[datetime, int]] = defaultdict(dict)
    rows = (MentionHourly.objects.filter(workspace_id=workspace_id, topic_id__in=list(scopes),
                                         hour__gte=since, hour__lte=until, negative__gt=0)
            .values_list("topic_id", "hour", "negative"))
    for topic_id, hour, negative in rows:
        out[topic_id][hour] = negative
    return out


def check(*, workspace_id: int, scopes: Iterable[int], now: datetime) -> list[Alert]:
    """Judge the current hour of each scope; create (or raise) its alert. Returns new alerts.

    Runs inside the ingest transaction; the e-mail goes after commit (``alerts.py``).
    """
    from samphan.listening.alerts import alert_raised

    scopes = sorted(set(scopes))
    if not scopes:
        return []
    current = hour_of(now)
    span = baseline_hours()
    counts = negatives_by_hour(workspace_id=workspace_id, scopes=scopes, since=current - span * HOUR,
                               until=current)
    created: list[Alert] = []
    for scope in scopes:
        by_hour = counts.get(scope, {})
        observed = by_hour.get(current, 0)
        if observed < spike_min():
            continue
        history = [by_hour.get(current - (i + 1) * HOUR, 0) for i in range(span)]
        verdict = judge(observed, history)
        if not verdict.spike:
            continue
        topic_id = None if scope == ALL_TOPICS else scope
        existing = Alert.objects.filter(workspace_id=workspace_id, kind=Alert.Kind.NEGATIVE_SPIKE,
                                        topic_id=topic_id,  # type: ignore[misc]  # None is IS NULL; the stubs want int
                                        hour=current).first()
        if existing is not None:
            if observed > existing.observed:
                Alert.objects.filter(pk=existing.pk).update(observed=observed)
            continue
        try:
            with transaction.atomic():
                alert = Alert.objects.create(workspace_id=workspace_id, topic_id=topic_id, hour=current,
                                             observed=observed, baseline_mean=verdict.mean,
                                             baseline_std=verdict.std, threshold=verdict.threshold)
        except IntegrityError:
            continue  # another worker raised it a moment ago
        alert_raised(alert)
        created.append(alert)
    return created
