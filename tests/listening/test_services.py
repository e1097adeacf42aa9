"""Label corrections (and retraining data), mention status, mention → inbox conversation, topic re-matching."""

from __future__ import annotations

import pytest

from samphan.core.errors import ValidationFailed
from samphan.core.models import AuditEvent
from samphan.inbox.models import Conversation, Message
from samphan.listening.ingest import mentions_ingest
from samphan.listening.models import ALL_TOPICS, Mention, MentionHourly, MentionTopic
from samphan.listening.services import (
    mention_correct_label,
    mention_set_status,
    mention_to_conversation,
    topic_create,
    topic_update,
)
from samphan.sentiment.corrections import correction_examples
from tests.factories import CustomerFactory, IdentityFactory
from tests.listening.conftest import mention


def _one(workspace, text="Alpha Coffee ก็โอเคนะ", **kw):
    mentions_ingest(workspace=workspace, connector=kw.pop("connector", "x"), items=[mention(text, n=1, **kw)])
    return Mention.objects.get(external_id="m1")


def test_label_correction_moves_the_rollups_and_feeds_training(workspace, topics, owner):
    m = _one(workspace, "Alpha Coffee แย่มาก รอนาน", reach=1000)
    assert m.label == "negative" and m.priority > 0
    mention_correct_label(mention=m, label="positive", actor=owner, via="api")
    m.refresh_from_db()
    assert (m.label, m.model_label, m.priority) == ("positive", "negative", 0)
    assert m.label_corrected_by == owner
    for scope in (ALL_TOPICS, topics["brand"].pk):
        row = MentionHourly.objects.get(topic_id=scope)
        assert (row.positive, row.negative) == (1, 0)
    examples = correction_examples(workspace=workspace)
    assert [(e.text, e.category) for e in examples] == [("Alpha Coffee แย่มาก รอนาน", "pos")]
    assert AuditEvent.objects.filter(action="listening.mention_label_corrected").exists()
    with pytest.raises(ValidationFailed, match="label must be one of"):
        mention_correct_label(mention=m, label="angry")


def test_status(workspace, topics):
    m = _one(workspace)
    mention_set_status(mention=m, status="dismissed")
    assert Mention.objects.get().status == "dismissed"
    with pytest.raises(ValidationFailed):
        mention_set_status(mention=m, status="gone")


def test_x_mention_becomes_a_conversation_with_its_known_customer(workspace, topics, owner):
    customer = CustomerFactory(workspace=workspace)
    IdentityFactory(workspace=workspace, customer=customer, kind="x_handle", value="foodiebkk")
    m = _one(workspace, "Alpha Coffee แย่มาก", author_id="2244994945", author_handle="foodiebkk",
             url="https://x.com/foodiebkk/status/1", identities=[("x", "2244994945"), ("x_handle", "foodiebkk")])
    conversation_id = mention_to_conversation(mention=m, actor=owner, via="api")
    assert mention_to_conversation(mention=m, actor=owner) == conversation_id  # idempotent
    conversation = Conversation.objects.get(pk=conversation_id)
    assert conversation.customer == customer
    assert conversation.channel_account.provider == "listening"
    message = Message.objects.get(conversation=conversation)
    assert message.kind == "mention" and message.text == m.text
    assert message.meta["url"] == "https://x.com/foodiebkk/status/1" and message.meta["source"] == "x"
    m.refresh_from_db()
    assert m.status == "handled" and m.conversation_id == conversation_id


def test_unknown_author_becomes_a_customer_and_a_second_mention_joins_the_thread(workspace, topics):
    mentions_ingest(workspace=workspace, connector="rss", items=[
        mention("Alpha Coffee แย่", n=1, source="pantip.com", author_name="น้องนก"),
        mention("Alpha Coffee แย่อีกแล้ว", n=2, source="pantip.com", author_name="น้องนก")])
    first, second = Mention.objects.order_by("id")
    c1 = mention_to_conversation(mention=first)
    c2 = mention_to_conversation(mention=second)
    assert c1 == c2 and Conversation.objects.get(pk=c1).message_count == 2
    first.refresh_from_db()
    assert first.customer.display_name == "น้องนก"


def test_facebook_post_mention_becomes_a_page_conversation(workspace, topics):
    from samphan.channels.services import channel_account_create

    page = channel_account_create(workspace=workspace, provider="facebook", name="Page",
                                  secrets={"app_secret": "s", "page_access_token": "t", "verify_token": "v"},
                                  config={"page_id": "1"})
    m = _one(workspace, "Alpha Coffee ส่งช้ามาก", connector="facebook", source="facebook", author_id="77",
             author_name="Wichai", identities=[("facebook", "77")],
             meta={"channel_account_id": page.pk, "post_id": "1_99", "author_id": "77", "kind": "post"})
    conversation = Conversation.objects.get(pk=mention_to_conversation(mention=m))
    assert conversation.channel_account == page and conversation.thread_key == "post:1_99:77"
    assert Message.objects.get(conversation=conversation).reply_to == "m1"


def test_new_and_changed_topics_apply_to_stored_mentions(workspace, topics, django_capture_on_commit_callbacks):
    mentions_ingest(workspace=workspace, connector="x", items=[
        mention("Gamma Tea ชาไข่มุกอร่อย", n=1), mention("gamma tea แย่", n=2), mention("Alpha Coffee", n=3)])
    with django_capture_on_commit_callbacks(execute=True):
        gamma = topic_create(workspace=workspace, name="Gamma", kind="competitor", include_terms=["Gamma Tea"])
    assert MentionTopic.objects.filter(topic=gamma).count() == 2  # the job ran (eagerly, in tests)
    row = MentionHourly.objects.get(topic_id=gamma.pk)
    assert row.positive + row.neutral + row.negative + row.question == 2
    with django_capture_on_commit_callbacks(execute=True):
        topic_update(topic=gamma, exclude_terms=["แย่"])
    assert MentionTopic.objects.filter(topic=gamma).count() == 1
    assert sum(r.negative for r in MentionHourly.objects.filter(topic_id=gamma.pk)) == 0
