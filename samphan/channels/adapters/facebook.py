"""Facebook Page: Messenger messages and comments on the Page's feed.

- GET handshake: `hub.mode=subscribe`, `hub.verify_token` equal to the account's
  verify token (constant-time) → `hub.challenge` echoed as text; else 403.
- Signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`,
  compared with hmac.compare_digest on the raw bytes.
- Deduplicated on the message `mid` (Messenger, postbacks carry one too) and on
  `comment_id` (feed). Visitors' posts on the feed are events of kind "post" (for listening;
  the inbox takes messages and comments only). Echoes of the Page's own messages, delivery and read
  receipts, reactions, likes and edits are acknowledged and ignored.
- Replies: Messenger through the Send API (`POST /me/messages`, messaging_type
  RESPONSE); a comment is answered publicly under it (`POST /{comment-id}/comments`).
  The access token travels in the Authorization header, never in a URL that
  could be logged. The Graph API has no idempotency key, so an ambiguous
  failure (a read timeout) is recorded, not retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.http import HttpResponse
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
    retry_after_seconds,
)

GRAPH_BASE = "https://graph.facebook.com/v21.0"
# Graph API error codes that mean "later": unknown/service errors, rate limits.
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
# Feed items that are a visitor's post (not a comment, like or reaction).
FEED_POST_ITEMS = frozenset({"status", "post", "photo", "video", "share"})


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of the payload, or an empty one when the field is missing or of another type."""
    return value if isinstance(value, dict) else {}


