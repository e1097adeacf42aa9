"""A channel for tests and demos: a real signature, a simple payload, an in-memory outbox.

Payload: {"events": [{"kind": "message", "id": "m1", "from": "visitor-1", "name": "...",
                       "text": "...", "timestamp": 1700000000000}]}
Signature: `X-Fake-Signature: <hex HMAC-SHA256(signing_secret, raw body)>`.

`send` appends to `OUTBOX` (and, if the account's config has `endpoint`, POSTs
the message there, so a test can watch a worker in another process). Failures
can be scripted per account with config `{"fail": ["transient", "permanent", ...]}`
— one entry consumed per attempt, counted in-process in `ATTEMPTS`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from samphan.channels.adapters.base import (
    Attachment,
    CaseInsensitiveHeaders,
    ChannelAdapter,
    FieldSpec,
    InboundEvent,
    MalformedPayload,
    Media,
    OutboundPayload,
    PermanentSendError,
    SenderIdentity,
    SendResult,
    TransientSendError,
    http_call,
)

OUTBOX: list[dict[str, Any]] = []
ATTEMPTS: dict[int, int] = defaultdict(int)


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class FakeAdapter(ChannelAdapter):
    provider = "fake"
    label = _("Test channel")
    identity_kind = "webchat"
    secret_fields = ("signing_secret",)
    required_secrets = ("signing_secret",)
    config_fields = ("endpoint", "fail")
    field_specs = {"signing_secret": FieldSpec(_("Signing secret"), "password"),
                   "endpoint": FieldSpec(_("Endpoint"), "url"), "fail": FieldSpec(_("Scripted failures"), advanced=True)}
    stored_headers = ("content-type", "x-fake-signature")

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = CaseInsensitiveHeaders(headers).get("x-fake-signature") or ""
        secret = self.secrets.get("signing_secret") or ""
        return bool(secret) and hmac.compare_digest(sign(secret, body).encode(), given.encode())

    def parse(self, body: bytes) -> list[InboundEvent]:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise MalformedPayload("the body is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise MalformedPayload('expected an object with an "events" list')
        events = []
        for index, raw in enumerate(data["events"]):
            if not isinstance(raw, dict) or not raw.get("id") or not raw.get("from"):
                raise MalformedPayload(f"event {index}: id and from are required")
            kind = raw.get("kind", "message")
            if kind not in ("message", "follow", "unfollow", "postback", "comment"):
                continue
            ts = raw.get("timestamp")
            occurred = datetime.fromtimestamp(ts / 1000, tz=UTC) if isinstance(ts, int | float) else datetime.now(UTC)
            events.append(InboundEvent(
                kind=kind, dedupe_key=str(raw["id"]), external_id=str(raw["id"]),
                sender=SenderIdentity(raw.get("identity_kind", self.identity_kind), str(raw["from"]),
                                      str(raw.get("name", ""))),
                occurred_at=occurred, thread_key=str(raw.get("thread", raw["from"])),
                message_type="text" if kind == "message" else kind, text=str(raw.get("text", "")),
                attachments=[Attachment(type=str(a.get("type", "file")), ref=str(a.get("ref", "")))
                             for a in raw.get("attachments", []) if isinstance(a, dict)],
                reply_token=str(raw.get("reply_token", "")),
            ))
        return events

    def send(self, message: OutboundPayload, *, idempotency_key: str) -> SendResult:
        ATTEMPTS[self.account.pk] += 1
        script = self.config("fail") or []
        attempt = ATTEMPTS[self.account.pk]
        if attempt <= len(script):
            mode = script[attempt - 1]
            if mode == "transient":
                raise TransientSendError("scripted transient failure", status=503)
            if mode == "ambiguous":
                raise TransientSendError("scripted read timeout", ambiguous=True)
            if mode == "permanent":
                raise PermanentSendError("scripted permanent failure", status=400)
        record = {"account": self.account.pk, "to": message.to, "text": message.text,
                  "reply_token": message.reply_token, "idempotency_key": idempotency_key}
        if endpoint := self.config("endpoint"):
            response = http_call("POST", endpoint, json=record)
            if response.status_code >= 500:
                raise TransientSendError(f"endpoint answered {response.status_code}", status=response.status_code)
        OUTBOX.append(record)
        return SendResult(f"fake-{len(OUTBOX)}", method="reply" if message.reply_token else "push")

    def fetch_media(self, ref: str) -> Media:
        return Media(ref.encode(), "text/plain")
