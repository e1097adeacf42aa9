"""The brand-voice guard on inbox replies: a rude reply is not sent; only a manager may override, audited."""

from __future__ import annotations

import pytest
from django.test import Client

from samphan.accounts.services import api_token_create
from samphan.channels.adapters import fake
from samphan.channels.models import OutboundMessage
from samphan.core.errors import PermissionDenied
from samphan.core.models import AuditEvent
from samphan.guard.services import GuardBlocked
from samphan.inbox.models import Conversation, Message
from samphan.inbox.services import conversation_reply
from tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db

RUDE = "ก็บอกแล้วไง อ่านไม่ออกเหรอ"


@pytest.fixture
def conversation(workspace, fake_account):
    customer = CustomerFactory(workspace=workspace)
    return Conversation.objects.create(workspace=workspace, channel_account=fake_account, customer=customer,
                                       thread_key="t1", contact_id="t1")


def _client(workspace, role):
    user = MembershipFactory(workspace=workspace, role=role).user
    _, raw = api_token_create(user=user, workspace=workspace)
    return user, Client(headers={"Authorization": f"Bearer {raw}"})


def _reply(client, conversation, **data):
    return client.post(f"/api/inbox/conversations/{conversation.pk}/reply", data=data,
                       content_type="application/json")


def test_a_rude_thai_reply_is_stopped(workspace, conversation, run_on_commit):
    _, agent = _client(workspace, "agent")
    with run_on_commit():
        response = _reply(agent, conversation, text=RUDE)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "guard_blocked"
    assert body["details"]["rules"] == ["rude", "particle"]
    assert [f["text"] for f in body["details"]["findings"] if f["rule"] == "rude"] == ["ก็บอกแล้วไง", "อ่านไม่ออกเหรอ"]
    assert body["details"]["suggestion"] == "ขออนุญาตทบทวนอีกครั้งค่ะ"
    # Nothing stored, nothing sent, the customer still waits.
    assert not Message.objects.filter(conversation=conversation).exists()
    assert not OutboundMessage.objects.exists() and fake.OUTBOX == []
    # The suggestion goes through.
    with run_on_commit():
        sent = _reply(agent, conversation, text=body["details"]["suggestion"])
    assert sent.status_code == 202 and fake.OUTBOX[-1]["text"] == "ขออนุญาตทบทวนอีกครั้งค่ะ"


def test_profanity_in_a_canned_reply_is_stopped_too(workspace, conversation, api):
    from samphan.inbox.services import canned_reply_create

    canned = canned_reply_create(workspace=workspace, shortcut="bad", body="มึงรอไปก่อน")
    response = _reply(api, conversation, canned_reply_id=canned.pk)
    assert response.status_code == 422 and set(response.json()["details"]["rules"]) == {"profanity", "rude",
                                                                                       "particle"}


@pytest.mark.parametrize("role", ["agent", "staff", "marketer"])
def test_only_managers_may_override(workspace, conversation, role):
    _, client = _client(workspace, role)
    response = _reply(client, conversation, text=RUDE, override_guard=True, override_reason="customer asked")
    assert response.status_code == 403 and response.json()["code"] == "permission_denied"
    assert not Message.objects.filter(conversation=conversation).exists()
    assert not AuditEvent.objects.filter(action="guard.overridden").exists()


@pytest.mark.parametrize("role", ["manager", "owner"])
def test_manager_override_sends_and_is_audited(workspace, conversation, run_on_commit, role):
    user, client = _client(workspace, role)
    assert _reply(client, conversation, text=RUDE, override_guard=True).status_code == 422  # no reason
    with run_on_commit():
        response = _reply(client, conversation, text=RUDE, override_guard=True,
                          override_reason="the customer quoted our old slogan back to us")
    assert response.status_code == 202
    assert fake.OUTBOX[-1]["text"] == RUDE
    message = Message.objects.get(pk=response.json()["id"])
    assert message.meta["guard"] == {"overridden": True, "rules": ["rude", "particle"],
                                     "reason": "the customer quoted our old slogan back to us"}
    event = AuditEvent.objects.get(workspace=workspace, action="guard.overridden")
    assert event.actor == user and event.via == "api"
    assert (event.target_type, event.target_id) == ("inbox.message", str(message.pk))
    assert event.changes["reason"] == "the customer quoted our old slogan back to us"
    assert event.changes["rules"] == ["rude", "particle"] and event.changes["text"] == RUDE
    assert {f["text"] for f in event.changes["findings"]} >= {"ก็บอกแล้วไง", "อ่านไม่ออกเหรอ"}


def test_an_override_of_a_clean_reply_is_not_audited(workspace, conversation):
    _, client = _client(workspace, "manager")
    response = _reply(client, conversation, text="ได้ค่ะ", override_guard=True, override_reason="just in case")
    assert response.status_code == 202
    assert Message.objects.get(pk=response.json()["id"]).meta == {}
    assert not AuditEvent.objects.filter(action="guard.overridden").exists()


def test_the_service_enforces_the_same_rules(workspace, conversation):
    agent = MembershipFactory(workspace=workspace, role="agent").user
    with pytest.raises(GuardBlocked) as blocked:
        conversation_reply(conversation=conversation, actor=agent, text="NOT MY PROBLEM!!!")
    assert blocked.value.details["suggestion"] == "Let me see how I can help!"
    with pytest.raises(PermissionDenied):
        conversation_reply(conversation=conversation, actor=agent, text="NOT MY PROBLEM!!!", override_guard=True,
                           override_reason="x")
    with pytest.raises(PermissionDenied):  # nobody (a system caller) cannot override
        conversation_reply(conversation=conversation, actor=None, text="NOT MY PROBLEM!!!", override_guard=True,
                           override_reason="x")
    assert conversation_reply(conversation=conversation, actor=agent, text="Let me see how I can help!").pk
