"""The inbox UI: the conversation list, one conversation with the customer 360 beside it, the
reply box (brand-voice guard live), notes with @mentions, labels, assignment, status, sentiment
corrections, canned replies and the cheap "changed since" poll that keeps it all live.

Views parse input and pick a template; reads go through samphan.inbox.selectors (and
customers.selectors.customer_360), writes through samphan.inbox.services.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.db.models import Max
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from samphan.accounts.models import Membership
from samphan.accounts.roles import role_can
from samphan.channels.models import ChannelAccount
from samphan.core.errors import NotFound, SamphanError, ValidationFailed
from samphan.core.scoping import get_scoped_or_404
from samphan.customers.selectors import customer_360
from samphan.guard.services import GuardBlocked, can_override
from samphan.inbox import services
from samphan.inbox.models import CannedReply, Conversation, Label, Message, Note, Team
from samphan.inbox.selectors import (
    ConversationFilters,
    canned_replies,
    conversation_detail,
    conversation_get,
    conversation_list,
    delivery_of,
    mentions_unseen,
)
from samphan.sla.selectors import sla_state
from samphan.web.views import workspace_view
from samphan.web.views_customers import _analytics_cards

PAGE_SIZE = 25
POLL_SECONDS = 5

STATUS_CHOICES = [
    ("active", gettext_lazy("Open and pending")),
    ("open", gettext_lazy("Open")),
    ("pending", gettext_lazy("Pending")),
    ("resolved", gettext_lazy("Resolved")),
    ("all", gettext_lazy("All")),
]
SLA_CHOICES = [("breached", gettext_lazy("Breached")), ("due_soon", gettext_lazy("Due within the hour")),
               ("running", gettext_lazy("Clock running"))]
SORT_CHOICES = [("recent", gettext_lazy("Newest activity")), ("due", gettext_lazy("SLA due soonest"))]
SENTIMENT_TITLES = {"positive": gettext_lazy("Positive"), "neutral": gettext_lazy("Neutral"),
                    "negative": gettext_lazy("Negative"), "question": gettext_lazy("Question")}
CANNED_VARIABLES = "{{ customer.first_name }}, {{ customer.name }}, {{ agent.name }}, {{ workspace.name }}"
FILTER_KEYS = ("status", "channel", "assignee", "team", "label", "sla", "sort")


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _can(request, capability: str) -> bool:
    return role_can(request.membership.role, capability)


# --- the list ------------------------------------------------------------------------------------

def _list_params(request) -> dict[str, str]:
    params = {key: request.GET.get(key, "").strip() for key in FILTER_KEYS}
    params["status"] = params["status"] or "active"
    params["sort"] = params["sort"] or "recent"
    return params


def _filters(params: dict[str, str]) -> ConversationFilters:
    assignee = {"mine": "me", "unassigned": "none"}.get(params["assignee"], params["assignee"])
    channel = params["channel"]
    if channel and not channel.isdigit():
        raise ValidationFailed("channel is a channel account id")
    return ConversationFilters(
        status="" if params["status"] == "all" else params["status"],
        channel_account_id=int(channel) if channel.isdigit() else None,
        assignee=assignee, team=params["team"], label=params["label"], sla=params["sla"])


def _filter_choices(workspace: Any) -> dict[str, Any]:
    return {
        "channels": list(ChannelAccount.objects.for_workspace(workspace).order_by("name").values("id", "name",
                                                                                               "provider")),
        "members": _members(workspace),
        "teams": list(Team.objects.for_workspace(workspace).order_by("name").values("id", "name")),
        "labels": list(Label.objects.for_workspace(workspace).order_by("name").values_list("name", flat=True)),
    }


def _members(workspace: Any) -> list[dict[str, Any]]:
    """The workspace's members for the assignee menus and @mentions (handle = e-mail's local part,
    which inbox.services.mentioned_users resolves)."""
    rows = (Membership.objects.filter(workspace_id=getattr(workspace, "pk", workspace))
            .select_related("user").order_by("user__email"))
    return [{"id": m.user_id, "name": m.user.name, "email": m.user.email, "handle": m.user.email.split("@")[0]}
            for m in rows]


def _list_context(request) -> dict[str, Any]:
    params = _list_params(request)
    error = ""
    try:
        page = conversation_list(workspace=request.workspace, filters=_filters(params),
                                 cursor=request.GET.get("cursor", ""), limit=PAGE_SIZE, user_id=request.user.pk,
                                 sort=params["sort"])
    except SamphanError as exc:  # a hand-edited URL: say what is wrong, show nothing
        page, error = {"items": [], "next_cursor": None}, exc.message
    query = urlencode([(k, v) for k, v in params.items() if v])
    return {"params": params, "items": page["items"], "next_cursor": page["next_cursor"], "error": error,
            "query": query, "cursor": request.GET.get("cursor", "")}


@require_GET
@workspace_view("inbox.reply")
def inbox(request):
    ctx = _list_context(request)
    if _is_htmx(request) and request.GET.get("part") == "rows":
        return render(request, "web/inbox/_rows.html", ctx)
    ctx.update(_filter_choices(request.workspace))
    ctx.update({"status_choices": STATUS_CHOICES, "sla_choices": SLA_CHOICES, "sort_choices": SORT_CHOICES,
                "mentions": mentions_unseen(workspace=request.workspace, user=request.user),
                "poll_token": _change_token(request.workspace), "poll_seconds": POLL_SECONDS,
                "can_manage": _can(request, "workspace.manage")})
    return render(request, "web/inbox/list.html", ctx)


# --- live updates --------------------------------------------------------------------------------

def _change_token(workspace: Any, conversation_id: int | None = None) -> str:
    """A short fingerprint of what the open page shows; it changes when a message arrives anywhere in
    the workspace (max last_message_at: one backward index step on inbox_conv_all) or, for an open
    conversation, when its row, notes or its latest replies' delivery change (indexed by conversation)."""
    ws_id = getattr(workspace, "pk", workspace)
    parts: list[Any] = [Conversation.objects.filter(workspace_id=ws_id).aggregate(m=Max("last_message_at"))["m"]]
    if conversation_id:
        row = (Conversation.objects.filter(workspace_id=ws_id, pk=conversation_id)
               .values_list("updated_at", "message_count").first())
        if row is None:
            raise Http404("no such conversation")
        parts.append(row)
        parts.append(list(Message.objects.filter(conversation_id=conversation_id, direction=Message.Direction.OUT)
                          .order_by("-created_at", "-id").values_list("id", "outbound__status",
                                                                      "outbound__delivery_report")[:10]))
        parts.append(Note.objects.filter(conversation_id=conversation_id).aggregate(m=Max("id"))["m"])
    return hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:16]


