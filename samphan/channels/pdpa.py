"""Channels' share of a PDPA export and erasure: the customer's channel contacts (a LINE user
id or PSID with its display name and follow state) and web-chat transcripts.

A transcript belongs to a visitor id, which is the customer's `webchat` identity. Erasing
blanks its lines and moves them to a visitor id nobody holds, so the visitor's cookie finds
an empty thread; the lines themselves stay (one per outbound message: what keeps a retried
reply from being written twice).
"""

from __future__ import annotations

from typing import Any

from django.db.models import CharField, Value
from django.db.models.functions import Cast, Concat

from samphan.customers.pdpa import PersonalDataSection, row_dict


def _visitor_ids(customer: Any, identities: list[tuple[str, str]] | None = None) -> list[str]:
    from samphan.customers.models import Identity

    if identities is None:
        identities = list(Identity.objects.filter(customer=customer).values_list("kind", "value"))
    return [value for kind, value in identities if kind == Identity.Kind.WEBCHAT]


def channels_export(customer: Any) -> dict[str, Any]:
    from samphan.channels.models import ChannelContact, WebchatMessage

    contacts = [{**row_dict(c, ("workspace", "customer")), "channel": c.channel_account.name}
                for c in ChannelContact.objects.filter(customer=customer).select_related("channel_account")]
    transcript = [{"channel": line.channel_account.name, "direction": line.direction, "text": line.text,
                   "created_at": line.created_at.isoformat(), "seen_at": line.seen_at.isoformat()
                   if line.seen_at else None}
                  for line in WebchatMessage.objects.filter(workspace_id=customer.workspace_id,
                                                            visitor_id__in=_visitor_ids(customer))
                  .select_related("channel_account").order_by("created_at", "id")]
    return {"contacts": contacts, "webchat_transcript": transcript}


def channels_erase(customer: Any, identities: list[tuple[str, str]]) -> dict[str, int]:
    from samphan.channels.models import ChannelContact, WebchatMessage

    contacts = ChannelContact.objects.filter(customer=customer).delete()[0]
    lines = WebchatMessage.objects.filter(workspace_id=customer.workspace_id,
                                          visitor_id__in=_visitor_ids(customer, identities)).update(
        text="", visitor_id=Concat(Value("erased:"), Cast("id", CharField())))
    return {"contacts": contacts, "webchat_lines": lines}


SECTION = PersonalDataSection(name="channels", export=channels_export, erase=channels_erase,
                              models=("channels.channelcontact",))
