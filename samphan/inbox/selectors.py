"""Reads for the inbox. Every function takes the workspace first.

The conversation list is keyset-paginated on (last_message_at, id) — newest
activity first — and every filter has an index that starts with the workspace
and ends with that order, so a page costs the same on the first page and the
thousandth, with a million conversations (benchmarks/inbox_list.py).
"""

from __future__ import annotations

import base64
import binascii
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import DateTimeField, Exists, ExpressionWrapper, F, OuterRef, Prefetch, Q
from django.utils import timezone

from samphan.core.errors import ValidationFailed
from samphan.core.scoping import get_scoped_or_404
from samphan.customers.selectors import register_360_section
from samphan.inbox.models import (
    CannedReply,
    Conversation,
    ConversationLabel,
    Label,
    Message,
    Note,
    NoteMention,
    ReportingEvent,
)
from samphan.sla.selectors import DUE_SOON, STATE_FIELDS, sla_state

MAX_PAGE = 100
# A label on at most this many conversations is filtered by starting from its conversations (their
# ids, then the other filters and the sort); a more common one by walking the sorted index and
# checking each row's labels. Walking alone read a whole team's conversations when none carried
# the label (30 s at a million conversations under load); the id list costs one index-only read.
LABEL_DRIVE_LIMIT = 20_000


@dataclass
class ConversationFilters:
    status: str = ""  # open / pending / resolved / active (open + pending); empty: all
    channel_account_id: int | None = None
    provider: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    team: str = ""  # a team id or "none"
    label: str = ""
    customer_id: int | None = None
    sla: str = ""  # breached (a running SLA target is past due) / due_soon (within the hour) / running; empty: all
    priority: str = ""


SORTS = ("recent", "due")  # newest activity first (default) / SLA due time, soonest first


