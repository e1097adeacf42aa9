"""PDPA: erasing a customer scrubs what the inbox, web chat, channel contacts and listening hold
on them; exporting gives their conversations, transcript and mentions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.core.serializers.json import DjangoJSONEncoder

from samphan.channels.models import ChannelContact, OutboundMessage, WebchatMessage, WebhookEvent
from samphan.core.models import AuditEvent
from samphan.customers.models import Customer
from samphan.customers.pdpa import customer_erase, customer_export_all
from samphan.inbox.models import Conversation, Message, Note, SentimentCorrection
from samphan.inbox.services import conversation_reply, message_sentiment_correct, note_add
from samphan.listening.ingest import MentionIn, mentions_ingest
from samphan.listening.models import Author, Mention
from tests.channels.helpers import LINE_USER, fixture, line_text_event, post_line
from tests.channels.webchat_helpers import get, send, widget_client

pytestmark = pytest.mark.django_db

ADDRESS = "ส่งที่ 99/1 ถนนสุขุมวิท ชื่อสมชาย ใจดี"
REPLY = "ได้รับที่อยู่ของคุณสมชายแล้วค่ะ"
MENTION = "ร้าน Alpha Coffee ส่งช้ามาก โทร 081-234-5678"


@pytest.fixture
def line_customer(workspace, owner, provider_client, line_account, run_on_commit):
    """A LINE follower who wrote their address, got an answer, a note, and posted about the brand on X."""
    with run_on_commit():
        body = {"destination": "U0", "events": [*fixture("line", "follow")["events"],
                                                 line_text_event(event_id="ev-addr", message_id="m-addr",
                                                                 text=ADDRESS)]}
        assert post_line(provider_client, line_account, body).status_code == 200
    conversation = Conversation.objects.get()
    with run_on_commit():
        conversation_reply(conversation=conversation, actor=owner, text=REPLY)
    note_add(conversation=conversation, actor=owner, text="ลูกค้าชื่อสมชาย บ้านอยู่สุขุมวิท")
    inbound = Message.objects.get(direction="in")
    message_sentiment_correct(message=inbound, label="negative", actor=owner)
    mentions_ingest(workspace=workspace, connector="x", items=[MentionIn(
        source="x", text=MENTION, external_id="1790000000000000001", url="https://x.com/somchai/status/1",
        published_at=datetime(2026, 3, 1, 10, tzinfo=UTC), author_id="42", author_handle="somchai_j",
        author_name="Somchai Jaidee", identities=[("line", LINE_USER)])])
    return conversation.customer


def test_export_includes_conversations_messages_contacts_and_mentions(line_customer):
    data = customer_export_all(customer=line_customer)
    json.dumps(data, cls=DjangoJSONEncoder)  # the page serves it as JSON
    [conversation] = data["conversations"]
    texts = [m["text"] for m in conversation["messages"]]
    assert ADDRESS in texts and REPLY in texts
    assert conversation["channel"]["provider"] == "line" and conversation["notes"]
    assert data["channels"]["contacts"][0]["external_id"] == LINE_USER
    [mention] = data["mentions"]
    assert mention["text"] == MENTION and mention["author_handle"] == "somchai_j"
    # Not listed twice under "other".
    assert "inbox.conversation" not in data.get("other", {}) and "listening.mention" not in data.get("other", {})


def test_erase_scrubs_messages_notes_raw_bodies_contacts_and_mentions(line_customer, owner):
    customer_erase(customer=line_customer, actor=owner, reason="PDPA request")
    conversation = Conversation.objects.get()
    assert conversation.customer_id == line_customer.pk  # kept for the reports, anonymous
    assert LINE_USER not in (conversation.thread_key + conversation.contact_id)
    assert conversation.last_message_preview == ""
    for message in Message.objects.all():
        assert message.text == "" and message.attachments == [] and message.reply_token == ""
    assert Message.objects.count() == 2
    assert all(n.text == "" for n in Note.objects.all())
    assert not SentimentCorrection.objects.exists()
    for event in WebhookEvent.objects.all():
        assert ADDRESS.encode() not in bytes(event.body) and LINE_USER.encode() not in bytes(event.body)
    outbound = OutboundMessage.objects.get()
    assert REPLY not in json.dumps(outbound.payload, ensure_ascii=False) and outbound.to == ""
    assert not ChannelContact.objects.exists()
    mention = Mention.objects.get()
    assert (mention.text, mention.author_name, mention.author_handle, mention.url, mention.customer_id) == \
        ("", "", "", "", None)
    assert mention.label  # sentiment and time stay for the dashboard
    author = Author.objects.get()
    assert "somchai" not in (author.name + author.handle + author.key).lower() and author.key != "42"
    # Nothing of the person is left anywhere the export reads.
    dump = json.dumps(customer_export_all(customer=Customer.objects.get(pk=line_customer.pk)),
                      cls=DjangoJSONEncoder, ensure_ascii=False)
    for secret in (ADDRESS, REPLY, MENTION, LINE_USER, "somchai_j", "สมชาย"):
        assert secret not in dump
    audit = AuditEvent.objects.get(action="customer.erased")
    assert audit.changes["scrubbed"]["conversations.messages"] == 2
    assert audit.changes["scrubbed"]["mentions.mentions"] == 1
    assert audit.changes["scrubbed"]["channels.contacts"] == 1


def test_a_new_message_after_erasure_starts_afresh(line_customer, provider_client, line_account, run_on_commit):
    customer_erase(customer=line_customer)
    with run_on_commit():
        post_line(provider_client, line_account, {"destination": "U0", "events": [
            line_text_event(event_id="ev-later", message_id="m-later", text="สวัสดีอีกครั้ง")]})
    latest = Conversation.objects.latest("id")
    assert latest.customer_id != line_customer.pk and latest.thread_key == LINE_USER


def test_erase_scrubs_the_webchat_transcript(webchat_account, run_on_commit):
    browser = widget_client()
    with run_on_commit():
        assert send(browser, webchat_account, "เบอร์ฉันคือ 0812345678", "c-1").status_code == 202
    customer = Conversation.objects.get().customer
    assert customer_export_all(customer=customer)["channels"]["webchat_transcript"][0]["text"] == \
        "เบอร์ฉันคือ 0812345678"
    customer_erase(customer=customer)
    assert all(line.text == "" and not line.visitor_id.startswith("v_") for line in WebchatMessage.objects.all())
    transcript = get(browser, webchat_account, "messages").json()
    assert "0812345678" not in json.dumps(transcript, ensure_ascii=False)