class FacebookAdapter(ChannelAdapter):
    provider = "facebook"
    label = _("Facebook Page")
    identity_kind = "facebook"
    secret_fields = ("app_secret", "page_access_token", "verify_token")
    required_secrets = ("app_secret", "page_access_token", "verify_token")
    config_fields = ("page_id", "graph_base_url")
    required_config = ("page_id",)
    field_specs = {
        "app_secret": FieldSpec(_("App secret"), "password", _("Meta for Developers → your app → Settings → Basic.")),
        "page_access_token": FieldSpec(_("Page access token"), "password",
                                       _("A long-lived token of the Page, with pages_messaging.")),
        "verify_token": FieldSpec(_("Verify token"), "password",
                                  _("Any phrase you choose; type the same in the app's webhook settings.")),
        "page_id": FieldSpec(_("Page id"), "text", _("The number in the Page's About → Page transparency."),
                             placeholder="104729375231234"),
        "graph_base_url": FieldSpec(_("Graph API address"), "url", _("Only for a proxy or a test server."),
                                    placeholder="https://graph.facebook.com", advanced=True),
    }
    stored_headers = ("content-type", "user-agent", "x-hub-signature-256")

    @classmethod
    def validate_settings(cls, *, secrets: dict[str, Any], config: dict[str, Any]) -> list[str]:
        problems = super().validate_settings(secrets=secrets, config=config)
        if not config.get("page_id"):
            problems.append("page_id is required")
        return problems

    # --- verify / handshake ----------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        header = CaseInsensitiveHeaders(headers).get("x-hub-signature-256") or ""
        secret = self.secrets.get("app_secret")
        if not secret or not header.startswith("sha256="):
            return False
        expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(expected.encode(), header.encode())

    def handshake(self, params: Mapping[str, str]) -> HttpResponse:
        token = self.secrets.get("verify_token") or ""
        given = params.get("hub.verify_token") or ""
        if params.get("hub.mode") == "subscribe" and token and hmac.compare_digest(token.encode(), given.encode()):
            return HttpResponse(params.get("hub.challenge", ""), content_type="text/plain")
        return HttpResponse("verification failed", status=403, content_type="text/plain")

    # --- parse -----------------------------------------------------------------------

    def parse(self, body: bytes) -> list[InboundEvent]:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedPayload(f"the body is not JSON: {' '.join(str(exc).split())[:200]}") from None
        if not isinstance(data, dict) or data.get("object") != "page" or not isinstance(data.get("entry"), list):
            raise MalformedPayload('expected {"object": "page", "entry": [...]}')
        page_id = _str(self.config("page_id"))
        events: list[InboundEvent] = []
        for e_index, entry in enumerate(data["entry"]):
            if not isinstance(entry, dict):
                raise MalformedPayload(f"entry {e_index} is not an object")
            for m_index, item in enumerate(entry.get("messaging") or []):
                event = self._messaging(item, f"entry {e_index} messaging {m_index}", page_id)
                if event is not None:
                    events.append(event)
            for c_index, change in enumerate(entry.get("changes") or []):
                event = self._change(change, f"entry {e_index} change {c_index}", page_id)
                if event is not None:
                    events.append(event)
        return events

    def _messaging(self, item: Any, where: str, page_id: str) -> InboundEvent | None:
        if not isinstance(item, dict):
            raise MalformedPayload(f"{where} is not an object")
        sender = _str((item.get("sender") or {}).get("id"))
        timestamp = item.get("timestamp")
        if "message" in item or "postback" in item:
            if not sender:
                raise MalformedPayload(f"{where}: sender.id is missing")
            if not isinstance(timestamp, int | float):
                raise MalformedPayload(f"{where}: timestamp is missing")
        occurred = datetime.fromtimestamp(timestamp / 1000, tz=UTC) if isinstance(timestamp, int | float) else None
        if "message" in item:
            message = item["message"]
            if not isinstance(message, dict) or not message.get("mid"):
                raise MalformedPayload(f"{where}: message.mid is missing")
            if message.get("is_echo") or sender == page_id:
                return None  # the Page's own message, echoed back
            attachments = []
            for att in message.get("attachments") or []:
                if isinstance(att, dict):
                    payload = att.get("payload") or {}
                    url = _str(payload.get("url")) if isinstance(payload, dict) else ""
                    att_meta = {k: v for k, v in (payload.items() if isinstance(payload, dict) else ()) if k != "url"}
                    attachments.append(Attachment(type=_str(att.get("type")), ref=url, url=url, meta=att_meta))
            mtype = "text" if message.get("text") is not None or not attachments else attachments[0].type
            meta: dict[str, Any] = {}
            if isinstance(message.get("quick_reply"), dict):
                meta["quick_reply"] = message["quick_reply"].get("payload")
            if isinstance(message.get("reply_to"), dict):
                meta["reply_to_mid"] = message["reply_to"].get("mid")
            return InboundEvent(kind="message", dedupe_key=message["mid"], external_id=message["mid"],
                                sender=SenderIdentity("facebook", sender), occurred_at=occurred,  # type: ignore[arg-type]
                                thread_key=f"psid:{sender}", message_type=mtype, text=_str(message.get("text")),
                                attachments=attachments, meta=meta)
        if "postback" in item:
            postback = item["postback"] if isinstance(item["postback"], dict) else {}
            mid = _str(postback.get("mid")) or f"postback:{sender}:{timestamp}"
            return InboundEvent(kind="postback", dedupe_key=mid, external_id=mid,
                                sender=SenderIdentity("facebook", sender), occurred_at=occurred,  # type: ignore[arg-type]
                                thread_key=f"psid:{sender}", message_type="postback",
                                text=_str(postback.get("title")), meta={"payload": postback.get("payload")})
        return None  # delivery, read, reaction, optin...: nothing for the inbox

    def _change(self, change: Any, where: str, page_id: str) -> InboundEvent | None:
        if not isinstance(change, dict):
            raise MalformedPayload(f"{where} is not an object")
        value = change.get("value")
        if change.get("field") != "feed" or not isinstance(value, dict):
            return None
        if value.get("item") in FEED_POST_ITEMS and value.get("verb") == "add":
            return self._post(value, where, page_id)
        if value.get("item") != "comment" or value.get("verb") != "add":
            return None  # likes, reactions, edits, removals
        comment_id = _str(value.get("comment_id"))
        author = _object(value.get("from"))
        author_id = _str(author.get("id"))
        post_id = _str(value.get("post_id"))
        if not comment_id or not author_id or not post_id:
            raise MalformedPayload(f"{where}: a comment needs comment_id, post_id and from.id")
        if author_id == page_id:
            return None  # the Page answering in its own feed
        created = value.get("created_time")
        if isinstance(created, int | float):
            occurred = datetime.fromtimestamp(created, tz=UTC)
        else:
            raise MalformedPayload(f"{where}: created_time is missing")
        return InboundEvent(
            kind="comment", dedupe_key=comment_id, external_id=comment_id,
            sender=SenderIdentity("facebook", author_id, _str(author.get("name"))), occurred_at=occurred,
            thread_key=f"post:{post_id}:{author_id}", message_type="comment", text=_str(value.get("message")),
            reply_to=comment_id,
            meta={"post_id": post_id, "parent_id": _str(value.get("parent_id")),
                  "permalink_url": _str((value.get("post") or {}).get("permalink_url"))
                  if isinstance(value.get("post"), dict) else ""},
            attachments=[Attachment(type="photo", ref=_str(value["photo"]), url=_str(value["photo"]))]
            if value.get("photo") else [],
        )

    def _post(self, value: dict[str, Any], where: str, page_id: str) -> InboundEvent | None:
        """A visitor's post on the Page's feed: kind "post" — listening takes it, the inbox does not."""
        post_id = _str(value.get("post_id"))
        author = _object(value.get("from"))
        author_id = _str(author.get("id"))
        if not post_id or not author_id:
            raise MalformedPayload(f"{where}: a post needs post_id and from.id")
        if author_id == page_id:
            return None  # the Page's own post
        created = value.get("created_time")
        if not isinstance(created, int | float):
            raise MalformedPayload(f"{where}: created_time is missing")
        return InboundEvent(
            kind="post", dedupe_key=post_id, external_id=post_id,
            sender=SenderIdentity("facebook", author_id, _str(author.get("name"))),
            occurred_at=datetime.fromtimestamp(created, tz=UTC), thread_key=f"post:{post_id}:{author_id}",
            message_type="post", text=_str(value.get("message")), reply_to=post_id,
            meta={"post_id": post_id, "permalink_url": _str(value.get("link") or value.get("permalink_url"))},
        )

    # --- send ------------------------------------------------------------------------

    def _graph(self) -> str:
        return (self.config("graph_base_url") or GRAPH_BASE).rstrip("/")

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.get('page_access_token', '')}"}

    def send(self, message: OutboundPayload, *, idempotency_key: str) -> SendResult:
        if message.comment_id:
            response = http_call("POST", f"{self._graph()}/{message.comment_id}/comments", headers=self._auth(),
                                 json={"message": message.text})
            if response.status_code == 200:
                return SendResult(_str(self._json(response).get("id")), method="comment")
        else:
            response = http_call("POST", f"{self._graph()}/me/messages", headers=self._auth(), json={
                "recipient": {"id": message.to}, "messaging_type": "RESPONSE", "message": {"text": message.text}})
            if response.status_code == 200:
                return SendResult(_str(self._json(response).get("message_id")), method="send")
        self._raise(response)
        raise AssertionError("unreachable")

    @staticmethod
    def _json(response: Any) -> dict[str, Any]:
        try:
            data = response.json()
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _raise(self, response: Any) -> None:
        error = self._json(response).get("error") or {}
        code = error.get("code") if isinstance(error, dict) else None
        detail = error.get("message", "") if isinstance(error, dict) else ""
        reason = f"Facebook answered {response.status_code}" + (f" (code {code}): {detail}" if code else "")
        if response.status_code == 429 or response.status_code >= 500 or code in TRANSIENT_CODES:
            raise TransientSendError(reason, status=response.status_code, retry_after=retry_after_seconds(response))
        raise PermanentSendError(reason, status=response.status_code)

    def fetch_media(self, ref: str) -> Media:
        # Messenger attachment payloads carry a signed CDN URL; no token is sent to it.
        response = http_call("GET", ref)
        if response.status_code != 200:
            raise PermanentSendError(f"could not fetch the attachment: HTTP {response.status_code}")
        return Media(response.content, response.headers.get("content-type", "application/octet-stream"))
