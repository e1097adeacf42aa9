"""Who gets a conversation: routing rules (channel, keyword, language → team) and round-robin with capacity."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count
from django.utils import timezone

from samphan.accounts.models import Membership
from samphan.inbox.models import Agent, AssignmentRule, Conversation, Team, TeamMember

ACTIVE = (Conversation.Status.OPEN, Conversation.Status.PENDING)


def detect_language(text: str) -> str:
    """"th" when the text has Thai script, else "en": enough to route, cheap enough for every message."""
    return "th" if any("\u0e00" <= ch <= "\u0e7f" for ch in text or "") else "en"


def rule_matches(rule: AssignmentRule, *, account: Any, text: str, language: str) -> bool:
    if rule.channel_account_id and rule.channel_account_id != account.pk:
        return False
    if rule.provider and rule.provider != account.provider:
        return False
    if rule.keyword and rule.keyword.casefold() not in (text or "").casefold():
        return False
    return not (rule.language and rule.language != language)


def route(*, rules: Iterable[AssignmentRule], account: Any, text: str) -> AssignmentRule | None:
    language = detect_language(text)
    for rule in rules:
        if rule.is_active and rule_matches(rule, account=account, text=text, language=language):
            return rule
    return None


def agent_for(*, workspace_id: int, user_id: int) -> Agent:
    agent, _ = Agent.objects.get_or_create(workspace_id=workspace_id, user_id=user_id)
    return agent


def round_robin_pick(*, team: Team) -> Any | None:
    """The team member who has waited longest for a conversation and still has room, or None.

    Locks the team's agent rows (in id order, so concurrent picks queue instead
    of deadlocking) so two conversations arriving together are not both given
    to the same person past their capacity.
    """
    member_ids = set(TeamMember.objects.filter(team=team).values_list("user_id", flat=True))
    # Only people who are still members of the workspace.
    member_ids &= set(Membership.objects.filter(workspace_id=team.workspace_id, user_id__in=member_ids)
                      .values_list("user_id", flat=True))
    if not member_ids:
        return None
    for user_id in member_ids - set(Agent.objects.filter(workspace_id=team.workspace_id, user_id__in=member_ids)
                                    .values_list("user_id", flat=True)):
        agent_for(workspace_id=team.workspace_id, user_id=user_id)
    agents = list(Agent.objects.select_for_update().filter(workspace_id=team.workspace_id, user_id__in=member_ids,
                                                           available=True).order_by("id"))
    if not agents:
        return None
    load = dict(Conversation.objects.filter(workspace_id=team.workspace_id, status__in=ACTIVE,
                                            assignee_id__in=[a.user_id for a in agents])
                .values("assignee_id").annotate(n=Count("id")).values_list("assignee_id", "n"))
    candidates = [a for a in agents if load.get(a.user_id, 0) < a.capacity]
    if not candidates:
        return None
    never = datetime(1970, 1, 1, tzinfo=UTC)
    chosen = min(candidates, key=lambda a: (a.last_assigned_at or never, a.user_id))
    chosen.last_assigned_at = timezone.now()
    chosen.save(update_fields=["last_assigned_at"])
    return chosen.user
