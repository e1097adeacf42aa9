"""Inbox settings page: teams and members, agents' capacity, assignment rules —
through the inbox services, audited, scoped to the workspace, managers only for changes."""

from __future__ import annotations

import pytest
from django.test import Client

from samphan.core.models import AuditEvent
from samphan.inbox.models import Agent, AssignmentRule, Team, TeamMember
from samphan.inbox.services import assignment_rule_create, team_create
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def routing(workspace) -> str:
    return f"/w/{workspace.slug}/inbox/routing/"


@pytest.fixture
def agent(workspace):
    return MembershipFactory(workspace=workspace, role="agent").user


def test_teams_members_capacity_and_rules(owner_client, workspace, agent):
    page = routing(workspace)
    assert owner_client.get(page).status_code == 200
    owner_client.post(page, {"action": "team_create", "name": "หลังการขาย", "auto_assign": "1"})
    team = Team.objects.get()
    assert team.name == "หลังการขาย" and team.auto_assign
    owner_client.post(page, {"action": "member_add", "team": team.pk, "user": agent.pk})
    assert TeamMember.objects.filter(team=team, user=agent).exists()
    owner_client.post(page, {"action": "agent", "user": agent.pk, "capacity": "3", "available": "1"})
    assert Agent.objects.get(user=agent).capacity == 3
    bad = owner_client.post(page, {"action": "agent", "user": agent.pk, "capacity": "many"}, follow=True)
    assert "Capacity: enter a whole number" in bad.content.decode()
    owner_client.post(page, {"action": "rule_create", "team": team.pk, "keyword": "คืนเงิน", "language": "th",
                             "provider": "line", "position": "1"})
    rule = AssignmentRule.objects.get()
    assert (rule.keyword, rule.language, rule.provider, rule.team_id) == ("คืนเงิน", "th", "line", team.pk)
    bad = owner_client.post(page, {"action": "rule_create", "team": team.pk, "language": "fr"}, follow=True)
    assert "language is th or en" in bad.content.decode() and AssignmentRule.objects.count() == 1
    listed = owner_client.get(page).content.decode()
    assert "คืนเงิน" in listed and "LINE Official Account" in listed and agent.name in listed
    owner_client.post(page, {"action": "rule_toggle", "rule": rule.pk, "active": "0"})
    rule.refresh_from_db()
    assert not rule.is_active
    owner_client.post(page, {"action": "team_auto", "team": team.pk, "auto_assign": "0"})
    team.refresh_from_db()
    assert not team.auto_assign
    owner_client.post(page, {"action": "member_remove", "team": team.pk, "user": agent.pk})
    assert not TeamMember.objects.exists()
    owner_client.post(page, {"action": "rule_delete", "rule": rule.pk})
    owner_client.post(page, {"action": "team_delete", "team": team.pk})
    assert not Team.objects.exists() and not AssignmentRule.objects.exists()
    actions = set(AuditEvent.objects.filter(via="web").values_list("action", flat=True))
    assert {"team.created", "team.member_added", "agent.updated", "assignment_rule.created",
            "assignment_rule.updated", "team.updated", "team.member_removed", "assignment_rule.deleted",
            "team.deleted"} <= actions


def test_duplicate_team_and_empty_name_are_explained(owner_client, workspace):
    team_create(workspace=workspace, name="Sales")
    response = owner_client.post(routing(workspace), {"action": "team_create", "name": "Sales"}, follow=True)
    assert "there is already a team called Sales" in response.content.decode()
    response = owner_client.post(routing(workspace), {"action": "team_create", "name": " "}, follow=True)
    assert "a team needs a name" in response.content.decode()
    assert Team.objects.count() == 1


def test_scoping_and_roles(workspace, other_workspace, owner_client, agent):
    theirs = team_create(workspace=other_workspace, name="Theirs")
    their_rule = assignment_rule_create(workspace=other_workspace, team_id=theirs.pk, keyword="x")
    for data in ({"action": "team_delete", "team": theirs.pk}, {"action": "rule_delete", "rule": their_rule.pk},
                 {"action": "member_add", "team": theirs.pk, "user": agent.pk}):
        assert owner_client.post(routing(workspace), data).status_code == 404
    assert Team.objects.filter(pk=theirs.pk).exists() and AssignmentRule.objects.filter(pk=their_rule.pk).exists()
    assert "Theirs" not in owner_client.get(routing(workspace)).content.decode()
    agent_client = Client()
    agent_client.force_login(agent)
    assert agent_client.get(routing(workspace)).status_code == 200  # may read
    assert agent_client.post(routing(workspace), {"action": "team_create", "name": "Mine"}).status_code == 403
    assert not Team.objects.filter(name="Mine").exists()
