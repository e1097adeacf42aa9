"""SLA API: settings with clear errors, breach state in the inbox list, the report and its CSV, scoping."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.test import Client

from samphan.accounts.services import api_token_create
from samphan.channels.services import channel_account_create
from samphan.customers.services import customer_create
from samphan.inbox.models import Conversation, ReportingEvent
from samphan.inbox.services import conversation_reply, team_create
from samphan.sla.services import sla_policy_create
from tests.factories import MembershipFactory
from tests.sla.conftest import OFFICE, bkk, customer_says

pytestmark = pytest.mark.django_db
JSON = "application/json"


def test_settings_round_trip_and_clear_errors(api, workspace, run_on_commit):
    assert api.get("/api/sla/business-hours").json() == {
        "configured": False, "time_zone": "Asia/Bangkok",
        "week": {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}}
    bad = api.put("/api/sla/business-hours", {"time_zone": "Asia/Bangkok", "week": {"mon": [["18:00", "09:00"]]}},
                  content_type=JSON)
    assert bad.status_code == 422 and bad.json()["code"] == "validation_error"
    assert "mon interval 1: 18:00–09:00 ends before it starts" in bad.json()["message"]
    with run_on_commit():
        ok = api.put("/api/sla/business-hours", {"time_zone": "Asia/Bangkok", "week": OFFICE}, content_type=JSON)
    assert ok.status_code == 200 and ok.json()["week"]["mon"] == [["09:00", "18:00"]] and ok.json()["week"]["sat"] == []

    assert api.post("/api/sla/holidays", {"date": "2026-13-01"}, content_type=JSON).json()["message"].startswith(
        "date: '2026-13-01' is not a date")
    created = api.post("/api/sla/holidays", {"date": "2026-04-13", "name": "วันสงกรานต์"}, content_type=JSON)
    assert created.status_code == 201
    assert api.post("/api/sla/holidays", {"date": "2026-04-13"}, content_type=JSON).status_code == 409
    imported = api.post("/api/sla/holidays/import", {"year": 2026}, content_type=JSON)
    assert imported.status_code == 201 and len(imported.json()) >= 15
    assert len(api.get("/api/sla/holidays", {"year": 2026}).json()) == len(imported.json()) + 1
    assert api.delete(f"/api/sla/holidays/{created.json()['id']}").status_code == 204

    policy = api.post("/api/sla/policies", {"name": "Standard", "first_response_seconds": 1800,
                                            "resolution_seconds": 86400}, content_type=JSON)
    assert policy.status_code == 201 and policy.json()["business_hours"] is True
    assert api.post("/api/sla/policies", {"name": "None"}, content_type=JSON).json()["message"].startswith(
        "a policy needs at least one target")
    patched = api.patch(f"/api/sla/policies/{policy.json()['id']}", {"priority": "urgent"}, content_type=JSON)
    assert patched.json()["priority"] == "urgent" and patched.json()["first_response_seconds"] == 1800
    assert api.patch(f"/api/sla/policies/{policy.json()['id']}", {"priority": "now"},
                     content_type=JSON).status_code == 422


def test_staff_read_but_do_not_configure(workspace):
    staff = MembershipFactory(workspace=workspace, role="staff").user
    _, token = api_token_create(user=staff, workspace=workspace)
    client = Client(headers={"Authorization": f"Bearer {token}"})
    assert client.get("/api/sla/policies").status_code == 200
    assert client.post("/api/sla/policies", {"name": "x", "first_response_seconds": 600},
                       content_type=JSON).status_code == 403
    assert client.get("/api/sla/report").status_code == 403


def test_inbox_list_shows_and_filters_breach_state(api, workspace, fake_account, office_hours, owner):
    sla_policy_create(workspace=workspace, name="Standard", first_response_seconds=1800, next_response_seconds=3600)
    late = customer_says(fake_account, bkk(2026, 5, 11, 9, 0), who="late")  # due 09:30
    soon = customer_says(fake_account, bkk(2026, 5, 11, 9, 45), who="soon")  # due 10:15
    later = customer_says(fake_account, bkk(2026, 5, 11, 9, 55), who="later")  # due 10:25
    with time_machine.travel(bkk(2026, 5, 11, 9, 50), tick=False):
        conversation_reply(conversation=later, actor=owner, text="รับทราบค่ะ")
        page = api.get("/api/inbox/conversations").json()["items"]
        by_id = {r["id"]: r for r in page}
        assert by_id[late.pk]["sla"]["state"] == "breached"
        assert by_id[late.pk]["sla"]["seconds_left"] == -20 * 60
        assert by_id[soon.pk]["sla"] == {**by_id[soon.pk]["sla"], "state": "due_soon", "target": "first_response",
                                         "seconds_left": 25 * 60, "breaches": []}
        assert by_id[later.pk]["sla"] is None  # answered, no resolution target
        ids = lambda **p: [r["id"] for r in api.get("/api/inbox/conversations", p).json()["items"]]  # noqa: E731
        assert ids(sla="breached") == [late.pk]
        assert ids(sla="due_soon") == [soon.pk]
        assert ids(sort="due") == [late.pk, soon.pk]
        first = api.get("/api/inbox/conversations", {"sort": "due", "limit": 1}).json()
        assert api.get("/api/inbox/conversations", {"sort": "due", "limit": 1, "cursor": first["next_cursor"]}
                       ).json()["items"][0]["id"] == soon.pk
        assert api.get("/api/inbox/conversations", {"sla": "late"}).status_code == 422
        assert api.get("/api/inbox/conversations", {"sort": "oldest"}).status_code == 422
        detail = api.get(f"/api/inbox/conversations/{late.pk}").json()
        assert detail["priority"] == "normal" and detail["sla"]["first_response_due_at"].startswith("2026-05-11T02:30")
        response = api.post(f"/api/inbox/conversations/{late.pk}/priority", {"priority": "urgent"}, content_type=JSON)
        assert response.status_code == 200 and response.json()["priority"] == "urgent"
        assert api.post(f"/api/inbox/conversations/{late.pk}/priority", {"priority": "asap"},
                        content_type=JSON).status_code == 422


def _event(workspace, conversation, kind, wall, business, met, *, agent=None, team=None, day=11):
    return ReportingEvent.objects.create(
        workspace=workspace, conversation=conversation, kind=kind, started_at=bkk(2026, 5, day, 9),
        occurred_at=bkk(2026, 5, day, 10), value_seconds=wall, business_seconds=business, sla_met=met,
        agent=agent, team=team, channel_account_id=conversation.channel_account_id)


@pytest.fixture
def measured(workspace, other_workspace, fake_account, line_account, owner):
    agent = MembershipFactory(workspace=workspace, role="agent", user__display_name="สมศรี Somsri").user
    team = team_create(workspace=workspace, name="ทีมขาย Sales")
    a = customer_says(fake_account, bkk(2026, 5, 11, 9), who="a")
    b = customer_says(line_account, bkk(2026, 5, 11, 9), who="b")
    # First responses: 60, 120, 300, 900 s wall; 60, 60, 300, 600 business.
    _event(workspace, a, "first_response", 60, 60, True, agent=owner)
    _event(workspace, b, "first_response", 120, 60, True, agent=agent, team=team)
    _event(workspace, a, "response", 300, 300, False, agent=owner)
    _event(workspace, b, "response", 900, 600, None, agent=agent, team=team)
    _event(workspace, a, "resolution", 7200, 3600, True, agent=owner)
    _event(workspace, b, "first_response", 999999, 999999, False, day=20)  # outside the range
    # Another workspace's rows, in the same range: must never appear.
    other_account = channel_account_create(workspace=other_workspace, provider="fake", name="Theirs",
                                           secrets={"signing_secret": "s"})
    theirs = Conversation.objects.create(workspace=other_workspace, channel_account=other_account,
                                         customer=customer_create(workspace=other_workspace, first_name="X"),
                                         thread_key="x", contact_id="x")
    _event(other_workspace, theirs, "first_response", 5, 5, False)
    return {"agent": agent, "team": team, "a": a, "b": b}


def test_report_figures(api, measured, owner):
    report = api.get("/api/sla/report", {"start": "2026-05-01", "end": "2026-05-15"}).json()
    first = report["overall"]["first_response"]
    assert first["count"] == 2 and first["wall"] == {"average": 90.0, "median": 90.0, "p90": 114.0}
    assert first["business"] == {"average": 60.0, "median": 60.0, "p90": 60.0}
    assert (first["sla_met"], first["sla_measured"], first["hit_rate"]) == (2, 2, 1.0)
    response = report["overall"]["response"]
    assert response["wall"]["median"] == 600.0 and response["wall"]["p90"] == 840.0
    assert (response["sla_met"], response["sla_measured"], response["hit_rate"]) == (0, 1, 0.0)
    assert report["overall"]["resolution"]["business"]["average"] == 3600.0
    agents = {r["name"]: r for r in report["agent"]}
    assert set(agents) == {"สมศรี Somsri", owner.display_name or owner.email}
    assert agents["สมศรี Somsri"]["first_response"]["wall"]["average"] == 120.0
    assert agents["สมศรี Somsri"]["resolution"] is None
    teams = {r["name"]: r for r in report["team"]}
    assert teams["ทีมขาย Sales"]["response"]["count"] == 1 and teams[""]["first_response"]["count"] == 1
    channels = {r["name"]: r["first_response"]["count"] for r in report["channel"]}
    assert channels == {"Test channel": 1, "Baan Suan LINE OA": 1}
    assert api.get("/api/sla/report", {"start": "2026-05-15", "end": "2026-05-01"}).json()["message"] == (
        "start 2026-05-15 is after end 2026-05-01")
    assert api.get("/api/sla/report", {"start": "yesterday"}).status_code == 422


def test_report_csv_per_conversation(api, measured):
    response = api.get("/api/sla/report/conversations.csv", {"start": "2026-05-01", "end": "2026-05-15"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [int(r["conversation_id"]) for r in rows] == [measured["a"].pk, measured["b"].pk]
    a, b = rows
    assert (a["first_response_seconds"], a["first_response_business_seconds"], a["first_response_sla_met"]) == (
        "60.0", "60.0", "yes")
    assert (a["responses"], a["responses_sla_missed"], a["resolutions"], a["resolution_seconds"],
            a["resolution_business_seconds"], a["resolution_sla_met"]) == ("1", "1", "1", "7200.0", "3600.0", "yes")
    assert (b["team"], b["assignee"], b["first_response_seconds"], b["resolutions"]) == (
        "", "", "120.0", "0")  # the conversation's own team/assignee; b has none


def test_report_is_exact_through_the_real_flow(api, workspace, fake_account, office_hours, owner):
    sla_policy_create(workspace=workspace, name="Standard", first_response_seconds=30 * 60)
    conv = customer_says(fake_account, bkk(2026, 5, 8, 17, 55))
    with time_machine.travel(bkk(2026, 5, 11, 9, 10), tick=False):
        conversation_reply(conversation=conv, actor=owner, text="สวัสดีค่ะ")
    first = api.get("/api/sla/report", {"start": "2026-05-11", "end": "2026-05-11"}).json()["overall"]["first_response"]
    assert first["business"]["median"] == 900.0 and first["wall"]["median"] == (63 * 3600 + 15 * 60)
    assert first["hit_rate"] == 1.0
    # The day before holds nothing: ranges are local dates in the workspace's time zone.
    assert api.get("/api/sla/report", {"start": "2026-05-10", "end": "2026-05-10"}).json()["overall"][
        "first_response"] is None
    event = api.get("/api/inbox/reporting-events").json()[0]
    assert event["business_seconds"] == 900.0 and event["sla_met"] is True
    assert event["due_at"].startswith("2026-05-11T02:25")
    assert timedelta(seconds=event["value_seconds"]) == timedelta(days=2, hours=15, minutes=15)


def test_another_workspaces_settings_are_not_found(api, other_workspace):
    theirs = sla_policy_create(workspace=other_workspace, name="Theirs", first_response_seconds=600)
    assert api.patch(f"/api/sla/policies/{theirs.pk}", {"name": "Mine"}, content_type=JSON).status_code == 404
    assert api.delete(f"/api/sla/policies/{theirs.pk}").status_code == 404
    assert api.get("/api/sla/policies").json() == []
