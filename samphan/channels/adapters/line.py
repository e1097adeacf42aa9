"""LINE Messaging API (a LINE Official Account).

- Signature: `x-line-signature` = base64(HMAC-SHA256(channel secret, raw body)),
  checked with line-bot-sdk's SignatureValidator (constant-time compare).
- Events are read with line-bot-sdk's webhook models; a known event the SDK
  cannot read (a missing required field) is a malformed payload — the SDK's own
  WebhookParser would log and skip it, which is the silent drop we refuse.
- Deduplicated on `webhookEventId`: LINE redelivers (deliveryContext.isRedelivery)
  with the same id.
- Handled: follow, unfollow, message (text, sticker, image, location; video,
  audio and file as attachments), postback. Other events (join, beacon, unsend,
  ...) are acknowledged and ignored; group and room chats are ignored (the inbox
  is one-to-one).
- Replies use the reply token while it is fresh (it works once, for about a
  minute), otherwise push with `X-Line-Retry-Key`, which LINE deduplicates —
  so a push that timed out is retried without risk of a duplicate.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.utils.translation import gettext_lazy as _
from linebot.v3 import SignatureValidator
from linebot.v3.webhooks import Event

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
    retry_after_seconds,
)

API_BASE = "https://api.line.me"
DATA_API_BASE = "https://api-data.line.me"
HANDLED_EVENTS = frozenset({"message", "follow", "unfollow", "postback"})
KNOWN_MESSAGE_TYPES = frozenset({"text", "sticker", "image", "location", "video", "audio", "file"})
MAX_TEXT = 5000  # LINE's limit per text message
MAX_MESSAGES = 5  # per reply / push request
# Retry keys are UUIDs; derived from our idempotency key so every attempt sends the same one.
_RETRY_KEY_NAMESPACE = uuid.UUID("6b1f3c52-58d4-4c8e-9a44-5a1d3d6a2f10")


def _ms(ts: int) -> datetime:
    return datetime.fromtimestamp(ts / 1000, tz=UTC)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


class LineAdapter(ChannelAdapter):
    provider = "line"
    label = _("LINE Official Account")
    identity_kind = "line"
    secret_fields = ("channel_secret", "access_token")
    required_secrets = ("channel_secret", "access_token")
    config_fields = ("api_base_url", "data_api_base_url")
    field_specs = {
        "channel_secret": FieldSpec(_("Channel secret"), "password",
                                    _("LINE Developers console → your channel → Basic settings.")),
        "access_token": FieldSpec(_("Channel access token"), "password",
                                  _("Messaging API tab → Channel access token (long-lived).")),
        "api_base_url": FieldSpec(_("API address"), "url", _("Only for a proxy or a test server."),
                                  placeholder="https://api.line.me", advanced=True),
        "data_api_base_url": FieldSpec(_("Data API address"), "url", _("Only for a proxy or a test server."),
                                       placeholder="https://api-data.line.me", advanced=True),
    }
    stored_headers = ("content-type", "user-agent", "x-line-signature")
    dedupes_retries = True

    # --- verify --------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        signature = CaseInsensitiveHeaders(headers).get("x-line-signature")
        secret = self.secrets.get("channel_secret")
        if not signature or not secret:
            return False
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            # Not UTF-8, so not from LINE; still compared in constant time on the raw bytes.
            expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest())
            return hmac.compare_digest(expected, signature.encode())
        return SignatureValidator(secret).validate(text, signature)

    # --- parse ---------------------------------------------------------------------

    def parse(self, body: bytes) -> list[InboundEvent]:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedPayload(f"the body is not JSON: {_first_line(exc)}") from None
        if not isinstance(data, dict) or not isinstance(data.get("events"), list):
            raise MalformedPayload('expected an object with an "events" list')
        events: list[InboundEvent] = []
        for index, raw in enumerate(data["events"]):
            if not isinstance(raw, dict):
                raise MalformedPayload(f"event {index} is not an object")
            if raw.get("type") not in HANDLED_EVENTS:
                continue
            event = self._parse_event(index, raw)
            if event is not None:
                events.append(event)
        return events

    def _parse_event(self, index: int, raw: dict[str, Any]) -> InboundEvent | None:
        etype = raw["type"]
        message = raw.get("message") if etype == "message" else None
        # A message type newer than the SDK: kept as an attachment placeholder.
        unknown_message = (message if isinstance(message, dict) and message.get("type") not in KNOWN_MESSAGE_TYPES
                           else None)
        try:
            if unknown_message is not None:
                event = Event.from_dict({**raw, "message": {"type": "text", "id": str(unknown_message.get("id", "")),
                                                            "text": "", "quoteToken": ""}})
            else:
                event = Event.from_dict(raw)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise MalformedPayload(f"event {index} ({etype}): {_first_line(exc)}") from None
        source = event.source
        if source is None or getattr(source, "type", "") != "user" or not getattr(source, "user_id", None):
            return None  # group / room chats and events without a user are not inbox conversations
        user_id = source.user_id
        base = {"dedupe_key": event.webhook_event_id, "sender": SenderIdentity("line", user_id),
                    "occurred_at": _ms(event.timestamp), "thread_key": user_id,
                    "meta": {"mode": str(getattr(event.mode, "value", event.mode)),
                          "redelivery": bool(event.delivery_context.is_redelivery)},
                    "reply_token": getattr(event, "reply_token", None) or ""}
        if etype in ("follow", "unfollow"):
            return InboundEvent(kind=etype, external_id=event.webhook_event_id, message_type=etype, **base)
        if etype == "postback":
            pb = event.postback
            base["meta"]["params"] = dict(pb.params or {})
            return InboundEvent(kind="postback", external_id=event.webhook_event_id, message_type="postback",
                                text=pb.data, **base)
        msg = event.message
        if unknown_message is not None:
            return InboundEvent(kind="message", external_id=str(unknown_message.get("id", "")),
                                message_type=str(unknown_message.get("type")),
                                attachments=[Attachment(type=str(unknown_message.get("type")),
                                                        ref=str(unknown_message.get("id", "")))], **base)
        mtype = msg.type
        text, attachments = "", []
        if mtype == "text":
            text = msg.text
        elif mtype == "sticker":
            text = msg.text or ""
            attachments.append(Attachment(type="sticker", meta={
                "package_id": msg.package_id, "sticker_id": msg.sticker_id, "keywords": list(msg.keywords or [])}))
        elif mtype == "location":
            text = ", ".join(p for p in (msg.title, msg.address) if p)
            attachments.append(Attachment(type="location", meta={
                "title": msg.title or "", "address": msg.address or "",
                "latitude": msg.latitude, "longitude": msg.longitude}))
        else:  # image, video, audio, file: the content stays with LINE until fetched
            meta: dict[str, Any] = {}
            url = ""
            provider = getattr(msg, "content_provider", None)
            if provider is not None:
                meta["content_provider"] = provider.type
                url = provider.original_content_url or ""
            for attr in ("file_name", "file_size", "duration"):
                if getattr(msg, attr, None) is not None:
                    meta[attr] = getattr(msg, attr)
            attachments.append(Attachment(type=mtype, ref=msg.id, url=url, meta=meta))
        return InboundEvent(kind="message", external_id=msg.id, message_type=mtype, text=text,
                            attachments=attachments, **base)

    # --- send ----------------------------------------------------------------------

    def _api(self) -> str:
        return (self.config("api_base_url") or API_BASE).rstrip("/")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('access_token', '')}"}

    @staticmethod
    def _messages(message: OutboundPayload) -> list[dict[str, Any]]:
        text = message.text or ""
        chunks = [text[i:i + MAX_TEXT] for i in range(0, len(text), MAX_TEXT)] or [""]
        if len(chunks) > MAX_MESSAGES:
            raise PermanentSendError(f"the text is longer than {MAX_TEXT * MAX_MESSAGES} characters")
        return [{"type": "text", "text": chunk} for chunk in chunks]

    def send(self, message: OutboundPayload, *, idempotency_key: str) -> SendResult:
        messages = self._messages(message)
        if message.reply_token:
            response = http_call("POST", f"{self._api()}/v2/bot/message/reply", headers=self._auth(),
                                 json={"replyToken": message.reply_token, "messages": messages})
            if response.status_code == 200:
                return SendResult(self._sent_id(response), method="reply")
            if response.status_code != 400:
                self._raise(response)
            # 400: the token has expired or was used — push instead, which is what it is for.
        retry_key = str(uuid.uuid5(_RETRY_KEY_NAMESPACE, idempotency_key))
        response = http_call("POST", f"{self._api()}/v2/bot/message/push",
                             headers={**self._auth(), "X-Line-Retry-Key": retry_key},
                             json={"to": message.to, "messages": messages})
        if response.status_code == 200:
            return SendResult(self._sent_id(response), method="push")
        if response.status_code == 409:
            # LINE already accepted a request with this retry key: it was sent, once.
            accepted = response.headers.get("x-line-accepted-request-id", "")
            return SendResult(f"accepted:{accepted}" if accepted else "accepted", method="push")
        self._raise(response)
        raise AssertionError("unreachable")

    @staticmethod
    def _sent_id(response: Any) -> str:
        try:
            sent = response.json().get("sentMessages") or []
            return str(sent[0]["id"]) if sent else response.headers.get("x-line-request-id", "")
        except (ValueError, KeyError, IndexError, AttributeError):
            return response.headers.get("x-line-request-id", "")

    @staticmethod
    def _raise(response: Any) -> None:
        try:
            detail = response.json().get("message", "")
        except ValueError:
            detail = ""
        reason = f"LINE answered {response.status_code}" + (f": {detail}" if detail else "")
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientSendError(reason, status=response.status_code,
                                     retry_after=retry_after_seconds(response))
        raise PermanentSendError(reason, status=response.status_code)

    # --- media ---------------------------------------------------------------------

    def fetch_media(self, ref: str) -> Media:
        base = (self.config("data_api_base_url") or DATA_API_BASE).rstrip("/")
        response = http_call("GET", f"{base}/v2/bot/message/{ref}/content", headers=self._auth())
        if response.status_code != 200:
            self._raise(response)
        return Media(response.content, response.headers.get("content-type", "application/octet-stream"))
