"""Inbox settings: teams and their members, agents' capacity and assignment rules (channel, keyword,
language → team); canned replies have their page in views_inbox. Every write goes through samphan.inbox.services (the same
checks and audit entries as the API); a refusal is shown as a message naming what was wrong.
Everyone who answers may read these pages; changing them needs `workspace.manage`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from samphan.accounts.models import Membership
from samphan.accounts.roles import role_can
from samphan.channels.adapters import adapter_paths
from samphan.channels.models import ChannelAccount
from samphan.core.errors import NotFound, PermissionDenied, SamphanError, ValidationFailed
from samphan.core.scoping import get_scoped_or_404
from samphan.inbox import services
from samphan.inbox.models import Agent, AssignmentRule, Conversation, Team, TeamMember
from samphan.web.views import workspace_view
from samphan.web.views_channels import provider_label

MANAGE = "workspace.manage"


def _int(value: str, field: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(_("%(field)s: choose one from the list.") % {"field": field}) from None


def _routing_context(request) -> dict[str, Any]:
    ws = request.workspace
    members = list(Membership.objects.filter(workspace=ws).select_related("user")
                   .order_by("user__display_name", "user__email"))
    agents = {a.user_id: a for a in Agent.objects.filter(workspace=ws)}
    active = dict(Conversation.objects.filter(workspace=ws, status__in=["open", "pending"])
                  .exclude(assignee=None).values_list("assignee").annotate(n=Count("id")).values_list("assignee", "n"))
    teams = list(Team.objects.for_workspace(ws).annotate(rule_count=Count("rules", distinct=True)).order_by("name"))
    team_members: dict[int, list[Any]] = {}
    for tm in (TeamMember.objects.filter(workspace=ws).select_related("user")
               .order_by("user__display_name", "user__email")):
        team_members.setdefault(tm.team_id, []).append(tm.user)
    return {
        "teams": [{"team": t, "members": team_members.get(t.pk, []),
                   "others": [m.user for m in members if m.user not in team_members.get(t.pk, [])]} for t in teams],
        "agents": [{"membership": m, "agent": agents.get(m.user_id), "active": active.get(m.user_id, 0)}
                   for m in members],
        "rules": [{"rule": r, "channel_label": provider_label(r.provider) if r.provider else ""}
                  for r in AssignmentRule.objects.for_workspace(ws).select_related("team", "channel_account")],
        "channels": ChannelAccount.objects.for_workspace(ws).order_by("name"),
        "providers": [(p, provider_label(p)) for p in sorted(adapter_paths()) if p != "fake"],
        "can_manage": role_can(request.membership.role, MANAGE),
    }


def _routing_action(request, action: str) -> str:
    ws, post, actor = request.workspace, request.POST, request.user
    kw = {"actor": actor, "via": "web"}

    def team() -> Team:
        return get_scoped_or_404(Team, ws, pk=_int(post.get("team", ""), _("Team")))

    if action == "team_create":
        t = services.team_create(workspace=ws, name=post.get("name", ""), auto_assign=bool(post.get("auto_assign")),
                                 **kw)
        return _("Team %(name)s is created.") % {"name": t.name}
    if action == "team_auto":
        t = services.team_update(team=team(), auto_assign=post.get("auto_assign") == "1", **kw)
        return (_("New conversations of %(name)s are given out round-robin.") if t.auto_assign
                else _("New conversations of %(name)s wait for someone to take them.")) % {"name": t.name}
    if action == "team_delete":
        t = team()
        services.team_delete(team=t, **kw)
        return _("Team %(name)s is deleted.") % {"name": t.name}
    if action == "member_add":
        t = team()
        services.team_member_add(team=t, user_id=_int(post.get("user", ""), _("Member")), **kw)
        return _("%(team)s has a new member.") % {"team": t.name}
    if action == "member_remove":
        t = team()
        services.team_member_remove(team=t, user_id=_int(post.get("user", ""), _("Member")), **kw)
        return _("The member left %(team)s.") % {"team": t.name}
    if action == "agent":
        raw = post.get("capacity", "").strip()
        if not raw.isdigit():
            raise ValidationFailed(_("Capacity: enter a whole number of conversations, 0–1000."))
        services.agent_update(workspace=ws, user_id=_int(post.get("user", ""), _("Member")), capacity=int(raw),
                              available=post.get("available") == "1", **kw)
        return _("The agent's capacity is saved.")
    if action == "rule_create":
        channel = post.get("channel_account", "")
        services.assignment_rule_create(
            workspace=ws, team_id=_int(post.get("team", ""), _("Team")), name=post.get("name", ""),
            channel_account_id=_int(channel, _("Channel")) if channel else None,
            provider=post.get("provider", "") if post.get("provider", "") in adapter_paths() else "",
            keyword=post.get("keyword", ""), language=post.get("language", ""),
            position=int(post["position"]) if post.get("position", "").isdigit() else 0, **kw)
        return _("The rule is added.")
    if action in ("rule_toggle", "rule_delete"):
        rule = get_scoped_or_404(AssignmentRule, ws, pk=_int(post.get("rule", ""), _("Rule")))
        if action == "rule_delete":
            services.assignment_rule_delete(rule=rule, **kw)
            return _("The rule is deleted.")
        services.assignment_rule_set_active(rule=rule, is_active=post.get("active") == "1", **kw)
        return _("The rule is on.") if rule.is_active else _("The rule is off.")
    raise Http404("unknown action")


@require_http_methods(["GET", "POST"])
@workspace_view("inbox.reply")
def inbox_routing(request):
    if request.method == "POST":
        try:
            if not role_can(request.membership.role, MANAGE):
                raise PermissionDenied(_("Only owners and managers change teams and rules."))
            messages.success(request, _routing_action(request, request.POST.get("action", "")))
        except PermissionDenied:
            return render(request, "web/forbidden.html", {"capability": MANAGE}, status=403)
        except NotFound:
            raise  # another workspace's team or rule: 404
        except SamphanError as exc:
            messages.error(request, exc.message)
        return redirect("web:inbox_routing", slug=request.workspace.slug)
    return render(request, "web/inbox/routing.html", _routing_context(request))
