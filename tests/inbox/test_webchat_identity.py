"""A web-chat visitor leaves an e-mail: an exact match links, an unknown address becomes a new identity,
a weak match only a duplicate candidate — through the same durable path as the visitor's messages."""

from __future__ import annotations

import pytest

from samphan.channels.models import WebhookEvent
from samphan.customers.models import Customer, DuplicateCandidate, Identity, MergeRecord
from samphan.customers.services import customer_create
from samphan.inbox.models import Conversation
from tests.channels.webchat_helpers import post, send, widget_client

pytestmark = pytest.mark.django_db


def _leave_email(client, account, email):
    return post(client, account, "email", {"email": email})


def _identities(customer) -> set[tuple[str, str]]:
    return set(Identity.objects.filter(customer=customer).values_list("kind", "value"))


def test_new_address_becomes_an_identity_of_the_visitor(webchat_account, run_on_commit):
    client = widget_client()
    with run_on_commit():
        send(client, webchat_account, "สวัสดีค่ะ", "c1")
        response = _leave_email(client, webchat_account, " Napa.S@Example.co.th ")
    assert response.status_code == 202 and response.json()["email"] == "napa.s@example.co.th"
    conversation = Conversation.objects.get()
    kinds = {k for k, _ in _identities(conversation.customer)}
    assert kinds == {"webchat", "email"}
    assert conversation.customer.email == "napa.s@example.co.th"
    assert WebhookEvent.objects.filter(status="processed").count() == 2
    # Leaving it again changes nothing.
    with run_on_commit():
        _leave_email(client, webchat_account, "napa.s@example.co.th")
    assert Identity.objects.filter(kind="email").count() == 1 and Customer.objects.count() == 1


def test_exact_match_links_an_anonymous_visitor_to_the_known_customer(workspace, webchat_account, run_on_commit):
    known = customer_create(workspace=workspace, first_name="สมชาย", last_name="ใจดี",
                            identities={"email": "somchai@example.com", "phone": "081-234-5678"})
    client = widget_client()
    with run_on_commit():
        send(client, webchat_account, "ของที่สั่งไปถึงไหนแล้วครับ", "c1")
    anonymous = Conversation.objects.get().customer
    assert anonymous.pk != known.pk
    with run_on_commit():
        _leave_email(client, webchat_account, "Somchai@Example.com")
    conversation = Conversation.objects.get()
    assert conversation.customer_id == known.pk  # the conversation now sits with สมชาย
    assert ("webchat", conversation.thread_key) in _identities(known)
    anonymous.refresh_from_db()
    assert anonymous.merged_into_id == known.pk
    record = MergeRecord.objects.get()  # audited and undoable like any merge
    assert (record.survivor_id, record.merged_id) == (known.pk, anonymous.pk)
    # Later messages of the visitor go straight to สมชาย.
    with run_on_commit():
        send(client, webchat_account, "ขอบคุณครับ", "c2")
    assert Conversation.objects.get().message_count == 2


def test_e_mail_before_any_message_links_the_first_message(workspace, webchat_account, run_on_commit):
    known = customer_create(workspace=workspace, first_name="Napa", identities={"email": "napa@example.com"})
    client = widget_client()
    with run_on_commit():
        _leave_email(client, webchat_account, "napa@example.com")
        send(client, webchat_account, "Hello, is the shop open on Sunday?", "c1")
    assert Conversation.objects.get().customer_id == known.pk
    assert Customer.objects.count() == 1 and MergeRecord.objects.count() == 0


def test_a_visitor_whose_customer_has_more_is_not_merged(workspace, webchat_account, run_on_commit):
    known = customer_create(workspace=workspace, first_name="Known", identities={"email": "known@example.com"})
    client = widget_client()
    with run_on_commit():
        send(client, webchat_account, "hi", "c1")
    visitor_customer = Conversation.objects.get().customer
    # An agent recorded a phone number on the visitor's customer: it is somebody, not an anonymous shell.
    from samphan.customers.services import identity_attach

    identity_attach(customer=visitor_customer, kind="phone", raw="0899999999")
    with run_on_commit():
        _leave_email(client, webchat_account, "known@example.com")
    assert Conversation.objects.get().customer_id == visitor_customer.pk
    assert MergeRecord.objects.count() == 0
    candidate = DuplicateCandidate.objects.get()
    assert {candidate.customer_a_id, candidate.customer_b_id} == {known.pk, visitor_customer.pk}
    assert candidate.reasons == ["claimed_identity"] and candidate.status == "open"


def test_weak_match_is_only_a_duplicate_candidate(workspace, webchat_account, run_on_commit):
    other = customer_create(workspace=workspace, first_name="Somchai", identities={"email": "somchaij@gmail.com"})
    unrelated = customer_create(workspace=workspace, first_name="X", identities={"email": "s.other@gmail.com"})
    client = widget_client()
    with run_on_commit():
        send(client, webchat_account, "hi", "c1")
        _leave_email(client, webchat_account, "Somchai.J+shop@gmail.com")
    visitor_customer = Conversation.objects.get().customer
    assert visitor_customer.pk not in (other.pk, unrelated.pk)
    assert ("email", "somchai.j+shop@gmail.com") in _identities(visitor_customer)
    candidate = DuplicateCandidate.objects.get()
    assert {candidate.customer_a_id, candidate.customer_b_id} == {other.pk, visitor_customer.pk}
    assert candidate.reasons == ["same_email_other_form"]
    assert MergeRecord.objects.count() == 0


def test_another_workspace_customer_with_the_address_is_untouched(webchat_account, other_workspace, run_on_commit):
    stranger = customer_create(workspace=other_workspace, first_name="Other", identities={"email": "a@example.com"})
    client = widget_client()
    with run_on_commit():
        send(client, webchat_account, "hi", "c1")
        _leave_email(client, webchat_account, "a@example.com")
    assert Conversation.objects.get().customer.workspace_id == webchat_account.workspace_id
    assert _identities(stranger) == {("email", "a@example.com")}
    assert DuplicateCandidate.objects.count() == 0


def test_e_mail_rate_limit(webchat_account, settings):
    settings.SAMPHAN_WEBCHAT_RATE_EMAIL = "2/h"
    client = widget_client()
    send(client, webchat_account, "hi", "c1")
    codes = [_leave_email(client, webchat_account, f"n{i}@example.com").status_code for i in range(3)]
    assert codes == [202, 202, 429]
