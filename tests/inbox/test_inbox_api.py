"""Inbox API: filters and pagination, notes with mentions, labels, canned replies, assignment, status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from samphan.core.models import AuditEvent
from samphan.inbox.models import Conversation, NoteMention, ReportingEvent
from samphan.inbox.services import canned_reply_create, label_get_or_create, team_create
from tests.factories import CustomerFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def _conversation(workspace, account, *, thread, minutes_ago=0, status="open", **kw):
    customer = CustomerFactory(workspace=workspace)
    at = timezone.now() - timedelta(minutes=minutes_ago)
    return Conversation.objects.create(workspace=workspace, channel_account=account, customer=customer,
                                       thread_key=thread, contact_id=thread, status=status, last_message_at=at,
                                       created_at=at, message_count=1, waiting_since=at, **kw)


@pytest.fixture
def inbox(workspace, fake_account, line_account, owner):
    agent = MembershipFactory(workspace=workspace, role="agent").user
    team = team_create(workspace=workspace, name="ทีมขาย Sales")
    convs = {
        "a": _conversation(workspace, fake_account, thread="a", minutes_ago=1),
        "b": _conversation(workspace, line_account, thread="b", minutes_ago=2, assignee=agent, team=team),
        "c": _conversation(workspace, line_account, thread="c", minutes_ago=3, status="pending"),
        "d": _conversation(workspace, fake_account, thread="d", minutes_ago=4, status="resolved"),
        "e": _conversation(workspace, fake_account, thread="e", minutes_ago=5, assignee=owner),
    }
    vip = label_get_or_create(workspace=workspace, name="VIP")
    convs["c"].labels.add(vip, through_defaults={"workspace": workspace})
    return {"agent": agent, "team": team, **convs}


def _ids(api, **params):
    return [r["id"] for r in api.get("/api/inbox/conversations", params).json()["items"]]


def test_filters(api, inbox, line_account):
    i = inbox
    assert _ids(api) == [i[k].pk for k in "abcde"]
    assert _ids(api, status="open") == [i["a"].pk, i["b"].pk, i["e"].pk]
    assert _ids(api, status="active") == [i[k].pk for k in "abce"]
    assert _ids(api, status="resolved") == [i["d"].pk]
    assert _ids(api, channel=line_account.pk) == [i["b"].pk, i["c"].pk]
    assert _ids(api, provider="fake") == [i[k].pk for k in "ade"]
    assert _ids(api, assignee=i["agent"].pk) == [i["b"].pk]
    assert _ids(api, assignee="me") == [i["e"].pk]
    assert _ids(api, assignee="none") == [i[k].pk for k in "acd"]
    assert _ids(api, team=i["team"].pk) == [i["b"].pk]
    assert _ids(api, label="VIP") == [i["c"].pk]
    assert _ids(api, label="nope") == []
    assert _ids(api, label="VIP", team=i["team"].pk) == []
    assert api.get("/api/inbox/conversations", {"status": "snoozed"}).status_code == 422


def test_label_filter_on_a_common_label_walks_the_sorted_index(api, inbox, monkeypatch):
    """Above LABEL_DRIVE_LIMIT conversations the label is checked per row: same answers."""
    from samphan.inbox import selectors

    monkeypatch.setattr(selectors, "LABEL_DRIVE_LIMIT", 0)
    i = inbox
    assert _ids(api, label="VIP") == [i["c"].pk]
    assert _ids(api, label="VIP", status="active") == [i["c"].pk]
    assert _ids(api, label="VIP", team=i["team"].pk) == []


def test_keyset_pagination_and_query_count(api, inbox):
    first = api.get("/api/inbox/conversations", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get("/api/inbox/conversations", {"limit": 2, "cursor": first["next_cursor"]}).json()
    third = api.get("/api/inbox/conversations", {"limit": 2, "cursor": second["next_cursor"]}).json()
    assert third["next_cursor"] is None
    ids = [r["id"] for p in (first, second, third) for r in p["items"]]
    assert ids == [inbox[k].pk for k in "abcde"]
    assert api.get("/api/inbox/conversations", {"cursor": "%%%"}).status_code == 422
    with CaptureQueriesContext(connection) as queries:
        api.get("/api/inbox/conversations", {"limit": 25})
    # token lookup + membership + token stamp, then the page and its labels: no N+1.
    page_queries = [q for q in queries.captured_queries if "inbox_" in q["sql"]]
    assert len(page_queries) == 2, [q["sql"][:120] for q in page_queries]


def test_notes_mention_colleagues(api, inbox, workspace):
    colleague = MembershipFactory(workspace=workspace, role="staff", user__email="nok@example.com").user
    outsider = MembershipFactory(role="owner", user__email="someone@example.com").user  # another workspace
    response = api.post(f"/api/inbox/conversations/{inbox['a'].pk}/notes",
                        data={"text": "@nok ลูกค้าขอใบกำกับภาษี, cc @someone", "mentions": [inbox["agent"].pk]},
                        content_type="application/json")
    assert response.status_code == 201
    mentioned = {m["id"] for m in response.json()["mentions"]}
    assert mentioned == {colleague.pk, inbox["agent"].pk}
    assert outsider.pk not in set(NoteMention.objects.values_list("user_id", flat=True))
    bad = api.post(f"/api/inbox/conversations/{inbox['a'].pk}/notes", data={"text": "x", "mentions": [outsider.pk]},
                   content_type="application/json")
    assert bad.status_code == 422
    detail = api.get(f"/api/inbox/conversations/{inbox['a'].pk}").json()
    assert detail["notes"][0]["text"].startswith("@nok")
    assert detail["messages"] == []  # a note is never a message to the customer


def test_labels(api, inbox):
    url = f"/api/inbox/conversations/{inbox['a'].pk}/labels"
    assert api.post(url, data={"name": "ร้องเรียน"}, content_type="application/json").json() == ["ร้องเรียน"]
    assert api.post(url, data={"name": "VIP"}, content_type="application/json").json() == ["VIP", "ร้องเรียน"]
    assert api.delete(f"{url}/VIP").json() == ["ร้องเรียน"]
    assert _ids(api, label="ร้องเรียน") == [inbox["a"].pk]


def test_canned_reply_renders_variables(api, inbox, workspace, owner, run_on_commit):
    from samphan.channels.adapters import fake

    customer = inbox["a"].customer
    customer.first_name = "วิภา"
    customer.save()
    canned = canned_reply_create(workspace=workspace, shortcut="hello",
                                 body="สวัสดีค่ะคุณ{{ customer.first_name }} {% if customer.last_name %}"
                                      "({{ customer.last_name|upper }}){% endif %} — {{ agent.name }}, "
                                      "{{ workspace.name }}{{ customer.password }}")
    with run_on_commit():
        response = api.post(f"/api/inbox/conversations/{inbox['a'].pk}/reply",
                            data={"canned_reply_id": canned.pk}, content_type="application/json")
    assert response.status_code == 202, response.json()
    expected = f"สวัสดีค่ะคุณวิภา ({customer.last_name.upper()}) — {owner.name}, Alpha Coffee"
    assert response.json()["text"] == expected
    assert fake.OUTBOX[-1]["text"] == expected
    assert response.json()["meta"] == {"canned_reply": "hello"}


@pytest.mark.parametrize("body", [
    "{% debug %}", "{% include 'base.html' %}", "{% load static %}", "{{ customer.first_name|ljust:'999999999' }}",
    "{% for x in customer %}{% endfor %}", "{% extends 'x' %}", "{{ unclosed",
])
def test_canned_reply_sandbox(api, body):
    response = api.post("/api/inbox/canned-replies", data={"shortcut": "x", "body": body},
                        content_type="application/json")
    assert response.status_code == 422, response.content


def test_assign_unassign_and_audit(api, inbox, workspace):
    url = f"/api/inbox/conversations/{inbox['a'].pk}"
    response = api.post(f"{url}/assign", data={"assignee_id": inbox["agent"].pk, "team_id": inbox["team"].pk},
                        content_type="application/json")
    assert response.json()["assignee"]["id"] == inbox["agent"].pk and response.json()["team"]["id"] == inbox["team"].pk
    assert api.post(f"{url}/unassign").json()["assignee"] is None
    outsider = MembershipFactory(role="agent").user
    assert api.post(f"{url}/assign", data={"assignee_id": outsider.pk},
                    content_type="application/json").status_code == 422
    events = list(AuditEvent.objects.filter(action="conversation.assigned", target_id=str(inbox["a"].pk))
                  .order_by("id").values_list("changes", flat=True))
    assert events[0]["assignee"] == [None, inbox["agent"].pk] and events[0]["reason"] == "manual"
    assert events[1]["assignee"] == [inbox["agent"].pk, None]


def test_resolve_writes_a_reporting_event_and_reopen_checks_the_thread(api, inbox, fake_account, workspace):
    url = f"/api/inbox/conversations/{inbox['a'].pk}/status"
    response = api.post(url, data={"status": "resolved"}, content_type="application/json")
    assert response.json()["status"] == "resolved" and response.json()["waiting_since"] is None
    event = ReportingEvent.objects.get(kind="resolution")
    assert 55 <= event.value_seconds <= 120  # opened a minute ago
    # No business hours set: open 24/7, so business time is wall-clock time (tests/sla has the rest).
    assert event.business_seconds == pytest.approx(event.value_seconds)
    # A new conversation on the same thread is active now: reopening the old one would clash.
    _conversation(workspace, fake_account, thread="a")
    assert api.post(url, data={"status": "open"}, content_type="application/json").status_code == 409


def test_staff_may_reply_but_not_configure(inbox, workspace, run_on_commit):
    from django.test import Client

    from samphan.accounts.services import api_token_create

    staff = MembershipFactory(workspace=workspace, role="staff").user
    _, token = api_token_create(user=staff, workspace=workspace)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    with run_on_commit():
        assert client.post(f"/api/inbox/conversations/{inbox['a'].pk}/reply", data={"text": "ค่ะ"},
                           content_type="application/json").status_code == 202
    assert client.post("/api/inbox/teams", data={"name": "x"}, content_type="application/json").status_code == 403
    assert client.post("/api/inbox/canned-replies", data={"shortcut": "x", "body": "y"},
                       content_type="application/json").status_code == 403
    assert client.get("/api/channels/accounts").status_code == 403
