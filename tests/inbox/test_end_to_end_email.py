"""E-mail end to end, against real servers: a customer's mail delivered into an IMAP mailbox (pymap) is
polled into the inbox of the right workspace, linked to the right customer; an agent's reply leaves once
through a real SMTP server (aiosmtpd), threaded; the customer's answer to it joins the same conversation."""

from __future__ import annotations

import email.utils
import time

import pytest
from django.test import Client

from samphan.accounts.services import api_token_create
from samphan.channels.models import OutboundMessage
from samphan.channels.services import channel_poll
from samphan.channels.tasks import send_outbound
from samphan.customers.models import Customer
from samphan.customers.services import customer_create
from samphan.inbox.models import Conversation, Message
from tests.channels.helpers import customer_mail
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _staff_client(workspace) -> Client:
    staff = MembershipFactory(workspace=workspace, role="staff").user
    _, token = api_token_create(user=staff, workspace=workspace)
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_mail_to_inbox_and_reply_back_once(workspace, other_workspace, email_account, imap_server, smtp_server,
                                           run_on_commit):
    mailbox = email_account.config["imap_mailbox"]
    known = customer_create(workspace=workspace, first_name="สมชาย", last_name="ใจดี",
                            identities={"email": "somchai@example.com"})
    stranger = customer_create(workspace=other_workspace, first_name="Other", identities={"email": "somchai@example.com"})
    staff_api = _staff_client(workspace)

    # The customer writes from their mail client (address in another case); the mail lands in the mailbox.
    imap_server.deliver(mailbox, customer_mail(from_addr="Somchai J. <Somchai@Example.com>",
                                               message_id="<c1@example.com>", subject="สอบถามราคากาแฟ",
                                               text="ขอราคากาแฟคั่วกลาง 10 ถุงครับ"))
    with run_on_commit():
        assert len(channel_poll(account=email_account)) == 1

    [row] = staff_api.get("/api/inbox/conversations").json()["items"]
    assert row["customer"] == {"id": known.pk, "name": "สมชาย ใจดี"}
    assert row["channel"] == {"id": email_account.pk, "name": "Baan Suan mail", "provider": "email"}
    assert (row["status"], row["message_count"]) == ("open", 1)
    assert row["last_message_preview"] == "ขอราคากาแฟคั่วกลาง 10 ถุงครับ"
    assert Conversation.objects.filter(customer=stranger).count() == 0

    with run_on_commit():
        sent = staff_api.post(f"/api/inbox/conversations/{row['id']}/reply",
                              data={"text": "ถุงละ 250 บาทค่ะ", "idempotency_key": "click-1"},
                              content_type="application/json")
        again = staff_api.post(f"/api/inbox/conversations/{row['id']}/reply",
                               data={"text": "ถุงละ 250 บาทค่ะ", "idempotency_key": "click-1"},
                               content_type="application/json")  # a double click
    assert sent.status_code == 202 and again.json()["id"] == sent.json()["id"]
    [received] = smtp_server.received
    mail = received.message
    assert received.rcpt_tos == ["Somchai@Example.com"]
    assert (mail["Subject"], mail["In-Reply-To"]) == ("Re: สอบถามราคากาแฟ", "<c1@example.com>")
    assert mail.get_content().strip() == "ถุงละ 250 บาทค่ะ"

    # The task runs again (a redelivery, a retry): nothing leaves a second time.
    outbound = OutboundMessage.objects.get()
    assert outbound.status == "sent" and outbound.provider_message_id == mail["Message-ID"]
    assert send_outbound(outbound.pk) == "skipped"
    assert len(smtp_server.received) == 1
    detail = staff_api.get(f"/api/inbox/conversations/{row['id']}").json()
    assert detail["messages"][-1]["delivery"]["status"] == "sent"

    # The customer answers our reply: it joins the same conversation, and a re-poll adds nothing.
    arrived = email.utils.formatdate(time.time() + 2)  # our mail server stamps its arrival
    imap_server.deliver(mailbox, b"Received: from mx.example.com by mail.baansuan.example; " + arrived.encode()
                        + b"\r\n" + customer_mail(from_addr="somchai@example.com", message_id="<c2@example.com>",
                                               subject="Re: Re: สอบถามราคากาแฟ", text="ตกลงครับ",
                                               in_reply_to=mail["Message-ID"],
                                               references=f"<c1@example.com> {mail['Message-ID']}"))
    with run_on_commit():
        channel_poll(account=email_account)
        channel_poll(account=email_account)
    conversation = Conversation.objects.get()
    assert conversation.message_count == 3
    assert list(Message.objects.filter(conversation=conversation).order_by("created_at", "id")
                .values_list("direction", "text")) == [
        ("in", "ขอราคากาแฟคั่วกลาง 10 ถุงครับ"), ("out", "ถุงละ 250 บาทค่ะ"), ("in", "ตกลงครับ")]
    assert Customer.objects.filter(workspace=workspace).count() == 1


def test_new_address_creates_a_customer_and_a_weak_match_is_only_a_candidate(workspace, email_account,
                                                                             imap_server, run_on_commit):
    from samphan.customers.models import DuplicateCandidate

    existing = customer_create(workspace=workspace, first_name="Ann", identities={"email": "ann.lee@gmail.com"})
    mailbox = email_account.config["imap_mailbox"]
    imap_server.deliver(mailbox, customer_mail(from_addr="Ann Lee <annlee+shop@gmail.com>", text="hello"))
    with run_on_commit():
        channel_poll(account=email_account)
    new = Customer.objects.exclude(pk=existing.pk).get(workspace=workspace)
    assert new.email == "annlee+shop@gmail.com" and new.display_name == "Ann Lee"
    assert Conversation.objects.get().customer_id == new.pk  # not merged into Ann silently
    [candidate] = DuplicateCandidate.objects.filter(workspace=workspace)
    assert {candidate.customer_a_id, candidate.customer_b_id} == {existing.pk, new.pk}
    assert "same_email_other_form" in candidate.reasons