def encode_cursor(last_message_at: datetime, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{last_message_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, pk = raw.rsplit("|", 1)
        return datetime.fromisoformat(stamp), int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed("invalid cursor") from None


def _filtered(workspace: Any, f: ConversationFilters, *, user_id: int | None) -> tuple[Any, bool]:
    """The filtered conversations, and whether they were narrowed to a short list of ids (a rare label)."""
    few = False
    ws_id = getattr(workspace, "pk", workspace)
    qs = Conversation.objects.filter(workspace_id=ws_id)
    if f.status == "active":
        qs = qs.filter(status__in=[Conversation.Status.OPEN, Conversation.Status.PENDING])
    elif f.status:
        if f.status not in Conversation.Status.values:
            raise ValidationFailed(f"unknown status {f.status!r}; one of {', '.join(Conversation.Status.values)}, active")
        qs = qs.filter(status=f.status)
    if f.channel_account_id:
        qs = qs.filter(channel_account_id=f.channel_account_id)
    if f.provider:
        qs = qs.filter(channel_account__provider=f.provider)
    if f.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif f.assignee == "me":
        qs = qs.filter(assignee_id=user_id)
    elif f.assignee:
        try:
            qs = qs.filter(assignee_id=int(f.assignee))
        except ValueError:
            raise ValidationFailed("assignee is a user id, me or none") from None
    if f.team == "none":
        qs = qs.filter(team__isnull=True)
    elif f.team:
        try:
            qs = qs.filter(team_id=int(f.team))
        except ValueError:
            raise ValidationFailed("team is a team id or none") from None
    if f.label:
        # One query says which label and how common it is (counted up to the limit).
        labelled = list(ConversationLabel.objects.filter(label__workspace_id=ws_id, label__name=f.label)
                        .values_list("label_id", flat=True)[:LABEL_DRIVE_LIMIT + 1])
        if not labelled:
            return qs.none(), True
        label_id = labelled[0]
        if len(labelled) <= LABEL_DRIVE_LIMIT:
            # A subquery, not the list: Django takes longer to adapt 20,000 ids than PostgreSQL to read them.
            qs, few = qs.filter(pk__in=ConversationLabel.objects.filter(label_id=label_id).values("conversation_id")), True
        else:
            qs = qs.filter(Exists(ConversationLabel.objects.filter(conversation=OuterRef("pk"), label_id=label_id)))
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    if f.priority:
        qs = qs.filter(priority=f.priority)
    if f.sla:
        # sla_due_at is set only while a target runs (never on resolved conversations): the partial
        # index (workspace, sla_due_at, id) serves all three.
        now = timezone.now()
        if f.sla == "breached":
            qs = qs.filter(sla_due_at__lte=now)
        elif f.sla == "due_soon":
            qs = qs.filter(sla_due_at__gt=now, sla_due_at__lte=now + DUE_SOON)
        elif f.sla == "running":
            qs = qs.filter(sla_due_at__isnull=False)
        else:
            raise ValidationFailed(f"unknown sla filter {f.sla!r}; one of breached, due_soon, running")
    return qs, few


_LIST_FIELDS = (
    "id", "status", "message_count", "last_message_at", "last_message_preview", "last_message_direction",
    "waiting_since", "created_at", "resolved_at", "customer_id", "channel_account_id", "assignee_id", "team_id",
    "customer__first_name", "customer__last_name", "customer__display_name", "customer__email", "customer__phone",
    "channel_account__name", "channel_account__provider", "assignee__email", "assignee__display_name",
    "team__name", "priority", "sla_due_at", *STATE_FIELDS,
)


def customer_display_name(row: Mapping[str, Any]) -> str:
    """A customer's name from a .values() row with customer__first_name, … and customer_id."""
    full = " ".join(p for p in (row["customer__first_name"], row["customer__last_name"]) if p)
    return (row["customer__display_name"] or full or row["customer__email"] or row["customer__phone"]
            or f"#{row['customer_id']}")


def conversation_list(*, workspace: Any, filters: ConversationFilters | None = None, cursor: str = "",
                      limit: int = 25, user_id: int | None = None, sort: str = "recent") -> dict[str, Any]:
    """A page of conversations: {"items": [...], "next_cursor": str | None}. Two queries.

    sort "recent": newest activity first; "due": the running SLA target due soonest first
    (conversations without one are left out).
    """
    f = filters or ConversationFilters()
    limit = max(1, min(int(limit or 25), MAX_PAGE))
    if sort not in SORTS:
        raise ValidationFailed(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
    qs, few = _filtered(workspace, f, user_id=user_id)
    key = "last_message_at" if sort == "recent" else "sla_due_at"
    if sort == "due":
        qs = qs.filter(sla_due_at__isnull=False)
    if cursor:
        at, pk = decode_cursor(cursor)
        # The first condition bounds the index range; the second breaks ties on the same instant.
        if sort == "recent":
            qs = qs.filter(Q(last_message_at__lte=at) & (Q(last_message_at__lt=at) | Q(id__lt=pk)))
        else:
            qs = qs.filter(Q(sla_due_at__gte=at) & (Q(sla_due_at__gt=at) | Q(id__gt=pk)))
    order: tuple[Any, ...] = ("-last_message_at", "-id") if sort == "recent" else ("sla_due_at", "id")
    if few:
        # Sort the few rows rather than walk the sorted index hoping to meet them: PostgreSQL
        # assumes the label is spread evenly over the index, and when it is not (a team that
        # never gets it) the walk reads the whole workspace. `+ 0 s` hides the index. The page's
        # ids are picked first, so the customer, channel and agent are joined for them only.
        few_order = order
        if connection.vendor == "postgresql":
            unindexed = ExpressionWrapper(F(key) + timedelta(0), output_field=DateTimeField())
            few_order = (unindexed.desc(), "-id") if sort == "recent" else (unindexed.asc(), "id")
        qs = Conversation.objects.filter(pk__in=qs.order_by(*few_order).values("pk")[:limit + 1])
    rows = list(qs.order_by(*order).values(*_LIST_FIELDS)[:limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    labels: dict[int, list[str]] = defaultdict(list)
    if rows:
        for conversation_id, name in (ConversationLabel.objects.filter(conversation_id__in=[r["id"] for r in rows])
                                      .order_by("label__name").values_list("conversation_id", "label__name")):
            labels[conversation_id].append(name)
    now = timezone.now()
    items = [{
        "id": r["id"],
        "status": r["status"],
        "priority": r["priority"],
        "sla": sla_state(r, now=now),
        "customer": {"id": r["customer_id"], "name": customer_display_name(r)},
        "channel": {"id": r["channel_account_id"], "name": r["channel_account__name"],
                    "provider": r["channel_account__provider"]},
        "assignee": ({"id": r["assignee_id"], "name": r["assignee__display_name"] or r["assignee__email"]}
                     if r["assignee_id"] else None),
        "team": {"id": r["team_id"], "name": r["team__name"]} if r["team_id"] else None,
        "labels": labels.get(r["id"], []),
        "message_count": r["message_count"],
        "last_message_at": r["last_message_at"],
        "last_message_preview": r["last_message_preview"],
        "last_message_direction": r["last_message_direction"],
        "waiting_since": r["waiting_since"],
        "created_at": r["created_at"],
        "resolved_at": r["resolved_at"],
    } for r in rows]
    next_cursor = encode_cursor(rows[-1][key], rows[-1]["id"]) if more and rows else None
    return {"items": items, "next_cursor": next_cursor}


def conversation_get(*, workspace: Any, conversation_id: int) -> Conversation:
    return get_scoped_or_404(Conversation.objects.select_related("customer", "channel_account", "assignee", "team"),
                             workspace, pk=conversation_id)


def conversation_detail(*, workspace: Any, conversation_id: int, messages: int = 100) -> dict[str, Any]:
    """The conversation, its latest messages (oldest first, with delivery status), notes and labels."""
    conversation = conversation_get(workspace=workspace, conversation_id=conversation_id)
    recent = list(Message.objects.filter(conversation=conversation).select_related("outbound", "author")
                  .order_by("-created_at", "-id")[:max(1, min(messages, 500))])
    recent.reverse()
    notes = list(Note.objects.filter(conversation=conversation).select_related("author")
                 .prefetch_related(Prefetch("mentions")).order_by("created_at", "id"))
    labels = list(Label.objects.filter(conversationlabel__conversation=conversation).order_by("name")
                  .values_list("name", flat=True))
    return {"conversation": conversation, "messages": recent, "notes": notes, "labels": labels}


def delivery_of(message: Message) -> dict[str, Any] | None:
    out = message.outbound
    if out is None:
        return None
    return {"status": out.status, "attempts": out.attempts, "error": out.last_error, "method": out.method,
            "provider_message_id": out.provider_message_id, "sent_at": out.sent_at,
            "report": out.delivery_report, "report_at": out.delivery_report_at}


def mentions_unseen(*, workspace: Any, user: Any, limit: int = 20) -> list[dict[str, Any]]:
    """The notes that @mention the user and that they have not opened yet, newest first (one query,
    on the (workspace, user, seen_at) index): the inbox shows them as the user's notifications."""
    rows = (NoteMention.objects.filter(workspace_id=getattr(workspace, "pk", workspace), user_id=user.pk,
                                       seen_at__isnull=True)
            .order_by("-note__created_at", "-id")
            .values("note__conversation_id", "note__text", "note__created_at", "note__author__email",
                    "note__author__display_name")[:limit])
    return [{"conversation_id": r["note__conversation_id"], "text": r["note__text"], "at": r["note__created_at"],
             "author": r["note__author__display_name"] or (r["note__author__email"] or "").split("@")[0]}
            for r in rows]


def canned_replies(*, workspace: Any) -> Any:
    return CannedReply.objects.for_workspace(workspace).order_by("shortcut")


def reporting_events(*, workspace: Any, kind: str = "", since: datetime | None = None,
                     until: datetime | None = None, limit: int = 1000) -> Any:
    qs = ReportingEvent.objects.for_workspace(workspace)
    if kind:
        qs = qs.filter(kind=kind)
    if since:
        qs = qs.filter(occurred_at__gte=since)
    if until:
        qs = qs.filter(occurred_at__lt=until)
    return qs.order_by("occurred_at", "id")[:max(1, min(limit, 10000))]


@register_360_section("conversations")
def customer_conversations_section(workspace: Any, customer: Any) -> dict[str, Any]:
    """The customer's latest conversations for the 360 page, in one query."""
    rows = list(Conversation.objects.filter(workspace_id=getattr(workspace, "pk", workspace), customer_id=customer.pk)
                .order_by("-last_message_at", "-id")
                .values("id", "status", "message_count", "last_message_at", "last_message_preview",
                        "channel_account__name", "channel_account__provider")[:6])
    return {
        "recent": [{"id": r["id"], "status": r["status"], "message_count": r["message_count"],
                    "last_message_at": r["last_message_at"], "last_message_preview": r["last_message_preview"],
                    "channel": r["channel_account__name"], "provider": r["channel_account__provider"]}
                   for r in rows[:5]],
        "more": len(rows) > 5,
    }


def sentiment_correction_examples(*, workspace: Any) -> list:
    """The workspace's corrected messages as training examples, oldest first; a message corrected
    twice counts once, with its latest label. Registered with samphan.sentiment.corrections."""
    from samphan.inbox.models import SentimentCorrection
    from samphan.sentiment.training import Example, category_of

    latest: dict[Any, Example] = {}
    rows = (SentimentCorrection.objects.for_workspace(workspace).order_by("corrected_at", "id")
            .values_list("id", "message_id", "text", "new_label"))
    for pk, message_id, text, label in rows:
        latest.pop(message_id or f"row{pk}", None)
        latest[message_id or f"row{pk}"] = Example(text=text, category=category_of(label))
    return list(latest.values())
