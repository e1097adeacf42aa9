"""The channel behind conversations opened from X, feed and uploaded mentions.

X is not a channel in Samphan, and blogs or forums have no API to answer through, so a
conversation made from such a mention lives on this adapter's account ("Social listening",
one per workspace, created on first use): agents see it in the inbox, assign it, add notes and
resolve it; a reply typed there is recorded but not delivered — it fails with the mention's
address so the agent answers on the site itself. It receives no webhooks.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy as _

from samphan.channels.adapters.base import (
    ChannelAdapter,
    InboundEvent,
    MalformedPayload,
    OutboundPayload,
    PermanentSendError,
    SendResult,
)


class ListeningAdapter(ChannelAdapter):
    provider = "listening"
    label = _("Social listening")
    identity_kind = ""

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False  # nothing arrives by webhook

    def parse(self, body: bytes) -> list[InboundEvent]:
        raise MalformedPayload("the listening channel receives no webhooks")

    def send(self, message: OutboundPayload, *, idempotency_key: str) -> SendResult:
        where = message.to if message.to.startswith("http") else "the site the mention came from"
        raise PermanentSendError(f"Samphan cannot post on this site: answer the mention there ({where})")
