"""The inbox's share of a PDPA export and erasure: the customer's conversations and messages.

Erasing scrubs every message of the customer's conversations (text, attachments, meta, reply
tokens), the agents' notes on them, the sentiment corrections that copied a text, the
conversation's preview and channel address (thread / contact id: a LINE user id, a PSID, an
e-mail address), the replies' outbound payloads and the raw webhook bodies the messages came
from (an e-mail's attachments live inside it). The conversations themselves stay, with their
times, statuses and reporting events, so response-time reports still add up.
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from samphan.customers.pdpa import PersonalDataSection, row_dict

ERASED_TEXT = ""


def conversations_export(customer: Any) -> list[dict[str, Any]]:
    from samphan.inbox.models import Conversation, Message, Note

    conversations = list(Conversation.objects.filter(customer=customer).select_related("channel_account")
                         .order_by("created_at", "id"))
    ids = [c.pk for c in conversations]
    messages: dict[int, list[dict[str, Any]]] = {}
    for m in Message.objects.filter(conversation_id__in=ids).order_by("created_at", "id"):
        messages.setdefault(m.conversation_id, []).append(
            {"id": m.pk, "direction": m.direction, "kind": m.kind, "text": m.text, "attachments": m.attachments,
             "created_at": m.created_at.isoformat(), "sentiment": m.sentiment or None})
    notes: dict[int, list[dict[str, Any]]] = {}
    for n in Note.objects.filter(conversation_id__in=ids).order_by("created_at", "id"):
        notes.setdefault(n.conversation_id, []).append({"id": n.pk, "text": n.text,
                                                        "created_at": n.created_at.isoformat()})
    return [{**row_dict(c, ("workspace", "customer", "sla_policy")),
             "channel": {"provider": c.channel_account.provider, "name": c.channel_account.name},
             "messages": messages.get(c.pk, []), "notes": notes.get(c.pk, [])} for c in conversations]


def conversations_erase(customer: Any, identities: list[tuple[str, str]]) -> dict[str, int]:
    from samphan.channels.models import OutboundMessage, WebhookEvent
    from samphan.inbox.models import Conversation, Message, Note, SentimentCorrection

    conversation_ids = list(Conversation.objects.filter(customer=customer).values_list("pk", flat=True))
    if not conversation_ids:
        return {"conversations": 0, "messages": 0}
    messages = Message.objects.filter(conversation_id__in=conversation_ids)
    event_ids = [e for e in messages.values_list("webhook_event_id", flat=True) if e is not None]
    outbound_ids = [o for o in messages.values_list("outbound_id", flat=True) if o is not None]
    message_ids = list(messages.values_list("pk", flat=True))
    corrections = SentimentCorrection.objects.filter(message_id__in=message_ids).delete()[0]
    scrubbed = messages.update(text=ERASED_TEXT, attachments=[], meta={"erased": True}, reply_token="",
                               reply_token_expires_at=None)
    notes = Note.objects.filter(conversation_id__in=conversation_ids).update(text=ERASED_TEXT)
    # The raw bodies (and what a mail carried as attachments) are gone with them.
    events = WebhookEvent.objects.filter(pk__in=event_ids).update(body=b"", headers={})
    # A reply not yet sent goes nowhere now; sent ones keep their status, not their text or address.
    OutboundMessage.objects.filter(pk__in=outbound_ids, status__in=["queued", "sending"]).update(
        status="failed", last_error="the customer's personal data was erased (PDPA)")
    outbound = OutboundMessage.objects.filter(pk__in=outbound_ids).update(payload={}, to="", reply_token="")
    # The channel address is personal (a LINE user id, a PSID, an e-mail address); a later
    # message from the same person starts a new conversation and a new customer.
    Conversation.objects.filter(pk__in=conversation_ids).update(
        last_message_preview="", contact_id="", thread_key=Concat(Value("erased:"), Cast("id", CharField())))
    return {"conversations": len(conversation_ids), "messages": scrubbed, "notes": notes,
            "sentiment_corrections": corrections, "webhook_bodies": events, "outbound": outbound}


SECTION = PersonalDataSection(name="conversations", export=conversations_export, erase=conversations_erase,
                              models=("inbox.conversation",))
