"""Inbound processing: identity resolution, the conversation rule, follow state, batching, idempotency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from samphan.channels.models import ChannelContact, WebhookEvent
from samphan.channels.processing import process_pending
from samphan.core.models import AuditEvent
from samphan.customers.models import Customer, Identity
from samphan.customers.services import customer_create, customers_create_for_identities
from samphan.inbox.models import Conversation, Message
from samphan.inbox.services import conversation_set_status
from tests.channels.helpers import LINE_USER, fixture, line_text_event, now_ms, post_line

pytestmark = pytest.mark.django_db


def _send(client, account, *events):
    assert post_line(client, account, {"destination": "U0", "events": list(events)}).status_code == 200


def test_follow_then_unfollow_and_late_redelivery(provider_client, line_account, run_on_commit):
    with run_on_commit():
        _send(provider_client, line_account, *fixture("line", "follow")["events"])
        _send(provider_client, line_account, *fixture("line", "unfollow")["events"])
        _send(provider_client, line_account, *fixture("line", "follow")["events"])  # redelivered, older
    contact = ChannelContact.objects.get()
    assert contact.following is False and contact.external_id == LINE_USER
    assert Customer.objects.count() == 1 and Message.objects.count() == 0


def test_existing_customer_is_linked_not_duplicated(provider_client, line_account, run_on_commit, workspace):
    known = customer_create(workspace=workspace, first_name="Anna", identities={"email": "anna@example.com",
                                                                                "line": LINE_USER})
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E1", message_id="1"))
    assert Conversation.objects.get().customer_id == known.pk
    assert Customer.objects.count() == 1


def test_messages_of_a_thread_stay_in_one_conversation_until_resolved(provider_client, line_account,
                                                                      run_on_commit):
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E1", message_id="1", text="one"),
              line_text_event(event_id="E2", message_id="2", text="two"))
    conv = Conversation.objects.get()
    assert (conv.message_count, conv.last_message_preview) == (2, "two")
    conversation_set_status(conversation=conv, status="resolved")
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E3", message_id="3", text="again"))
    # Resolved means done: the next message starts a new conversation (its own SLA clock and reports).
    assert Conversation.objects.count() == 2
    new = Conversation.objects.exclude(pk=conv.pk).get()
    assert new.customer_id == conv.customer_id and new.status == "open" and new.message_count == 1


def test_reopen_window(provider_client, line_account, run_on_commit, monkeypatch):
    monkeypatch.setenv("SAMPHAN_INBOX_REOPEN_SECONDS", "3600")
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E1", message_id="1"))
    conv = Conversation.objects.get()
    conversation_set_status(conversation=conv, status="resolved")
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E2", message_id="2", text="thanks!"))
    conv.refresh_from_db()
    assert Conversation.objects.count() == 1 and conv.status == "open" and conv.reopened_at is not None
    assert conv.message_count == 2


def test_pending_reopens_on_a_customer_message(provider_client, line_account, run_on_commit):
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E1", message_id="1"))
    conv = Conversation.objects.get()
    conversation_set_status(conversation=conv, status="pending")
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E2", message_id="2"))
    conv.refresh_from_db()
    assert conv.status == "open"


def test_out_of_order_events_keep_the_latest_preview(provider_client, line_account, run_on_commit):
    t = now_ms()
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E2", message_id="2", text="later", timestamp=t))
        _send(provider_client, line_account,
              line_text_event(event_id="E1", message_id="1", text="earlier", timestamp=t - 5000))
    conv = Conversation.objects.get()
    assert conv.last_message_preview == "later" and conv.message_count == 2
    assert list(conv.messages.order_by("created_at").values_list("text", flat=True)) == ["earlier", "later"]


def test_batch_costs_a_fixed_number_of_queries(provider_client, line_account, run_on_commit, workspace):
    users = [f"U{n:032x}" for n in range(1, 41)]
    for user in users:
        customer_create(workspace=workspace, identities={"line": user})
    with run_on_commit():  # one conversation per user exists already
        for n, user in enumerate(users):
            _send(provider_client, line_account, line_text_event(event_id=f"A{n}", message_id=f"a{n}", user_id=user))
    for n, user in enumerate(users):
        for k in range(3):
            _send(provider_client, line_account,
                  line_text_event(event_id=f"B{n}-{k}", message_id=f"b{n}-{k}", user_id=user))
    assert WebhookEvent.objects.filter(status="received").count() == 120
    with CaptureQueriesContext(connection) as queries:
        result = process_pending()
    assert result.processed == 120 and Message.objects.count() == 160
    # claim, accounts, dedupe, identities, conversations, the workspace's sentiment model, insert, SLA policies,
    # update, mark processed
    # (+ savepoint/txn noise; SQLite inserts in chunks)
    assert len(queries.captured_queries) <= 16, "\n".join(q["sql"][:100] for q in queries.captured_queries)
    assert set(Conversation.objects.values_list("message_count", flat=True)) == {4}


def test_new_senders_are_created_together_in_a_fixed_number_of_queries(provider_client, line_account, workspace):
    users = [f"U{n:032x}" for n in range(1, 61)]
    for n, user in enumerate(users):
        _send(provider_client, line_account, line_text_event(event_id=f"N{n}", message_id=f"n{n}", user_id=user))
    with CaptureQueriesContext(connection) as queries:
        result = process_pending()
    assert result.processed == 60
    # the known-sender statements + customers, identities, audit entries, new conversations, contacts, rules
    assert len(queries.captured_queries) <= 28, "\n".join(q["sql"][:100] for q in queries.captured_queries)
    customers = {i.value: i.customer_id for i in Identity.objects.filter(workspace=workspace, kind="line")}
    assert sorted(customers) == users and len(set(customers.values())) == 60
    assert AuditEvent.objects.filter(workspace=workspace, action="customer.created", via="worker").count() == 60
    for conversation in Conversation.objects.filter(channel_account=line_account):
        assert conversation.customer_id == customers[conversation.thread_key] and conversation.message_count == 1


def test_bulk_creation_links_to_an_identity_another_writer_created(workspace):
    # A concurrent batch created one of the identities first: the set is rolled back and resolved one by
    # one, linking to that customer instead of failing or creating a second customer for it.
    theirs = customer_create(workspace=workspace, identities={"line": f"U{1:032x}"})
    made = customers_create_for_identities(workspace=workspace, wanted={("line", f"U{1:032x}"): "A",
                                                                        ("email", "new@example.com"): "B"})
    assert made[("line", f"U{1:032x}")] == theirs.pk
    fresh = Customer.objects.get(pk=made[("email", "new@example.com")])
    assert fresh.email == "new@example.com" and fresh.display_name == "B" and "new@example.com" in fresh.search_text
    assert Customer.objects.filter(workspace=workspace).count() == 2 and Identity.objects.count() == 2


def test_bulk_creation_writes_what_customer_create_writes(workspace):
    made = customers_create_for_identities(workspace=workspace, wanted={("phone", "+66812345678"): "",
                                                                        ("line", f"U{2:032x}"): "น้องแอน"})
    phone = Customer.objects.get(pk=made[("phone", "+66812345678")])
    assert phone.phone == "+66812345678" and "0812345678" in phone.search_text
    line = Customer.objects.get(pk=made[("line", f"U{2:032x}")])
    assert line.display_name == "น้องแอน" and line.identities.get().display_value == f"U{2:032x}"
    summaries = dict(AuditEvent.objects.filter(action="customer.created").values_list("target_id", "summary"))
    assert summaries == {str(phone.pk): "+66812345678", str(line.pk): "น้องแอน"}


def test_processing_twice_never_duplicates(provider_client, line_account, run_on_commit):
    with run_on_commit():
        _send(provider_client, line_account, line_text_event(event_id="E1", message_id="1"))
    WebhookEvent.objects.update(status="received")  # as if a worker died after committing
    process_pending()
    assert Message.objects.count() == 1 and Conversation.objects.get().message_count == 1


def test_reply_token_expires(provider_client, line_account, run_on_commit):
    old = now_ms() - 120_000
    with run_on_commit():
        _send(provider_client, line_account,
              line_text_event(event_id="E1", message_id="1", timestamp=old, reply_token="tok"))
    message = Message.objects.get()
    assert message.reply_token_expires_at < timezone.now() - timedelta(seconds=60)
