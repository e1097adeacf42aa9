"""Writes for the inbox: replies, notes, labels, assignment, status, canned replies, teams and rules."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.template import Context, Engine, TemplateSyntaxError
from django.template.base import Lexer, TokenType
from django.utils import timezone

from samphan.accounts.models import Membership, User
from samphan.channels.services import outbound_enqueue
from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed
from samphan.guard.services import guard_enforce, guard_meta, guard_override_audit
from samphan.inbox.assignment import agent_for, round_robin_pick
from samphan.inbox.ingest import preview_of
from samphan.inbox.models import (
    AssignmentRule,
    CannedReply,
    Conversation,
    ConversationLabel,
    Label,
    Message,
    Note,
    NoteMention,
    ReportingEvent,
    SentimentCorrection,
    Team,
    TeamMember,
)
from samphan.sla.clock import CLOCK_FIELDS, sla_context, sla_measure, sla_refresh
from samphan.sla.models import Priority

MAX_REPLY = 5000
Status = Conversation.Status


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def _lock(conversation: Conversation) -> Conversation:
    return (Conversation.objects.select_for_update(of=("self",))
            .select_related("channel_account", "customer").get(pk=conversation.pk))


# --- canned replies: Django templates, sandboxed --------------------------------------------

# Plain-text output, no template loaders (so no {% include %} or {% extends %} can read files),
# and only these tags and filters; the context holds plain strings, never model objects.
_ENGINE = Engine(dirs=[], app_dirs=False, loaders=[], autoescape=False, string_if_invalid="", debug=False)
ALLOWED_TAGS = frozenset({"if", "elif", "else", "endif"})
ALLOWED_FILTERS = frozenset({"default", "default_if_none", "upper", "lower", "title", "capfirst",
                             "truncatechars", "truncatewords", "first", "cut"})
_FILTER_RE = re.compile(r"\|\s*([A-Za-z_][A-Za-z0-9_]*)")


def canned_validate(body: str) -> None:
    if not body.strip():
        raise ValidationFailed("a canned reply needs a body")
    for token in Lexer(body).tokenize():
        if token.token_type == TokenType.TEXT and ("{{" in token.contents or "{%" in token.contents):
            raise ValidationFailed("the canned reply has an unclosed {{ or {%")
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents.split() else ""
            if name not in ALLOWED_TAGS:
                raise ValidationFailed(f"{{% {name} %}} is not allowed in a canned reply; "
                                       f"use {{{{ variables }}}} and {{% if %}}")
        if token.token_type in (TokenType.BLOCK, TokenType.VAR):
            for name in _FILTER_RE.findall(token.contents):
                if name not in ALLOWED_FILTERS:
                    raise ValidationFailed(f"the filter |{name} is not allowed in a canned reply")
    try:
        _ENGINE.from_string(body)
    except TemplateSyntaxError as exc:
        raise ValidationFailed(f"the canned reply is not a valid template: {exc}") from None


def canned_context(*, customer: Any, agent: Any, workspace: Any) -> dict[str, Any]:
    return {
        "customer": {"first_name": customer.first_name, "last_name": customer.last_name,
                     "display_name": customer.display_name, "name": customer.name if customer.pk else ""},
        "agent": {"name": getattr(agent, "name", "") or "", "first_name": getattr(agent, "first_name", "") or ""},
        "workspace": {"name": getattr(workspace, "name", "") or ""},
    }


def canned_render(body: str, context: dict[str, Any]) -> str:
    canned_validate(body)
    return _ENGINE.from_string(body).render(Context(context, autoescape=False)).strip()


@transaction.atomic
def canned_reply_create(*, workspace: Any, shortcut: str, body: str, title: str = "", actor: Any = None,
                        via: str = "system") -> CannedReply:
    shortcut = shortcut.strip().lstrip("/")
    if not shortcut:
        raise ValidationFailed("a canned reply needs a shortcut")
    canned_validate(body)
    ws_id = getattr(workspace, "pk", workspace)
    if CannedReply.objects.filter(workspace_id=ws_id, shortcut=shortcut).exists():
        raise Conflict(f"the shortcut /{shortcut} is taken")
    reply = CannedReply.objects.create(workspace_id=ws_id, shortcut=shortcut, title=title.strip(), body=body)
    audit_record(workspace=ws_id, action="canned_reply.created", actor=actor, via=via, target=reply,
                 summary=f"/{shortcut}")
    return reply


@transaction.atomic
def canned_reply_delete(*, reply: CannedReply, actor: Any = None, via: str = "system") -> None:
    audit_record(workspace=reply.workspace_id, action="canned_reply.deleted", actor=actor, via=via, target=reply,
                 summary=f"/{reply.shortcut}")
    reply.delete()


# --- replies ------------------------------------------------------------------------------


def _reporting_on_reply(conversation: Conversation, *, agent: Any, now) -> None:
    """An agent answered: measure the wait (wall clock, business hours, against the SLA) and move the clock."""
    ctx = sla_context(conversation.workspace_id)
    if conversation.waiting_since is not None:
        kind = (ReportingEvent.Kind.FIRST_RESPONSE if conversation.first_response_at is None
                else ReportingEvent.Kind.RESPONSE)
        ReportingEvent.objects.create(
            workspace_id=conversation.workspace_id, conversation=conversation, kind=kind,
            started_at=conversation.waiting_since, occurred_at=now,
            value_seconds=max((now - conversation.waiting_since).total_seconds(), 0.0),
            agent=_user_or_none(agent), team_id=conversation.team_id,
            channel_account_id=conversation.channel_account_id,
            **sla_measure(conversation, kind=kind, started_at=conversation.waiting_since, occurred_at=now, ctx=ctx),
        )
        if conversation.first_response_at is None:
            conversation.first_response_at = now
        conversation.waiting_since = None
    sla_refresh(conversation, ctx)


@transaction.atomic
def conversation_reply(*, conversation: Conversation, actor: Any, text: str = "",
                       canned_reply: CannedReply | None = None, idempotency_key: str | None = None,
                       override_guard: bool = False, override_reason: str = "",
                       via: str = "system") -> Message:
    """An agent's answer: stored now, sent through the channel after commit, exactly once.

    With an idempotency key, asking again returns the first message instead of
    sending a second one. A fresh LINE reply token of the conversation is used
    (claimed, so two replies never both try it); otherwise the adapter pushes.
    The brand-voice guard checks the final text first: a flagged reply is not
    stored or sent (GuardBlocked, 422) unless a manager overrides it with a
    reason (`override_guard`, audited as guard.overridden).
    """
    conversation = _lock(conversation)
    key = f"inbox:{conversation.workspace_id}:{idempotency_key}" if idempotency_key else None
    if key:
        existing = Message.objects.filter(outbound__idempotency_key=key).select_related("outbound").first()
        if existing is not None:
            if existing.conversation_id != conversation.pk:
                raise Conflict("this idempotency key was used for another conversation")
            return existing
    if canned_reply is not None:
        if canned_reply.workspace_id != conversation.workspace_id:
            raise ValidationFailed("unknown canned reply")
        text = canned_render(canned_reply.body, canned_context(customer=conversation.customer, agent=actor,
                                                               workspace=conversation.channel_account.workspace))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("a reply needs text")
    if len(text) > MAX_REPLY:
        raise ValidationFailed(f"a reply is at most {MAX_REPLY} characters")
    verdict = guard_enforce(text=text, workspace=conversation.workspace_id, actor=actor,
                            override=override_guard, override_reason=override_reason)
    now = timezone.now()

    reply_token = ""
    fresh = (Message.objects.filter(conversation=conversation, direction=Message.Direction.IN,
                                    reply_token_expires_at__gt=now).exclude(reply_token="")
             .order_by("-created_at", "-id").values_list("pk", "reply_token").first())
    if fresh and Message.objects.filter(pk=fresh[0], reply_token=fresh[1]).update(reply_token=""):
        reply_token = fresh[1]
    # What the reply answers: a Facebook comment to reply under; an e-mail's Message-ID, References
    # and Subject (the adapter's "reply_context"), so the reply threads in the customer's mail client.
    reply_to, answered_meta = (Message.objects.filter(conversation=conversation, direction=Message.Direction.IN)
                               .exclude(reply_to="").order_by("-created_at", "-id")
                               .values_list("reply_to", "meta").first()) or ("", {})
    payload: dict[str, Any] = {"text": text, "comment_id": reply_to}
    if isinstance(answered_meta, dict) and isinstance(answered_meta.get("reply_context"), dict):
        payload["context"] = answered_meta["reply_context"]

    outbound, _ = outbound_enqueue(account=conversation.channel_account, to=conversation.contact_id,
                                   payload=payload, idempotency_key=key, reply_token=reply_token)
    message = Message.objects.create(
        workspace_id=conversation.workspace_id, conversation=conversation,
        channel_account_id=conversation.channel_account_id, direction=Message.Direction.OUT, kind="text",
        text=text, author=_user_or_none(actor), outbound=outbound, created_at=now,
        meta={**({"canned_reply": canned_reply.shortcut} if canned_reply else {}), **guard_meta(verdict)},
    )
    guard_override_audit(verdict=verdict, workspace=conversation.workspace_id, actor=actor, target=message, via=via)
    conversation.message_count += 1
    conversation.last_message_at = max(conversation.last_message_at, now)
    conversation.last_message_preview = preview_of("text", text)
    conversation.last_message_direction = Message.Direction.OUT
    _reporting_on_reply(conversation, agent=actor, now=now)
    fields = ["message_count", "last_message_at", "last_message_preview", "last_message_direction",
              "first_response_at", "waiting_since", "updated_at", *CLOCK_FIELDS]
    conversation.save(update_fields=fields)
    if conversation.assignee_id is None and _user_or_none(actor) is not None:
        # Whoever answers an unassigned conversation takes it.
        _assign(conversation, assignee=actor, team=conversation.team, actor=actor, via=via, reason="replied")
    return message


# --- notes and mentions ----------------------------------------------------------------------

_MENTION_RE = re.compile(r"(?<![\w@])@([\w.+-]+(?:@[\w-]+(?:\.[\w-]+)+)?)", re.UNICODE)


def _members(workspace_id: int) -> dict[int, User]:
    return {m.user_id: m.user for m in Membership.objects.filter(workspace_id=workspace_id).select_related("user")}


def mentioned_users(*, workspace_id: int, text: str, user_ids: list[int] | None = None) -> list[User]:
    """Members named in the text as @local-part or @full-email, plus those given by id."""
    members = _members(workspace_id)
    by_handle: dict[str, int] = {}
    for user in members.values():
        email = user.email.lower()
        by_handle.setdefault(email, user.pk)
        by_handle.setdefault(email.split("@")[0], user.pk)
    chosen: dict[int, User] = {}
    for handle in _MENTION_RE.findall(text or ""):
        user_id = by_handle.get(handle.lower().rstrip("."))
        if user_id:
            chosen[user_id] = members[user_id]
    for user_id in user_ids or []:
        if user_id not in members:
            raise ValidationFailed(f"user #{user_id} is not a member of this workspace")
        chosen[user_id] = members[user_id]
    return list(chosen.values())


@transaction.atomic
def note_add(*, conversation: Conversation, actor: Any, text: str, mention_ids: list[int] | None = None,
             via: str = "system") -> Note:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("a note needs text")
    mentioned = mentioned_users(workspace_id=conversation.workspace_id, text=text, user_ids=mention_ids)
    note = Note.objects.create(workspace_id=conversation.workspace_id, conversation=conversation,
                               author=_user_or_none(actor), text=text)
    NoteMention.objects.bulk_create([NoteMention(workspace_id=conversation.workspace_id, note=note, user=u)
                                     for u in mentioned])
    return note


def note_mentions_seen(*, conversation: Conversation, user: Any) -> int:
    """The user opened the conversation: their @mentions in its notes are no longer new."""
    if _user_or_none(user) is None:
        return 0
    return NoteMention.objects.filter(workspace_id=conversation.workspace_id, user_id=user.pk,
                                      note__conversation_id=conversation.pk, seen_at__isnull=True
                                      ).update(seen_at=timezone.now())


# --- labels -------------------------------------------------------------------------------------


@transaction.atomic
def label_get_or_create(*, workspace: Any, name: str, color: str = "") -> Label:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise ValidationFailed("a label needs 1–64 characters")
    label, _ = Label.objects.get_or_create(workspace_id=getattr(workspace, "pk", workspace), name=name,
                                           defaults={"color": color})
    return label


@transaction.atomic
def conversation_label_add(*, conversation: Conversation, name: str, actor: Any = None,
                           via: str = "system") -> Label:
    label = label_get_or_create(workspace=conversation.workspace_id, name=name)
    ConversationLabel.objects.get_or_create(workspace_id=conversation.workspace_id, conversation=conversation,
                                            label=label)
    return label


@transaction.atomic
def conversation_label_remove(*, conversation: Conversation, name: str, actor: Any = None,
                              via: str = "system") -> None:
    ConversationLabel.objects.filter(conversation=conversation, label__name=name.strip()).delete()


# --- assignment ---------------------------------------------------------------------------------


def _assign(conversation: Conversation, *, assignee: Any, team: Team | None, actor: Any, via: str,
            reason: str = "", refresh_sla: bool = True) -> Conversation:
    before = {"assignee": conversation.assignee_id, "team": conversation.team_id}
    after = {"assignee": getattr(assignee, "pk", None), "team": getattr(team, "pk", None)}
    if before == after:
        return conversation
    conversation.assignee_id, conversation.team_id = after["assignee"], after["team"]
    fields = ["assignee", "team", "updated_at"]
    if refresh_sla and before["team"] != after["team"]:
        # A policy may be per team.
        sla_refresh(conversation, sla_context(conversation.workspace_id))
        fields += CLOCK_FIELDS
    conversation.save(update_fields=fields)
    changes: dict[str, Any] = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if reason:
        changes["reason"] = reason
    summary = (f"assigned to {assignee.email}" if assignee is not None else "unassigned") + (
        f" · team {team.name}" if team is not None else "")
    audit_record(workspace=conversation.workspace_id, action="conversation.assigned", actor=actor, via=via,
                 target=conversation, summary=summary, changes=changes)
    return conversation


def _check_assignee(workspace_id: int, user_id: int) -> User:
    membership = Membership.objects.filter(workspace_id=workspace_id, user_id=user_id).select_related("user").first()
    if membership is None:
        raise ValidationFailed(f"user #{user_id} is not a member of this workspace")
    return membership.user


@transaction.atomic
def conversation_assign(*, conversation: Conversation, actor: Any, assignee_id: int | None = None,
                        team_id: int | None = None, auto: bool = False, via: str = "system") -> Conversation:
    """Manual assignment (to a person and/or a team), or `auto`: round-robin within the team."""
    conversation = _lock(conversation)
    team = conversation.team
    if team_id is not None:
        team = Team.objects.filter(workspace_id=conversation.workspace_id, pk=team_id).first()
        if team is None:
            raise ValidationFailed(f"unknown team #{team_id}")
    if auto:
        if team is None:
            raise ValidationFailed("automatic assignment needs a team")
        assignee = round_robin_pick(team=team)
        if assignee is None:
            raise Conflict(f"nobody in {team.name} is available with room for another conversation")
        return _assign(conversation, assignee=assignee, team=team, actor=actor, via=via, reason="round-robin")
    assignee = _check_assignee(conversation.workspace_id, assignee_id) if assignee_id else conversation.assignee
    return _assign(conversation, assignee=assignee, team=team, actor=actor, via=via, reason="manual")


@transaction.atomic
def conversation_unassign(*, conversation: Conversation, actor: Any, via: str = "system",
                          keep_team: bool = True) -> Conversation:
    conversation = _lock(conversation)
    return _assign(conversation, assignee=None, team=conversation.team if keep_team else None, actor=actor,
                   via=via, reason="manual")


def conversation_route_to_team(*, conversation: Conversation, team: Team, rule: AssignmentRule) -> None:
    """A routing rule matched a new conversation: give it to the team, and to a member when the team auto-assigns."""
    assignee = round_robin_pick(team=team) if team.auto_assign else None
    # The ingest batch computes the SLA clock of its conversations once routing is done.
    _assign(conversation, assignee=assignee, team=team, actor=None, via="worker",
            reason=f"rule #{rule.pk}{' ' + rule.name if rule.name else ''}", refresh_sla=False)


# --- status -------------------------------------------------------------------------------------


@transaction.atomic
def conversation_set_status(*, conversation: Conversation, status: str, actor: Any = None,
                            via: str = "system") -> Conversation:
    if status not in Status.values:
        raise ValidationFailed(f"unknown status {status!r}; one of {', '.join(Status.values)}")
    conversation = _lock(conversation)
    before = conversation.status
    if before == status:
        return conversation
    now = timezone.now()
    if status in (Status.OPEN, Status.PENDING) and before == Status.RESOLVED:
        clash = (Conversation.objects.filter(channel_account_id=conversation.channel_account_id,
                                             thread_key=conversation.thread_key, status__in=[Status.OPEN, Status.PENDING])
                 .exclude(pk=conversation.pk).values_list("pk", flat=True).first())
        if clash:
            raise Conflict(f"conversation #{clash} is already active for this customer on this channel")
        conversation.reopened_at = now
        conversation.resolved_at = None
    conversation.status = status
    ctx = sla_context(conversation.workspace_id)
    if status == Status.RESOLVED:
        conversation.resolved_at = now
        # The resolution is measured over the current cycle: from the reopening, if any, else the start.
        started = conversation.reopened_at or conversation.created_at
        ReportingEvent.objects.create(
            workspace_id=conversation.workspace_id, conversation=conversation, kind=ReportingEvent.Kind.RESOLUTION,
            started_at=started, occurred_at=now, value_seconds=max((now - started).total_seconds(), 0.0),
            agent_id=conversation.assignee_id, team_id=conversation.team_id,
            channel_account_id=conversation.channel_account_id,
            **sla_measure(conversation, kind=ReportingEvent.Kind.RESOLUTION, started_at=started, occurred_at=now,
                          ctx=ctx),
        )
        conversation.waiting_since = None  # timers stop when a conversation is resolved
    sla_refresh(conversation, ctx)
    conversation.save(update_fields=["status", "resolved_at", "reopened_at", "waiting_since", "updated_at",
                                     *CLOCK_FIELDS])
    audit_record(workspace=conversation.workspace_id, action="conversation.status", actor=actor, via=via,
                 target=conversation, summary=f"{before} → {status}", changes={"status": [before, status]})
    return conversation


@transaction.atomic
def conversation_set_priority(*, conversation: Conversation, priority: str, actor: Any = None,
                              via: str = "system") -> Conversation:
    """Change the priority; the SLA policy (which may be per priority) and its due times follow."""
    if priority not in Priority.values:
        raise ValidationFailed(f"unknown priority {priority!r}; one of {', '.join(Priority.values)}")
    conversation = _lock(conversation)
    before = conversation.priority
    if before == priority:
        return conversation
    conversation.priority = priority
    sla_refresh(conversation, sla_context(conversation.workspace_id))
    conversation.save(update_fields=["priority", "updated_at", *CLOCK_FIELDS])
    audit_record(workspace=conversation.workspace_id, action="conversation.priority", actor=actor, via=via,
                 target=conversation, summary=f"{before} → {priority}", changes={"priority": [before, priority]})
    return conversation


# --- teams, agents, rules ----------------------------------------------------------------------


@transaction.atomic
def team_create(*, workspace: Any, name: str, auto_assign: bool = True, actor: Any = None,
                via: str = "system") -> Team:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a team needs a name")
    ws_id = getattr(workspace, "pk", workspace)
    if Team.objects.filter(workspace_id=ws_id, name=name).exists():
        raise Conflict(f"there is already a team called {name}")
    team = Team.objects.create(workspace_id=ws_id, name=name, auto_assign=auto_assign)
    audit_record(workspace=ws_id, action="team.created", actor=actor, via=via, target=team, summary=name)
    return team


@transaction.atomic
def team_update(*, team: Team, name: str | None = None, auto_assign: bool | None = None, actor: Any = None,
                via: str = "system") -> Team:
    team = Team.objects.select_for_update().get(pk=team.pk)
    changes: dict[str, Any] = {}
    if name is not None:
        name = name.strip()
        if not name:
            raise ValidationFailed("a team needs a name")
        if name != team.name:
            if Team.objects.filter(workspace_id=team.workspace_id, name=name).exclude(pk=team.pk).exists():
                raise Conflict(f"there is already a team called {name}")
            changes["name"], team.name = [team.name, name], name
    if auto_assign is not None and auto_assign != team.auto_assign:
        changes["auto_assign"], team.auto_assign = [team.auto_assign, auto_assign], auto_assign
    if changes:
        team.save()
        audit_record(workspace=team.workspace_id, action="team.updated", actor=actor, via=via, target=team,
                     summary=team.name, changes=changes)
    return team


@transaction.atomic
def team_delete(*, team: Team, actor: Any = None, via: str = "system") -> None:
    """Delete a team: its rules go with it; its conversations keep their assignee and lose the team."""
    audit_record(workspace=team.workspace_id, action="team.deleted", actor=actor, via=via, target=team,
                 summary=team.name, changes={"rules": team.rules.count(), "members": team.members.count()})
    team.delete()


@transaction.atomic
def team_member_add(*, team: Team, user_id: int, actor: Any = None, via: str = "system") -> TeamMember:
    user = _check_assignee(team.workspace_id, user_id)
    member, created = TeamMember.objects.get_or_create(workspace_id=team.workspace_id, team=team, user=user)
    agent_for(workspace_id=team.workspace_id, user_id=user.pk)
    if created:
        audit_record(workspace=team.workspace_id, action="team.member_added", actor=actor, via=via, target=team,
                     summary=f"{user.email} → {team.name}")
    return member


@transaction.atomic
def team_member_remove(*, team: Team, user_id: int, actor: Any = None, via: str = "system") -> None:
    deleted, _ = TeamMember.objects.filter(team=team, user_id=user_id).delete()
    if deleted:
        audit_record(workspace=team.workspace_id, action="team.member_removed", actor=actor, via=via, target=team,
                     summary=f"user #{user_id} left {team.name}")


@transaction.atomic
def agent_update(*, workspace: Any, user_id: int, capacity: int | None = None, available: bool | None = None,
                 actor: Any = None, via: str = "system"):
    ws_id = getattr(workspace, "pk", workspace)
    _check_assignee(ws_id, user_id)
    agent = agent_for(workspace_id=ws_id, user_id=user_id)
    changes = {}
    if capacity is not None:
        if capacity < 0 or capacity > 1000:
            raise ValidationFailed("capacity is 0–1000 conversations")
        changes["capacity"] = [agent.capacity, capacity]
        agent.capacity = capacity
    if available is not None:
        changes["available"] = [agent.available, available]
        agent.available = available
    agent.save()
    audit_record(workspace=ws_id, action="agent.updated", actor=actor, via=via, target=agent,
                 summary=f"user #{user_id}", changes=changes)
    return agent


@transaction.atomic
def assignment_rule_create(*, workspace: Any, team_id: int, name: str = "", channel_account_id: int | None = None,
                           provider: str = "", keyword: str = "", language: str = "", position: int = 0,
                           actor: Any = None, via: str = "system") -> AssignmentRule:
    from samphan.channels.models import ChannelAccount

    ws_id = getattr(workspace, "pk", workspace)
    team = Team.objects.filter(workspace_id=ws_id, pk=team_id).first()
    if team is None:
        raise ValidationFailed(f"unknown team #{team_id}")
    if channel_account_id and not ChannelAccount.objects.filter(workspace_id=ws_id, pk=channel_account_id).exists():
        raise ValidationFailed(f"unknown channel account #{channel_account_id}")
    if language and language not in ("th", "en"):
        raise ValidationFailed("language is th or en")
    rule = AssignmentRule.objects.create(
        workspace_id=ws_id, team=team, name=name.strip()[:100], channel_account_id=channel_account_id or None,
        provider=provider.strip(), keyword=keyword.strip()[:100], language=language, position=position)
    audit_record(workspace=ws_id, action="assignment_rule.created", actor=actor, via=via, target=rule,
                 summary=f"→ {team.name}",
                 changes={"channel_account": channel_account_id, "provider": provider, "keyword": keyword,
                          "language": language})
    return rule


@transaction.atomic
def assignment_rule_set_active(*, rule: AssignmentRule, is_active: bool, actor: Any = None,
                               via: str = "system") -> AssignmentRule:
    if rule.is_active != is_active:
        AssignmentRule.objects.filter(pk=rule.pk).update(is_active=is_active)
        rule.is_active = is_active
        audit_record(workspace=rule.workspace_id, action="assignment_rule.updated", actor=actor, via=via,
                     target=rule, summary=f"→ {rule.team.name}", changes={"is_active": [not is_active, is_active]})
    return rule


@transaction.atomic
def assignment_rule_delete(*, rule: AssignmentRule, actor: Any = None, via: str = "system") -> None:
    audit_record(workspace=rule.workspace_id, action="assignment_rule.deleted", actor=actor, via=via, target=rule)
    rule.delete()


# --- sentiment corrections -------------------------------------------------------------------------

SENTIMENT_LABELS = ("positive", "neutral", "negative", "question")


@transaction.atomic
def message_sentiment_correct(*, message: Message, label: str, actor: Any = None, via: str = "system") -> Message:
    """An agent's label for an inbound message. The message shows it from now on, and the
    correction (who, when, old and new label, the text) is kept as training data for the
    workspace's own model (``samphan sentiment train --workspace W --with-corrections``)."""
    label = (label or "").strip().lower()
    if label not in SENTIMENT_LABELS:
        raise ValidationFailed(f"label must be one of {', '.join(SENTIMENT_LABELS)}",
                               details=[{"field": "label", "reason": f"unknown label {label!r}"}])
    message = Message.objects.select_for_update().get(pk=message.pk, workspace_id=message.workspace_id)
    if message.direction != Message.Direction.IN:
        raise ValidationFailed("only a customer's message has a sentiment label")
    if not message.text.strip():
        raise ValidationFailed("this message has no text to label")
    old = message.sentiment
    if old == label and message.sentiment_corrected:
        return message
    SentimentCorrection.objects.create(workspace_id=message.workspace_id, message=message, text=message.text,
                                       old_label=old, new_label=label, corrected_by=_user_or_none(actor))
    message.sentiment, message.sentiment_corrected = label, True
    message.save(update_fields=["sentiment", "sentiment_corrected"])
    audit_record(workspace=message.workspace_id, action="inbox.sentiment_corrected", actor=actor, via=via,
                 target=message, summary=f"{old or '—'} → {label}", changes={"sentiment": [old, label]})
    return message
