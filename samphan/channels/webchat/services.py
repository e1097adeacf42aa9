"""What the widget's endpoints write and read. Inbound goes through the durable webhook store.

A visitor's message is written twice in one transaction: a transcript line
(`WebchatMessage`, unique per visitor and widget message id, so a message the
widget sends again is stored once) and the raw event the worker turns into the
inbox message — the same store → 200 → background path as a LINE webhook, so
nothing is lost if the worker is down. The inbox stores it once too (dedupe key
`<visitor>:<client id>`).
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from samphan.channels.models import ChannelAccount, OutboundMessage, WebchatMessage, WebhookEvent
from samphan.channels.services import webhook_store
from samphan.core.errors import ValidationFailed
from samphan.customers.identity import normalise_email

MAX_TEXT = 2000
CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
VISIBLE_OUT = (OutboundMessage.Status.SENT, OutboundMessage.Status.DELIVERED)


def _store(account: ChannelAccount, data: dict[str, Any]) -> WebhookEvent:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return webhook_store(account=account, body=body, headers={"content-type": "application/json"})


def clean_message(*, client_id: Any, text: Any) -> tuple[str, str]:
    """The widget's message id and text, or ValidationFailed naming the field and the reason."""
    if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise ValidationFailed("client_id: 1 to 64 letters, digits, - or _ (the widget's id for this message)",
                               details={"field": "client_id"})
    if not isinstance(text, str) or not text.strip():
        raise ValidationFailed("text: a message needs text", details={"field": "text"})
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"text: at most {MAX_TEXT} characters (got {len(text)})", details={"field": "text"})
    return client_id, text


def webchat_message_receive(*, account: ChannelAccount, visitor_id: str, client_id: str, text: str,
                            language: str = "", page_url: str = "") -> tuple[WebchatMessage, bool]:
    """Keep a visitor's message and queue it for the inbox. Returns (transcript line, created).

    A client id the visitor already used returns the first line and stores
    nothing new (the widget re-sends when an answer was lost).
    """
    existing = WebchatMessage.objects.filter(channel_account=account, visitor_id=visitor_id,
                                             client_id=client_id).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            line = WebchatMessage.objects.create(
                workspace_id=account.workspace_id, channel_account=account, visitor_id=visitor_id,
                direction=WebchatMessage.Direction.IN, client_id=client_id, text=text)
            data = {"type": "message", "visitor": visitor_id, "client_id": client_id, "message_id": line.pk,
                    "text": text, "sent_at": int(line.created_at.timestamp() * 1000)}
            if language:
                data["lang"] = language[:8]
            if page_url:
                data["page"] = page_url[:500]
            _store(account, data)
    except IntegrityError:  # the same message, sent twice at the same moment
        return WebchatMessage.objects.get(channel_account=account, visitor_id=visitor_id, client_id=client_id), False
    return line, True


def webchat_email_receive(*, account: ChannelAccount, visitor_id: str, email: Any) -> str:
    """A visitor left an e-mail address: checked now, linked to a customer by the worker. Returns it normalised."""
    if not isinstance(email, str) or not email.strip():
        raise ValidationFailed("email: an e-mail address is required", details={"field": "email"})
    if len(email) > 254:
        raise ValidationFailed("email: at most 254 characters", details={"field": "email"})
    try:
        value = normalise_email(email)
    except ValidationFailed:
        raise ValidationFailed("email: this is not an e-mail address", details={"field": "email"}) from None
    _store(account, {"type": "identify", "visitor": visitor_id, "email": value, "sent_at": int(time.time() * 1000)})
    return value


def webchat_transcript(*, account: ChannelAccount, visitor_id: str, after: int = 0,
                       limit: int = 100) -> list[WebchatMessage]:
    """The visitor's lines after `after` (an id), oldest first: theirs, and replies once sent."""
    return list(WebchatMessage.objects.filter(channel_account=account, visitor_id=visitor_id, id__gt=after)
                .filter(Q(direction=WebchatMessage.Direction.IN) | Q(outbound__status__in=VISIBLE_OUT))
                .select_related("outbound").order_by("id")[:max(1, min(limit, 200))])


def webchat_mark_seen(*, account: ChannelAccount, visitor_id: str, up_to: int) -> int:
    """The widget showed the replies up to `up_to`: their outbound messages become "delivered". Idempotent."""
    now = timezone.now()
    with transaction.atomic():
        lines = list(WebchatMessage.objects.select_for_update(of=("self",))
                     .filter(channel_account=account, visitor_id=visitor_id, direction=WebchatMessage.Direction.OUT,
                             id__lte=up_to, seen_at__isnull=True, outbound__status__in=VISIBLE_OUT)
                     .values_list("pk", "outbound_id"))
        if not lines:
            return 0
        WebchatMessage.objects.filter(pk__in=[pk for pk, _ in lines]).update(seen_at=now)
        OutboundMessage.objects.filter(pk__in=[o for _, o in lines], status=OutboundMessage.Status.SENT).update(
            status=OutboundMessage.Status.DELIVERED, delivered_at=now)
    return len(lines)
