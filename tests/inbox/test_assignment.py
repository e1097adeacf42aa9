"""Routing rules (channel, keyword, language → team) and round-robin with per-agent capacity."""

from __future__ import annotations

import pytest

from samphan.core.models import AuditEvent
from samphan.inbox.assignment import detect_language
from samphan.inbox.models import Agent, Conversation
from samphan.inbox.services import (
    agent_update,
    assignment_rule_create,
    team_create,
    team_member_add,
)
from tests.channels.helpers import post_line
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _message(provider_client, account, n, text, user=None):
    from tests.channels.helpers import line_text_event

    user = user or f"U{n:032x}"
    return post_line(provider_client, account, {"events": [line_text_event(
        event_id=f"EV{n}", message_id=str(n), user_id=user, text=text)]})


@pytest.fixture
def teams(workspace):
    agents = [MembershipFactory(workspace=workspace, role="agent").user for _ in range(3)]
    sales = team_create(workspace=workspace, name="Sales")
    thai = team_create(workspace=workspace, name="ทีมภาษาไทย")
    for agent in agents[:2]:
        team_member_add(team=sales, user_id=agent.pk)
    team_member_add(team=thai, user_id=agents[2].pk)
    return {"agents": agents, "sales": sales, "thai": thai}


def test_language_detection():
    assert detect_language("สวัสดีครับ") == "th"
    assert detect_language("hello ค่ะ") == "th"
    assert detect_language("hello") == "en"


def test_rules_route_by_keyword_then_language(workspace, teams, line_account, provider_client, run_on_commit):
    assignment_rule_create(workspace=workspace, team_id=teams["sales"].pk, keyword="ราคา", position=1,
                           name="price questions")
    assignment_rule_create(workspace=workspace, team_id=teams["thai"].pk, language="th", position=2)
    with run_on_commit():
        _message(provider_client, line_account, 1, "ขอทราบราคาส่งหน่อยครับ")  # keyword → Sales
        _message(provider_client, line_account, 2, "สวัสดีค่ะ")  # Thai → ทีมภาษาไทย
        _message(provider_client, line_account, 3, "hello")  # no rule → unassigned
    convs = {c.thread_key[-1]: c for c in Conversation.objects.all()}
    assert convs["1"].team == teams["sales"] and convs["1"].assignee in teams["agents"][:2]
    assert convs["2"].team == teams["thai"] and convs["2"].assignee == teams["agents"][2]
    assert convs["3"].team is None and convs["3"].assignee is None
    audit = AuditEvent.objects.get(action="conversation.assigned", target_id=str(convs["1"].pk))
    assert audit.via == "worker" and audit.changes["reason"].endswith("price questions")


def test_rule_by_channel(workspace, teams, line_account, fake_account):
    from samphan.inbox.assignment import route
    from samphan.inbox.models import AssignmentRule

    assignment_rule_create(workspace=workspace, team_id=teams["sales"].pk, channel_account_id=fake_account.pk)
    rules = list(AssignmentRule.objects.all())
    assert route(rules=rules, account=fake_account, text="x").team == teams["sales"]
    assert route(rules=rules, account=line_account, text="x") is None


def test_round_robin_respects_capacity(workspace, teams, line_account, provider_client, run_on_commit):
    a, b, _ = teams["agents"]
    agent_update(workspace=workspace, user_id=a.pk, capacity=1)
    agent_update(workspace=workspace, user_id=b.pk, capacity=2)
    assignment_rule_create(workspace=workspace, team_id=teams["sales"].pk)  # everything → Sales
    with run_on_commit():
        for n in range(1, 6):
            _message(provider_client, line_account, n, f"question {n}")
    assignees = list(Conversation.objects.order_by("created_at", "id").values_list("assignee_id", flat=True))
    # Longest-waiting first, never past capacity: a, b, b, then nobody has room.
    assert assignees == [a.pk, b.pk, b.pk, None, None]
    assert all(c.team_id == teams["sales"].pk for c in Conversation.objects.all())


def test_unavailable_agents_are_skipped_and_auto_assign_via_api(workspace, teams, owner, line_account,
                                                                 provider_client, run_on_commit, api):
    a, b, _ = teams["agents"]
    agent_update(workspace=workspace, user_id=a.pk, available=False)
    with run_on_commit():
        _message(provider_client, line_account, 1, "hi")
    conv = Conversation.objects.get()
    response = api.post(f"/api/inbox/conversations/{conv.pk}/assign",
                        data={"team_id": teams["sales"].pk, "auto": True}, content_type="application/json")
    assert response.json()["assignee"]["id"] == b.pk
    Agent.objects.filter(user=b).update(available=False)
    again = api.post(f"/api/inbox/conversations/{conv.pk}/assign", data={"auto": True},
                     content_type="application/json")
    assert again.status_code == 409 and "nobody in Sales" in again.json()["message"]


def test_a_removed_member_is_not_assigned(workspace, teams):
    from samphan.accounts.models import Membership
    from samphan.inbox.assignment import round_robin_pick

    a, b, _ = teams["agents"]
    Membership.objects.filter(user=a).delete()
    assert round_robin_pick(team=teams["sales"]) == b
