"""Inbox API: conversations (list, detail), replies, notes, labels, assignment, status,
canned replies, teams, agents, routing rules and reporting events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Query, Router, Schema

from samphan.core.api import caller
from samphan.core.scoping import get_scoped_or_404
from samphan.inbox import services
from samphan.inbox.models import AssignmentRule, CannedReply, Label, Message, Team
from samphan.inbox.selectors import (
    ConversationFilters,
    canned_replies,
    conversation_detail,
    conversation_get,
    conversation_list,
    delivery_of,
    reporting_events,
)
from samphan.sla.selectors import sla_state

router = Router(tags=["inbox"])


# --- schemas ------------------------------------------------------------------------------

class Ref(Schema):
    id: int
    name: str


class ChannelRef(Schema):
    id: int
    name: str
    provider: str


class SlaStateOut(Schema):
    state: str  # breached, due_soon, on_track, missed
    target: str | None  # the running target due soonest: first_response, next_response, resolution
    due_at: datetime | None
    seconds_left: int | None  # negative when overdue
    breaches: list[str]  # targets missed in the current cycle
    first_response_due_at: datetime | None
    next_response_due_at: datetime | None
    resolution_due_at: datetime | None


class ConversationRow(Schema):
    id: int
    status: str
    priority: str
    sla: SlaStateOut | None
    customer: Ref
    channel: ChannelRef
    assignee: Ref | None
    team: Ref | None
    labels: list[str]
    message_count: int
    last_message_at: datetime
    last_message_preview: str
    last_message_direction: str
    waiting_since: datetime | None
    created_at: datetime
    resolved_at: datetime | None


class ConversationPage(Schema):
    items: list[ConversationRow]
    next_cursor: str | None


class ListParams(Schema):
    status: str = ""
    channel: int | None = None
    provider: str = ""
    assignee: str = ""
    team: str = ""
    label: str = ""
    customer: int | None = None
    sla: str = ""
    priority: str = ""
    sort: str = "recent"
    cursor: str = ""
    limit: int = 25


class Delivery(Schema):
    status: str
    attempts: int
    error: str
    method: str
    provider_message_id: str
    sent_at: datetime | None
    report: str = ""  # the provider's delivery report, where it sends one (SMS): delivered / failed
    report_at: datetime | None = None


class Sentiment(Schema):
    label: str
    scores: dict[str, float] | None
    corrected: bool


class MessageOut(Schema):
    id: int
    direction: str
    kind: str
    text: str
    attachments: list
    meta: dict
    author: Ref | None
    created_at: datetime
    delivery: Delivery | None
    sentiment: Sentiment | None  # inbound text only


class SentimentIn(Schema):
    label: str  # positive, neutral, negative or question


class NoteOut(Schema):
    id: int
    text: str
    author: Ref | None
    mentions: list[Ref]
    created_at: datetime


class ConversationOut(ConversationRow):
    thread_key: str
    first_response_at: datetime | None
    messages: list[MessageOut]
    notes: list[NoteOut]


class ReplyIn(Schema):
    text: str = ""
    canned_reply_id: int | None = None
    idempotency_key: str | None = None
    # Send although the brand-voice guard flagged the text: managers only, with a reason (audited).
    override_guard: bool = False
    override_reason: str = ""


class NoteIn(Schema):
    text: str
    mentions: list[int] = []


class LabelIn(Schema):
    name: str


class AssignIn(Schema):
    assignee_id: int | None = None
    team_id: int | None = None
    auto: bool = False


class StatusIn(Schema):
    status: str


class PriorityIn(Schema):
    priority: str


class CannedIn(Schema):
    shortcut: str
    body: str
    title: str = ""


class CannedOut(Schema):
    id: int
    shortcut: str
    title: str
    body: str


class CannedPreviewIn(Schema):
    conversation_id: int


class TeamIn(Schema):
    name: str
    auto_assign: bool = True


class TeamOut(Schema):
    id: int
    name: str
    auto_assign: bool
    members: list[Ref]


class MemberIn(Schema):
    user_id: int


class AgentIn(Schema):
    capacity: int | None = None
    available: bool | None = None


class AgentOut(Schema):
    user_id: int
    capacity: int
    available: bool
    last_assigned_at: datetime | None


class RuleIn(Schema):
    team_id: int
    name: str = ""
    channel_account_id: int | None = None
    provider: str = ""
    keyword: str = ""
    language: str = ""
    position: int = 0


class RuleOut(Schema):
    id: int
    position: int
    name: str
    team_id: int
    channel_account_id: int | None
    provider: str
    keyword: str
    language: str
    is_active: bool


class ReportingEventOut(Schema):
    id: int
    conversation_id: int
    kind: str
    started_at: datetime
    occurred_at: datetime
    value_seconds: float
    business_seconds: float | None
    due_at: datetime | None
    sla_met: bool | None
    agent_id: int | None
    team_id: int | None
    channel_account_id: int | None


# --- helpers --------------------------------------------------------------------------------

def _user_ref(user: Any) -> dict[str, Any] | None:
    return {"id": user.pk, "name": user.display_name or user.email} if user is not None else None


def _message_out(m: Any) -> dict[str, Any]:
    return {"id": m.pk, "direction": m.direction, "kind": m.kind, "text": m.text, "attachments": m.attachments,
            "meta": m.meta, "author": _user_ref(m.author), "created_at": m.created_at, "delivery": delivery_of(m),
            "sentiment": ({"label": m.sentiment, "scores": m.sentiment_scores, "corrected": m.sentiment_corrected}
                          if m.sentiment else None)}


def _detail_out(data: dict[str, Any]) -> dict[str, Any]:
    c = data["conversation"]
    return {
        "id": c.pk, "status": c.status, "thread_key": c.thread_key, "priority": c.priority, "sla": sla_state(c),
        "customer": {"id": c.customer_id, "name": c.customer.name},
        "channel": {"id": c.channel_account_id, "name": c.channel_account.name,
                    "provider": c.channel_account.provider},
        "assignee": _user_ref(c.assignee), "team": {"id": c.team.pk, "name": c.team.name} if c.team else None,
        "labels": data["labels"], "message_count": c.message_count, "last_message_at": c.last_message_at,
        "last_message_preview": c.last_message_preview, "last_message_direction": c.last_message_direction,
        "waiting_since": c.waiting_since, "created_at": c.created_at, "resolved_at": c.resolved_at,
        "first_response_at": c.first_response_at,
        "messages": [_message_out(m) for m in data["messages"]],
        "notes": [{"id": n.pk, "text": n.text, "author": _user_ref(n.author),
                   "mentions": [_user_ref(u) for u in n.mentions.all()], "created_at": n.created_at}
                  for n in data["notes"]],
    }


def _team_out(team: Team) -> dict[str, Any]:
    return {"id": team.pk, "name": team.name, "auto_assign": team.auto_assign,
            "members": [_user_ref(m.user) for m in team.members.select_related("user").order_by("user__email")]}


# --- conversations ----------------------------------------------------------------------------

@router.get("/conversations", response=ConversationPage,
            summary="Conversations, newest activity first (sort=due: SLA due soonest first); filter by channel, "
                    "status, assignee, team, label, priority, sla (breached, due_soon, running)")
def conversations(request, params: Query[ListParams]):
    c = caller(request)
    workspace = c.require("inbox.reply")
    filters = ConversationFilters(status=params.status, channel_account_id=params.channel, provider=params.provider,
                                  assignee=params.assignee, team=params.team, label=params.label,
                                  customer_id=params.customer, sla=params.sla, priority=params.priority)
    return conversation_list(workspace=workspace, filters=filters, cursor=params.cursor, limit=params.limit,
                             user_id=c.user.pk, sort=params.sort)


@router.get("/conversations/{int:conversation_id}", response=ConversationOut,
            summary="A conversation with its messages (and their delivery status), notes and labels")
def conversation(request, conversation_id: int, messages: int = 100):
    workspace = caller(request).require("inbox.reply")
    return _detail_out(conversation_detail(workspace=workspace, conversation_id=conversation_id, messages=messages))


@router.post("/conversations/{int:conversation_id}/reply", response={202: MessageOut},
             summary="Answer the customer: sent through the channel after commit, exactly once. "
                     "A reply the brand-voice guard flags is refused with 422 (code guard_blocked, details: "
                     "findings and suggestion); override_guard=true sends it anyway (managers only, else 403)")
def reply(request, conversation_id: int, payload: ReplyIn):
    c = caller(request)
    workspace = c.require("guard.override" if payload.override_guard else "inbox.reply")
    conv = conversation_get(workspace=workspace, conversation_id=conversation_id)
    canned = get_scoped_or_404(CannedReply, workspace, pk=payload.canned_reply_id) if payload.canned_reply_id else None
    key = payload.idempotency_key or request.headers.get("Idempotency-Key") or None
    message = services.conversation_reply(conversation=conv, actor=c.user, text=payload.text, canned_reply=canned,
                                          idempotency_key=key, override_guard=payload.override_guard,
                                          override_reason=payload.override_reason, via=c.via)
    return 202, _message_out(message)


@router.post("/messages/{int:message_id}/sentiment", response=MessageOut,
             summary="Correct an inbound message's sentiment label (kept as training data for the workspace's model)")
def message_sentiment(request, message_id: int, payload: SentimentIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    message = get_scoped_or_404(Message.objects.select_related("author", "outbound"), workspace, pk=message_id)
    return _message_out(services.message_sentiment_correct(message=message, label=payload.label, actor=c.user,
                                                           via=c.via))


@router.post("/conversations/{int:conversation_id}/notes", response={201: NoteOut},
             summary="An internal note; @mention colleagues by e-mail (or its local part) or by id")
def note(request, conversation_id: int, payload: NoteIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    conv = conversation_get(workspace=workspace, conversation_id=conversation_id)
    n = services.note_add(conversation=conv, actor=c.user, text=payload.text, mention_ids=payload.mentions,
                          via=c.via)
    return 201, {"id": n.pk, "text": n.text, "author": _user_ref(n.author),
                 "mentions": [_user_ref(u) for u in n.mentions.all()], "created_at": n.created_at}


@router.post("/conversations/{int:conversation_id}/labels", response={201: list[str]})
def label_add(request, conversation_id: int, payload: LabelIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    conv = conversation_get(workspace=workspace, conversation_id=conversation_id)
    services.conversation_label_add(conversation=conv, name=payload.name, actor=c.user, via=c.via)
    return 201, list(Label.objects.filter(conversationlabel__conversation=conv).order_by("name")
                     .values_list("name", flat=True))


@router.delete("/conversations/{int:conversation_id}/labels/{name}", response=list[str])
def label_remove(request, conversation_id: int, name: str):
    c = caller(request)
    workspace = c.require("inbox.reply")
    conv = conversation_get(workspace=workspace, conversation_id=conversation_id)
    services.conversation_label_remove(conversation=conv, name=name, actor=c.user, via=c.via)
    return list(Label.objects.filter(conversationlabel__conversation=conv).order_by("name")
                .values_list("name", flat=True))


@router.post("/conversations/{int:conversation_id}/assign", response=ConversationOut,
             summary="Assign to a person and/or team; auto=true picks round-robin within the team")
def assign(request, conversation_id: int, payload: AssignIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    conv = conversation_get(workspace=workspace, conversation_id=conversation_id)
    services.conversation_assign(conversation=conv, actor=c.user, assignee_id=payload.assignee_id,
                                 team_id=payload.team_id, auto=payload.auto, via=c.via)
    return _detail_out(conversation_detail(workspace=workspace, conversation_id=conversation_id, messages=20))


@router.post("/conversations/{int:conversation_id}/unassign", response=ConversationOut)
def unassign(request, conversation_id: int):
    c = caller(request)
    workspace = c.require("inbox.reply")
    conv = conversation_get(workspace=workspace, conversation_id=conversation_id)
    services.conversation_unassign(conversation=conv, actor=c.user, via=c.via)
    return _detail_out(conversation_detail(workspace=workspace, conversation_id=conversation_id, messages=20))


@router.post("/conversations/{int:conversation_id}/status", response=ConversationOut,
             summary="open, pending or resolved")
def status(request, conversation_id: int, payload: StatusIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    conv = conversation_get(workspace=workspace, conversation_id=conversation_id)
    services.conversation_set_status(conversation=conv, status=payload.status, actor=c.user, via=c.via)
    return _detail_out(conversation_detail(workspace=workspace, conversation_id=conversation_id, messages=20))


@router.post("/conversations/{int:conversation_id}/priority", response=ConversationOut,
             summary="low, normal, high or urgent; the SLA policy and due times follow")
def priority(request, conversation_id: int, payload: PriorityIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    conv = conversation_get(workspace=workspace, conversation_id=conversation_id)
    services.conversation_set_priority(conversation=conv, priority=payload.priority, actor=c.user, via=c.via)
    return _detail_out(conversation_detail(workspace=workspace, conversation_id=conversation_id, messages=20))


# --- canned replies -------------------------------------------------------------------------------

@router.get("/canned-replies", response=list[CannedOut])
def canned_list(request):
    workspace = caller(request).require("inbox.reply")
    return list(canned_replies(workspace=workspace))


@router.post("/canned-replies", response={201: CannedOut},
             summary="Save an answer; {{ customer.first_name }}, {{ agent.name }}, {{ workspace.name }} and {% if %}")
def canned_create(request, payload: CannedIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    return 201, services.canned_reply_create(workspace=workspace, shortcut=payload.shortcut, body=payload.body,
                                             title=payload.title, actor=c.user, via=c.via)


@router.post("/canned-replies/{int:reply_id}/preview", response=dict, summary="Render for one conversation")
def canned_preview(request, reply_id: int, payload: CannedPreviewIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    canned = get_scoped_or_404(CannedReply, workspace, pk=reply_id)
    conv = conversation_get(workspace=workspace, conversation_id=payload.conversation_id)
    text = services.canned_render(canned.body, services.canned_context(customer=conv.customer, agent=c.user,
                                                                       workspace=workspace))
    return {"text": text}


@router.delete("/canned-replies/{int:reply_id}", response={204: None})
def canned_delete(request, reply_id: int):
    c = caller(request)
    workspace = c.require("workspace.manage")
    services.canned_reply_delete(reply=get_scoped_or_404(CannedReply, workspace, pk=reply_id), actor=c.user,
                                 via=c.via)
    return 204, None


# --- teams, agents, rules ---------------------------------------------------------------------------

@router.get("/teams", response=list[TeamOut])
def teams(request):
    workspace = caller(request).require("inbox.reply")
    return [_team_out(t) for t in Team.objects.for_workspace(workspace).order_by("name")]


@router.post("/teams", response={201: TeamOut})
def team_create(request, payload: TeamIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    team = services.team_create(workspace=workspace, name=payload.name, auto_assign=payload.auto_assign,
                                actor=c.user, via=c.via)
    return 201, _team_out(team)


@router.post("/teams/{int:team_id}/members", response={201: TeamOut})
def team_member_add(request, team_id: int, payload: MemberIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    team = get_scoped_or_404(Team, workspace, pk=team_id)
    services.team_member_add(team=team, user_id=payload.user_id, actor=c.user, via=c.via)
    return 201, _team_out(team)


@router.delete("/teams/{int:team_id}/members/{int:user_id}", response=TeamOut)
def team_member_remove(request, team_id: int, user_id: int):
    c = caller(request)
    workspace = c.require("workspace.manage")
    team = get_scoped_or_404(Team, workspace, pk=team_id)
    services.team_member_remove(team=team, user_id=user_id, actor=c.user, via=c.via)
    return _team_out(team)


@router.put("/agents/{int:user_id}", response=AgentOut, summary="An agent's capacity and availability")
def agent_update(request, user_id: int, payload: AgentIn):
    c = caller(request)
    # Agents may mark themselves away; capacity is a manager's call.
    workspace = c.require("inbox.reply" if user_id == c.user.pk and payload.capacity is None else "workspace.manage")
    return services.agent_update(workspace=workspace, user_id=user_id, capacity=payload.capacity,
                                 available=payload.available, actor=c.user, via=c.via)


@router.get("/rules", response=list[RuleOut])
def rules(request):
    workspace = caller(request).require("inbox.reply")
    return list(AssignmentRule.objects.for_workspace(workspace).order_by("position", "id"))


@router.post("/rules", response={201: RuleOut}, summary="Route new conversations by channel, keyword or language")
def rule_create(request, payload: RuleIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    return 201, services.assignment_rule_create(workspace=workspace, actor=c.user, via=c.via, **payload.dict())


@router.delete("/rules/{int:rule_id}", response={204: None})
def rule_delete(request, rule_id: int):
    c = caller(request)
    workspace = c.require("workspace.manage")
    services.assignment_rule_delete(rule=get_scoped_or_404(AssignmentRule, workspace, pk=rule_id), actor=c.user,
                                    via=c.via)
    return 204, None


@router.get("/reporting-events", response=list[ReportingEventOut],
            summary="First-response, response and resolution events as they happened (wall-clock and business "
                    "seconds, SLA due time and outcome)")
def reporting(request, kind: str = "", since: datetime | None = None, until: datetime | None = None,
              limit: int = 1000):
    workspace = caller(request).require("analytics.view")
    return list(reporting_events(workspace=workspace, kind=kind, since=since, until=until, limit=limit))
