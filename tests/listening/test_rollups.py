"""The per-day rollup: always the hourly rollup summed by local day, and the dashboard's figures
unchanged by reading it — in zones with whole-hour, half-hour and daylight-saving offsets."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from samphan.listening import selectors
from samphan.listening.ingest import mentions_ingest
from samphan.listening.models import (
    ALL_TOPICS,
    LABELS,
    DailyRollupZone,
    Mention,
    MentionDaily,
    MentionHourly,
)
from samphan.listening.rollups import daily_of, daily_rebuild_workspace, day_of, day_start
from samphan.listening.services import mention_correct_label, topic_delete, topic_update
from tests.listening.conftest import mention

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TEXTS = ["Alpha Coffee อร่อยมาก", "รอนานมาก แย่มาก Beta Brew", "Alpha Coffee ราคาเท่าไหร่คะ", "#AlphaSummer ก็โอเคนะ",
         "iced latte was great", "Beta Brew terrible service", "เบต้า ลาเต้เย็น ดีมาก", "nothing about us"]


def _daily_state(workspace) -> dict[tuple[int, date], list[int]]:
    return {(r.topic_id, r.day): [getattr(r, label) for label in LABELS]
            for r in MentionDaily.objects.filter(workspace=workspace) if any(getattr(r, lb) for lb in LABELS)}


def _expected_daily(workspace, zone: ZoneInfo) -> dict[tuple[int, date], list[int]]:
    hourly = {(r.topic_id, r.hour): [getattr(r, label) for label in LABELS]
              for r in MentionHourly.objects.filter(workspace=workspace)}
    return {k: v for k, v in daily_of(hourly, zone).items() if any(v)}


def _hourly_only(workspace):
    """What the dashboard read before the daily rollup: every figure from the hourly rows."""
    DailyRollupZone.objects.filter(workspace=workspace).delete()


def _ingest(workspace, n: int, seed: int = 6) -> None:
    rng = random.Random(seed)
    items = [mention(rng.choice(TEXTS) + f" {i}", external_id=f"s{seed}-{i}",
                     published_at=NOW - timedelta(minutes=rng.randrange(400 * 24 * 60)))
             for i in range(n)]
    mentions_ingest(workspace=workspace, items=items, connector="x", now=NOW, check_spikes=False)


def _figures(workspace, topics) -> list:
    out = []
    topic_ids = [ALL_TOPICS, *(t.pk for t in topics.values())]
    for days in (1, 2, 3, 7, 30, 90, 365):
        for hours_back in (0, 5, 17, 23):
            period = selectors.period_of(days=days, now=NOW - timedelta(hours=hours_back))
            for scope in (ALL_TOPICS, topics["brand"].pk):
                out.append(selectors.volume_series(workspace=workspace, period=period, topic_ids=[scope]))
                out.append(selectors.volume_series(workspace=workspace, period=period, topic_ids=[scope],
                                                   bucket="day"))
            out.append(selectors.totals_by_topic(workspace=workspace, period=period, topic_ids=topic_ids))
    out.append(selectors.topic_mention_counts(workspace=workspace))
    return out


@pytest.mark.parametrize("zone_name", ["Asia/Bangkok", "Asia/Kolkata", "America/New_York", "UTC"])
def test_daily_rollup_gives_the_hourly_figures(workspace, topics, zone_name):
    workspace.time_zone = zone_name
    workspace.save(update_fields=["time_zone"])
    _ingest(workspace, 600)
    zone = ZoneInfo(zone_name)
    assert DailyRollupZone.objects.get(workspace=workspace).time_zone == zone_name
    assert _daily_state(workspace) == _expected_daily(workspace, zone)
    # Label corrections move a mention between columns of its day too.
    for m in Mention.objects.filter(workspace=workspace).order_by("id")[:40]:
        mention_correct_label(mention=m, label="question" if m.label != "question" else "positive")
    assert _daily_state(workspace) == _expected_daily(workspace, zone)
    with_daily = _figures(workspace, topics)
    _hourly_only(workspace)
    assert _figures(workspace, topics) == with_daily
    # And the whole days add up to the mentions themselves (a brute-force count).
    totals = selectors.totals_by_topic(workspace=workspace, period=selectors.period_of(days=365, now=NOW),
                                       topic_ids=[ALL_TOPICS])[ALL_TOPICS]
    since = selectors.period_of(days=365, now=NOW).since
    assert totals["total"] == Mention.objects.filter(workspace=workspace, published_at__gte=since,
                                                     published_at__lt=NOW.replace(minute=0) + timedelta(hours=1)).count()
    assert totals["question"] == Mention.objects.filter(workspace=workspace, label="question", published_at__gte=since,
                                                        published_at__lt=NOW + timedelta(hours=1)).count()


def test_rematch_delete_and_zone_change_keep_the_daily_rollup(workspace, topics):
    _ingest(workspace, 300, seed=7)
    bangkok = ZoneInfo("Asia/Bangkok")
    topic_update(topic=topics["product"], include_terms=["ลาเต้เย็น", "iced latte", "Alpha Coffee"], rematch=False)
    from samphan.listening.services import topic_rematch

    topic_rematch(topic=topics["product"])
    assert MentionDaily.objects.filter(topic_id=topics["product"].pk).exists()
    assert _daily_state(workspace) == _expected_daily(workspace, bangkok)
    topic_delete(topic=topics["competitor"])
    assert not MentionDaily.objects.filter(topic_id=topics["competitor"].pk).exists()
    assert _daily_state(workspace) == _expected_daily(workspace, bangkok)
    # The workspace moves to New York: until something is written the dashboard reads hours
    # (its days are New York days); the next batch recounts the days in the new zone.
    workspace.time_zone = "America/New_York"
    workspace.save(update_fields=["time_zone"])
    del topics["competitor"]
    before = _figures(workspace, topics)
    _ingest(workspace, 1, seed=8)
    assert DailyRollupZone.objects.get(workspace=workspace).time_zone == "America/New_York"
    assert _daily_state(workspace) == _expected_daily(workspace, ZoneInfo("America/New_York"))
    after = _figures(workspace, topics)
    _hourly_only(workspace)
    assert _figures(workspace, topics) == after
    assert after != before  # the new mention is counted
    assert daily_rebuild_workspace(workspace_id=workspace.pk) == "America/New_York"
    assert _daily_state(workspace) == _expected_daily(workspace, ZoneInfo("America/New_York"))


def test_day_of_follows_the_dashboards_day_boundaries():
    for zone_name in ("Asia/Bangkok", "Asia/Kolkata", "America/New_York", "America/Havana", "Australia/Lord_Howe"):
        zone = ZoneInfo(zone_name)
        for day_offset in range(0, 400, 3):
            d = date(2025, 10, 1) + timedelta(days=day_offset)
            start = day_start(d, zone)
            first_hour = start.replace(minute=0) if start.minute == 0 else start.replace(minute=0) + timedelta(hours=1)
            assert day_of(first_hour, zone) == d
            assert day_of(first_hour - timedelta(hours=1), zone) == d - timedelta(days=1)


def test_a_time_with_an_offset_counts_in_its_utc_hour(workspace, topics):
    kolkata = ZoneInfo("Asia/Kolkata")
    mentions_ingest(workspace=workspace, connector="x", now=NOW, check_spikes=False, items=[
        mention("Alpha Coffee ok", n=1, published_at=datetime(2026, 10, 31, 23, 45, tzinfo=kolkata))])
    # 23:45 in Kolkata is 18:15 UTC: the 18:00 UTC hour, and 1 November in Bangkok (01:15).
    assert [(r.hour, r.topic_id) for r in MentionHourly.objects.order_by("topic_id")] == [
        (datetime(2026, 10, 31, 18, 0, tzinfo=UTC), ALL_TOPICS), (datetime(2026, 10, 31, 18, 0, tzinfo=UTC),
                                                                  topics["brand"].pk)]
    assert set(MentionDaily.objects.values_list("day", flat=True)) == {date(2026, 11, 1)}


def test_cli_recounts_the_daily_rollup(workspace, topics):
    from io import StringIO

    from django.core.management import call_command

    _ingest(workspace, 50, seed=9)
    MentionDaily.objects.filter(workspace=workspace).delete()
    out = StringIO()
    call_command("listening", "rollups", "--workspace", workspace.slug, stdout=out)
    assert "Asia/Bangkok" in out.getvalue()
    assert _daily_state(workspace) == _expected_daily(workspace, ZoneInfo("Asia/Bangkok"))
