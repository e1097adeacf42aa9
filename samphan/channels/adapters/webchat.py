"""Web chat: a widget served by Samphan, embedded in any site with one script tag.

There is no outside provider: Samphan is the provider. The widget talks to
`/webchat/<public key>/…` (samphan/channels/webchat/views.py), which identifies
the visitor by a signed cookie, checks the page's origin against the account's
allowed origins, and stores what the visitor sent as a webhook event built by
Samphan itself — the same durable store → worker → inbox path as LINE's
webhooks. This adapter reads those events and delivers agents' replies into the
visitor's transcript (`WebchatMessage`), where the widget picks them up.

Event bodies (written by the widget endpoints, never by a browser directly):

    {"type": "message", "visitor": "v_…", "client_id": "…", "message_id": 12, "text": "…",
     "sent_at": 1700000000000, "lang": "th", "page": "https://shop.example/p/1"}
    {"type": "identify", "visitor": "v_…", "email": "somchai@example.com", "sent_at": 1700000000000}

Account config: `allowed_origins` (the sites that may embed the widget:
scheme://host[:port]), `title_en` / `title_th`, `greeting_en` / `greeting_th`
and `color` (#rrggbb). No secrets: the visitor cookie is signed with
django.core.signing (SECRET_KEY), salted per channel account.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

from samphan.channels.adapters.base import (
    ChannelAdapter,
    FieldSpec,
    InboundEvent,
    MalformedPayload,
    OutboundPayload,
    PermanentSendError,
    SenderIdentity,
    SendResult,
)
from samphan.core.errors import ValidationFailed

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
TEXT_LIMITS = {"title_en": 60, "title_th": 60, "greeting_en": 300, "greeting_th": 300}
DEFAULT_COLOR = "#0f766e"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_origin(raw: str) -> str:
    """`https://Shop.Example:443/` → `https://shop.example`; ValueError with the reason if it is not an origin."""
    value = (raw or "").strip()
    if value == "*":
        raise ValueError("a wildcard is not allowed: list each site (the visitor cookie is sent with credentials)")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError(f"{raw!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{raw!r} is not an origin: expected http(s)://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{raw!r} is not an origin: no path, query or user, only scheme://host[:port]")
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}:{port}"
    return f"{parts.scheme}://{host}"


def _origins_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v for v in re.split(r"[\s,]+", value) if v]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    raise ValueError("allowed_origins must be a list of origins")


def _ms_to_datetime(value: Any) -> datetime:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    return datetime.now(UTC)


class WebchatAdapter(ChannelAdapter):
    provider = "webchat"
    label = _("Web chat")
    identity_kind = "webchat"
    config_fields = ("allowed_origins", "title_en", "title_th", "greeting_en", "greeting_th", "color")
    required_config = ("allowed_origins",)
    field_specs = {
        "allowed_origins": FieldSpec(_("Sites that embed the widget"), "list",
                                     _("One per line, scheme and host only, e.g. https://shop.example"),
                                     placeholder="https://shop.example"),
        "title_th": FieldSpec(_("Title (Thai)"), "text", placeholder="แชทกับเรา"),
        "title_en": FieldSpec(_("Title (English)"), "text", placeholder="Chat with us"),
        "greeting_th": FieldSpec(_("Greeting (Thai)"), "textarea", placeholder="สวัสดีค่ะ มีอะไรให้ช่วยไหมคะ"),
        "greeting_en": FieldSpec(_("Greeting (English)"), "textarea", placeholder="Hello! How can we help?"),
        "color": FieldSpec(_("Colour"), "color", _("The launcher and header colour, like #0f766e."),
                           placeholder="#0f766e"),
    }
    # send() writes at most one transcript line per outbound message, so a send interrupted after it
    # wrote may simply be tried again.
    dedupes_retries = True
    embeddable = True

    @classmethod
    def clean_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """Normalise the settings, or raise ValidationFailed naming each field that is wrong and why."""
        problems: list[str] = []
        cleaned = dict(config)
        try:
            origins: list[str] = []
            for raw in _origins_of(config.get("allowed_origins") or []):
                try:
                    origin = normalise_origin(raw)
                except ValueError as exc:
                    problems.append(f"allowed_origins: {exc}")
                    continue
                if origin not in origins:
                    origins.append(origin)
            cleaned["allowed_origins"] = origins
        except ValueError as exc:
            problems.append(f"allowed_origins: {exc}")
        if not cleaned.get("allowed_origins") and not any(p.startswith("allowed_origins") for p in problems):
            problems.append("allowed_origins: at least one site that embeds the widget is required "
                            "(e.g. https://shop.example)")
        color = cleaned.get("color")
        if color and not COLOR_RE.match(str(color)):
            problems.append(f"color: {color!r} is not a colour like #0f766e")
        for name, limit in TEXT_LIMITS.items():
            if name in cleaned and cleaned[name] is not None:
                value = " ".join(str(cleaned[name]).split()) if name.startswith("title") else str(cleaned[name]).strip()
                if len(value) > limit:
                    problems.append(f"{name}: at most {limit} characters (got {len(value)})")
                cleaned[name] = value
        if problems:
            raise ValidationFailed("; ".join(problems), details=problems)
        return cleaned

    @classmethod
    def inbound_path(cls, account: Any) -> str:
        return f"/webchat/{account.uuid}"

    @classmethod
    def embed_snippet(cls, account: Any, base_url: str) -> str:
        return f'<script src="{base_url}/webchat/widget.js" data-channel="{account.uuid}" async></script>'

    # --- the interface --------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        # Nothing outside Samphan posts web-chat events: the widget's endpoints store them after
        # checking the visitor's signed cookie and the page's origin. The generic webhook URL says 401.
        return False

    def parse(self, body: bytes) -> list[InboundEvent]:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError):
            raise MalformedPayload("the body is not JSON") from None
        if not isinstance(data, dict):
            raise MalformedPayload("expected a JSON object")
        visitor = data.get("visitor")
        if not isinstance(visitor, str) or not visitor:
            raise MalformedPayload("visitor is required")
        sender = SenderIdentity(self.identity_kind, visitor)
        occurred = _ms_to_datetime(data.get("sent_at"))
        kind = data.get("type")
        if kind == "message":
            client_id, text = data.get("client_id"), data.get("text")
            if not isinstance(client_id, str) or not client_id or not isinstance(text, str):
                raise MalformedPayload("a message needs client_id and text")
            meta = {k: data[k] for k in ("lang", "page") if isinstance(data.get(k), str) and data[k]}
            return [InboundEvent(kind="message", dedupe_key=f"{visitor}:{client_id}", sender=sender,
                                 occurred_at=occurred, thread_key=visitor,
                                 external_id=str(data.get("message_id") or ""), text=text, meta=meta)]
        if kind == "identify":
            email = data.get("email")
            if not isinstance(email, str) or not email:
                raise MalformedPayload("identify needs an email")
            return [InboundEvent(kind="identify", dedupe_key=f"{visitor}:email:{email}", sender=sender,
                                 occurred_at=occurred, thread_key=visitor, message_type="identify",
                                 meta={"identities": {"email": email}})]
        raise MalformedPayload(f"unknown web-chat event type {kind!r}")

    def send(self, message: OutboundPayload, *, idempotency_key: str) -> SendResult:
        from samphan.channels.models import OutboundMessage, WebchatMessage

        outbound = (OutboundMessage.objects.filter(idempotency_key=idempotency_key, channel_account_id=self.account.pk)
                    .only("pk", "workspace_id").first())
        if outbound is None:
            raise PermanentSendError("web chat delivers outbound messages only (no outbound row with this key)")
        if not message.text.strip():
            raise PermanentSendError("web chat sends text only; this message has none")
        line, _ = WebchatMessage.objects.get_or_create(
            outbound=outbound,
            defaults={"workspace_id": outbound.workspace_id, "channel_account_id": self.account.pk,
                      "visitor_id": message.to, "direction": WebchatMessage.Direction.OUT, "text": message.text},
        )
        return SendResult(f"webchat-{line.pk}", method="send")