@require_GET
@workspace_view("inbox.reply")
def inbox_poll(request):
    """htmx, every few seconds: 204 when nothing changed since the token the page holds; otherwise
    the poller with the new token and an ``inbox-changed`` event the list and thread listen for."""
    raw = request.GET.get("conversation", "")
    conversation_id = int(raw) if raw.isdigit() else None
    token = _change_token(request.workspace, conversation_id)  # scoped: another workspace's id is a 404
    if token == request.GET.get("since", ""):
        return HttpResponse(status=204)
    # Rendered without the context processors: the navigation is not part of the answer.
    response = HttpResponse(render_to_string("web/inbox/_poller.html", {
        "poll_token": token, "poll_seconds": POLL_SECONDS, "poll_conversation": conversation_id,
        "current_workspace": request.workspace}))
    response["HX-Trigger"] = "inbox-changed"
    return response


# --- one conversation ------------------------------------------------------------------------

def _timeline(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Messages and internal notes in the order they happened (notes older than the oldest message
    shown are left out with those messages)."""
    msgs = data["messages"]
    since = msgs[0].created_at if msgs and data["conversation"].message_count > len(msgs) else None
    items = [{"kind": "message", "at": m.created_at, "m": m, "delivery": delivery_of(m),
              "sentiment_title": SENTIMENT_TITLES.get(m.sentiment, "")} for m in msgs]
    items += [{"kind": "note", "at": n.created_at, "n": n} for n in data["notes"] if since is None or n.created_at >= since]
    items.sort(key=lambda item: (item["at"], 0 if item["kind"] == "message" else 1))
    return items


def _thread_context(request, conversation_id: int) -> dict[str, Any]:
    data = conversation_detail(workspace=request.workspace, conversation_id=conversation_id)
    c = data["conversation"]
    return {"conversation": c, "timeline": _timeline(data), "labels": data["labels"], "sla": sla_state(c),
            "more_messages": c.message_count > len(data["messages"]),
            "sentiment_titles": SENTIMENT_TITLES, "statuses": Conversation.Status.choices}


def _customer_context(request, customer_id: int) -> dict[str, Any]:
    try:
        data = customer_360(workspace=request.workspace, customer_id=customer_id, recent_orders=5)
    except NotFound:
        return {"customer_gone": True}
    sections = data["sections"]
    return {"c360": data, "analytics": _analytics_cards(sections.get("analytics")),
            "has_analytics": "analytics" in sections,
            "other_conversations": (sections.get("conversations") or {}).get("recent", [])}


def _composer_context(request, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    ctx = {"conversation": conversation, "canned": list(canned_replies(workspace=request.workspace)),
           "can_override": can_override(workspace=request.workspace, actor=request.user),
           "idempotency_key": uuid.uuid4().hex, "text": "", "blocked": None, "error": "", "sent": False}
    ctx.update(extra)
    return ctx


def _controls_context(request, conversation: Conversation, **extra: Any) -> dict[str, Any]:
    labels = extra.pop("labels", None)
    if labels is None:
        labels = list(Label.objects.filter(conversationlabel__conversation=conversation).order_by("name")
                      .values_list("name", flat=True))
    ctx = {"conversation": conversation, "labels": labels, "sla": sla_state(conversation),
           "members": extra.pop("members", None) or _members(request.workspace),
           "teams": list(Team.objects.for_workspace(request.workspace).order_by("name").values("id", "name")),
           "all_labels": list(Label.objects.for_workspace(request.workspace).order_by("name")
                              .values_list("name", flat=True)),
           "statuses": Conversation.Status.choices, "control_error": "", "control_saved": ""}
    ctx.update(extra)
    return ctx


@require_GET
@workspace_view("inbox.reply")
def conversation(request, conversation_id: int):
    thread = _thread_context(request, conversation_id)
    c = thread["conversation"]
    services.note_mentions_seen(conversation=c, user=request.user)
    members = _members(request.workspace)
    ctx = {**thread, **_customer_context(request, c.customer_id), **_composer_context(request, c),
           **_controls_context(request, c, members=members, labels=thread["labels"]), "members": members,
           "back_query": request.GET.get("back", ""), "poll_seconds": POLL_SECONDS,
           "poll_token": _change_token(request.workspace, c.pk), "poll_conversation": c.pk}
    return render(request, "web/inbox/conversation.html", ctx)


@require_GET
@workspace_view("inbox.reply")
def conversation_thread(request, conversation_id: int):
    """htmx: the thread and the conversation's controls again, after a change (the poll's event)."""
    ctx = _thread_context(request, conversation_id)
    return render(request, "web/inbox/_thread.html", ctx)


def _composer_response(request, conversation: Conversation, *, status: int = 200, **extra: Any) -> HttpResponse:
    ctx = _composer_context(request, conversation, **extra)
    if _is_htmx(request):
        return render(request, "web/inbox/_composer.html", ctx, status=status)
    # Without JavaScript: the whole page again, with the draft and the reasons.
    page = {**_thread_context(request, conversation.pk), **_customer_context(request, conversation.customer_id),
            **_controls_context(request, conversation), **ctx, "poll_seconds": POLL_SECONDS,
            "poll_token": _change_token(request.workspace, conversation.pk), "poll_conversation": conversation.pk}
    page["members"] = page["members"] or _members(request.workspace)
    return render(request, "web/inbox/conversation.html", page, status=status)


def _changed(response: HttpResponse) -> HttpResponse:
    response["HX-Trigger"] = "inbox-changed"
    return response


def _back_to(request, conversation: Conversation) -> HttpResponse:
    return redirect(reverse("web:inbox_conversation", args=[request.workspace.slug, conversation.pk]))


@require_POST
@workspace_view("inbox.reply")
def conversation_reply(request, conversation_id: int):
    conv = conversation_get(workspace=request.workspace, conversation_id=conversation_id)
    text = request.POST.get("text", "")
    override = request.POST.get("override_guard") in ("on", "1", "true")
    try:
        services.conversation_reply(conversation=conv, actor=request.user, text=text,
                                    idempotency_key=request.POST.get("idempotency_key") or None,
                                    override_guard=override, override_reason=request.POST.get("override_reason", ""),
                                    via="web")
    except GuardBlocked as exc:
        # The same 422 as the API; the draft stays in the box with the reasons and the suggestion.
        return _composer_response(request, conv, status=422, text=text, blocked=exc.details,
                                  override_reason=request.POST.get("override_reason", ""))
    except SamphanError as exc:
        return _composer_response(request, conv, status=exc.status, text=text, error=exc.message)
    if not _is_htmx(request):
        messages.success(request, _("Reply sent."))
        return _back_to(request, conv)
    return _changed(_composer_response(request, conv, sent=True))


@require_POST
@workspace_view("inbox.reply")
def canned_insert(request, conversation_id: int):
    """htmx: the reply box with the chosen canned reply rendered for this customer (inbox.services'
    sandboxed template) added to what is already typed; the guard checks it at once."""
    conv = conversation_get(workspace=request.workspace, conversation_id=conversation_id)
    text = request.POST.get("text", "")
    raw = request.POST.get("canned", "")
    error = ""
    if raw.isdigit():
        canned = get_scoped_or_404(CannedReply, request.workspace, pk=int(raw))
        try:
            rendered = services.canned_render(canned.body, services.canned_context(
                customer=conv.customer, agent=request.user, workspace=request.workspace))
        except SamphanError as exc:
            error = exc.message
        else:
            text = f"{text.rstrip()}\n{rendered}" if text.strip() else rendered
    return render(request, "web/inbox/_reply_text.html", {"text": text, "check_now": True, "error": error,
                                                          "conversation": conv})


@require_POST
@workspace_view("inbox.reply")
def conversation_note(request, conversation_id: int):
    conv = conversation_get(workspace=request.workspace, conversation_id=conversation_id)
    text = request.POST.get("text", "")
    error = ""
    try:
        services.note_add(conversation=conv, actor=request.user, text=text, via="web")
    except SamphanError as exc:
        error = exc.message
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        return _back_to(request, conv)
    response = render(request, "web/inbox/_note_form.html", {
        "conversation": conv, "members": _members(request.workspace), "note_text": text if error else "",
        "note_error": error})
    return response if error else _changed(response)


def _control_action(request, conversation_id: int, action, saved: str) -> HttpResponse:
    conv = conversation_get(workspace=request.workspace, conversation_id=conversation_id)
    error = ""
    try:
        with transaction.atomic():  # an assignment may be two service calls: both or neither
            action(conv)
    except SamphanError as exc:
        error = exc.message
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        else:
            messages.success(request, saved)
        return _back_to(request, conv)
    conv = conversation_get(workspace=request.workspace, conversation_id=conversation_id)
    response = render(request, "web/inbox/_controls.html",
                      _controls_context(request, conv, control_error=error, control_saved="" if error else saved))
    return response if error else _changed(response)


@require_POST
@workspace_view("inbox.reply")
def conversation_status(request, conversation_id: int):
    status = request.POST.get("status", "")
    return _control_action(request, conversation_id, lambda c: services.conversation_set_status(
        conversation=c, status=status, actor=request.user, via="web"), _("Status changed."))


@require_POST
@workspace_view("inbox.reply")
def conversation_assign(request, conversation_id: int):
    raw_user, raw_team = request.POST.get("assignee", ""), request.POST.get("team", "")

    auto = request.POST.get("auto") == "1"

    def action(c: Conversation) -> None:
        user_id = request.user.pk if raw_user == "me" else int(raw_user) if raw_user.isdigit() else None
        team_id = int(raw_team) if raw_team.isdigit() else None
        if auto:
            services.conversation_assign(conversation=c, actor=request.user, team_id=team_id, auto=True, via="web")
            return
        if user_id is None or (team_id is None and c.team_id is not None):
            # The service's assign keeps what it is not given: clear first, then set what was chosen.
            services.conversation_unassign(conversation=c, actor=request.user, via="web",
                                           keep_team=team_id is not None)
        if user_id is not None or team_id is not None:
            services.conversation_assign(conversation=c, actor=request.user, assignee_id=user_id, team_id=team_id,
                                         via="web")

    return _control_action(request, conversation_id, action, _("Assignment saved."))


@require_POST
@workspace_view("inbox.reply")
def conversation_label_add(request, conversation_id: int):
    name = request.POST.get("name", "")
    return _control_action(request, conversation_id, lambda c: services.conversation_label_add(
        conversation=c, name=name, actor=request.user, via="web"), _("Label added."))


@require_POST
@workspace_view("inbox.reply")
def conversation_label_remove(request, conversation_id: int):
    name = request.POST.get("name", "")
    return _control_action(request, conversation_id, lambda c: services.conversation_label_remove(
        conversation=c, name=name, actor=request.user, via="web"), _("Label removed."))


@require_POST
@workspace_view("inbox.reply")
def message_sentiment(request, message_id: int):
    """A customer's message's sentiment label, corrected by the agent (the same service as
    POST /api/inbox/messages/{id}/sentiment: kept as training data, audited)."""
    message = get_scoped_or_404(Message.objects.select_related("outbound", "author"), request.workspace,
                                pk=message_id)
    error = ""
    try:
        message = services.message_sentiment_correct(message=message, label=request.POST.get("label", ""),
                                                     actor=request.user, via="web")
    except SamphanError as exc:
        error = exc.message
    if not _is_htmx(request):
        if error:
            messages.error(request, error)
        return redirect(reverse("web:inbox_conversation", args=[request.workspace.slug, message.conversation_id]))
    return render(request, "web/inbox/_sentiment.html", {"m": message, "sentiment_titles": SENTIMENT_TITLES,
                                                         "sentiment_error": error})


# --- canned replies -----------------------------------------------------------------------------

@workspace_view("inbox.reply")
def canned_page(request):
    error, values = "", {}
    if request.method == "POST":
        if not _can(request, "workspace.manage"):
            return render(request, "web/forbidden.html", {"capability": "workspace.manage"}, status=403)
        values = {k: request.POST.get(k, "") for k in ("shortcut", "title", "body")}
        try:
            reply = services.canned_reply_create(workspace=request.workspace, actor=request.user, via="web", **values)
        except SamphanError as exc:
            error = exc.message
        else:
            messages.success(request, _("Canned reply /%(shortcut)s saved.") % {"shortcut": reply.shortcut})
            return redirect("web:inbox_canned", slug=request.workspace.slug)
    return render(request, "web/inbox/canned.html", {
        "replies": list(canned_replies(workspace=request.workspace)), "error": error, "values": values,
        "can_manage": _can(request, "workspace.manage"),
        "help_text": _("Saved answers agents insert into the reply box. They may use %(variables)s and "
                       "{%% if %%} … {%% endif %%}.") % {"variables": CANNED_VARIABLES}}, status=422 if error else 200)


@require_POST
@workspace_view("workspace.manage")
def canned_delete(request, reply_id: int):
    reply = get_scoped_or_404(CannedReply, request.workspace, pk=reply_id)
    services.canned_reply_delete(reply=reply, actor=request.user, via="web")
    messages.success(request, _("Canned reply /%(shortcut)s deleted.") % {"shortcut": reply.shortcut})
    return redirect("web:inbox_canned", slug=request.workspace.slug)
