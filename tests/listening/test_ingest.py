"""The ingest path: dedupe, sentiment on every mention, topics, customer links, rollups, priority."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from samphan.listening.ingest import mentions_ingest, priority_of
from samphan.listening.models import (
    ALL_TOPICS,
    Author,
    AuthorTopic,
    Mention,
    MentionHourly,
    MentionTopic,
)
from tests.factories import CustomerFactory, IdentityFactory, WorkspaceFactory
from tests.listening.conftest import mention

T0 = datetime(2026, 3, 1, 10, 5, tzinfo=UTC)


def test_every_mention_gets_a_label_scores_language_and_topics(workspace, topics):
    result = mentions_ingest(workspace=workspace, connector="x", now=T0 + timedelta(hours=1), items=[
        mention("ร้านอัลฟ่า รอนานมาก พนักงานไม่สนใจ แย่มาก", n=1),
        mention("The iced latte at Alpha Coffee is wonderful!", n=2),
        mention("เบต้าแคโรทีนดีต่อสุขภาพ", n=3),
        mention("เบต้า ราคาเท่าไหร่คะ", n=4),
    ])
    assert result.created == 4 and result.matched == 3
    rows = {m.external_id: m for m in Mention.objects.all()}
    assert rows["m1"].label == "negative" and rows["m1"].language == "th"
    assert rows["m2"].label == "positive" and rows["m2"].language == "en"
    assert rows["m4"].label == "question"
    for m in rows.values():
        assert abs(sum(m.scores.values()) - 1) < 0.01 and m.model_label == m.label
    names = lambda m: set(m.topics.values_list("name", flat=True))  # noqa: E731
    assert names(rows["m1"]) == {"Alpha Coffee"}
    assert names(rows["m2"]) == {"Alpha Coffee", "Iced latte"}
    assert names(rows["m3"]) == set()  # เบต้าแคโรทีน is excluded from the competitor
    assert names(rows["m4"]) == {"Beta Brew"}


def test_duplicates_are_dropped_by_source_and_id_or_by_content(workspace, topics):
    items = [mention("Alpha Coffee again", n=1), mention("Alpha Coffee again, edited", n=1),
             mention("no id here", author_handle="@Nok"), mention("no  id   here", author_handle="nok"),
             mention("Alpha Coffee again", n=1, source="facebook")]
    first = mentions_ingest(workspace=workspace, items=items, connector="upload")
    assert (first.created, first.duplicates) == (3, 2)
    again = mentions_ingest(workspace=workspace, items=items, connector="upload")
    assert (again.created, again.duplicates) == (0, 5)
    # the same id in another workspace is another mention
    other = mentions_ingest(workspace=WorkspaceFactory(), items=items[:1], connector="upload")
    assert other.created == 1
    assert Mention.objects.count() == 4


def test_authors_are_linked_to_known_customers_only(workspace, topics):
    customer = CustomerFactory(workspace=workspace)
    IdentityFactory(workspace=workspace, customer=customer, kind="x_handle", value="foodiebkk")
    stranger = CustomerFactory(workspace=WorkspaceFactory())
    IdentityFactory(workspace=stranger.workspace, customer=stranger, kind="x_handle", value="somchai_tw")
    result = mentions_ingest(workspace=workspace, connector="x", items=[
        mention("Alpha Coffee แย่", n=1, author_id="1", author_handle="FoodieBKK",
                identities=[("x", "1"), ("x_handle", "FoodieBKK")]),
        mention("Alpha Coffee ok", n=2, author_id="2", author_handle="somchai_tw",
                identities=[("x", "2"), ("x_handle", "somchai_tw")]),
    ])
    assert result.linked == 1
    assert Mention.objects.get(external_id="m1").customer == customer
    assert Mention.objects.get(external_id="m2").customer is None  # known only in another workspace
    assert Author.objects.get(key="1").customer == customer
    assert customer.__class__.objects.count() == 2  # nobody was created


def test_rollups_follow_the_mentions(workspace, topics):
    mentions_ingest(workspace=workspace, connector="x", items=[
        mention("Alpha Coffee แย่มาก รอนาน", n=1, author_id="a", reach=100),
        mention("Alpha Coffee แย่มาก ไม่ไปอีกแล้ว", n=2, author_id="a", reach=120),
        mention("Beta Brew อร่อยมาก ชอบ", n=3, author_id="b", reach=5,
                published_at=T0 + timedelta(hours=1)),
    ])
    hourly = {(r.topic_id, r.hour.hour): r for r in MentionHourly.objects.all()}
    brand, competitor = topics["brand"].pk, topics["competitor"].pk
    assert hourly[(brand, 10)].negative == 2
    assert hourly[(ALL_TOPICS, 10)].negative == 2 and hourly[(ALL_TOPICS, 11)].positive == 1
    assert hourly[(competitor, 11)].positive == 1
    # the rollup equals a recount from the mentions
    for (scope, _hour), row in hourly.items():
        qs = Mention.objects.filter(published_at__gte=row.hour, published_at__lt=row.hour + timedelta(hours=1))
        if scope:
            qs = qs.filter(mentiontopic__topic_id=scope)
        assert qs.count() == row.positive + row.neutral + row.negative + row.question
    author = AuthorTopic.objects.get(author__key="a", topic_id=ALL_TOPICS)
    assert (author.mentions, author.negative, author.reach) == (2, 2, 120)
    assert MentionTopic.objects.count() == 3


def test_priority_is_reach_times_negativity_times_velocity(workspace, topics):
    now = T0 + timedelta(minutes=30)
    mentions_ingest(workspace=workspace, connector="x", now=now, items=[
        mention("Alpha Coffee แย่มาก พนักงานไม่สนใจ", n=1, reach=250_000, engagement=977),
        mention("Alpha Coffee แย่มาก พนักงานไม่สนใจ ", n=2, reach=10),
        mention("Alpha Coffee is wonderful", n=3, reach=250_000),
    ])
    big, small, happy = (Mention.objects.get(external_id=f"m{i}") for i in (1, 2, 3))
    assert big.priority > small.priority > happy.priority
    assert big.velocity > small.velocity >= 1
    assert big.priority == priority_of(reach=big.reach, negativity=big.score_negative, velocity=big.velocity)


def test_a_burst_of_negative_mentions_raises_velocity(workspace, topics):
    quiet = [mention(f"Alpha Coffee แย่ รอนาน ครั้งที่ {i}", n=100 + i,
                     published_at=T0 - timedelta(hours=24 * i)) for i in range(1, 6)]
    mentions_ingest(workspace=workspace, connector="x", items=quiet, now=T0)
    burst = [mention(f"Alpha Coffee แย่มาก ไม่ไปอีกแล้ว {i}", n=i, published_at=T0) for i in range(12)]
    mentions_ingest(workspace=workspace, connector="x", items=burst, now=T0 + timedelta(minutes=10))
    assert Mention.objects.filter(external_id="m5").get().velocity > 5
    assert Mention.objects.filter(external_id="m105").get().velocity == pytest.approx(1.0)


def test_empty_batch_and_long_text(workspace):
    assert mentions_ingest(workspace=workspace, items=[], connector="x").created == 0
    mentions_ingest(workspace=workspace, items=[mention("ก" * 30_000, n=1)], connector="x")
    assert len(Mention.objects.get().text) == 20_000
