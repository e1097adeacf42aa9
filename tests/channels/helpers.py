"""Signing and posting webhooks exactly as LINE and Facebook do, from the recorded fixtures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

LINE_SECRET = "8c5e1f0b2a3d4c6e8f9a0b1c2d3e4f50"  # the shape of a LINE channel secret (32 hex)
LINE_TOKEN = "line-channel-access-token-for-tests"
FB_APP_SECRET = "3f1b9c0d7e2a4b6c8d0e1f2a3b4c5d6e"
FB_PAGE_TOKEN = "EAAG-page-access-token-for-tests"
FB_VERIFY_TOKEN = "samphan-verify-โทเคน"
FB_PAGE_ID = "104729375231234"
LINE_USER = "U4af4980629a1b2c3d4e5f60718293a4b"
LINE_USER_2 = "U206d25c2ea6bd87c17655609a1c37cb8"


def fixture(provider: str, name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / provider / f"{name}.json").read_text(encoding="utf-8"))


def as_body(data: dict[str, Any]) -> bytes:
    # LINE sends compact UTF-8 JSON; the signature is over these exact bytes.
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def line_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode()


def facebook_signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def now_ms() -> int:
    return int(time.time() * 1000)


def line_fresh(data: dict[str, Any]) -> dict[str, Any]:
    """The fixture with its timestamps moved to now (a reply token is only fresh for a minute)."""
    for event in data["events"]:
        event["timestamp"] = now_ms()
    return data


def line_text_event(*, event_id: str, message_id: str, user_id: str = LINE_USER, text: str = "hello",
                    timestamp: int | None = None, redelivery: bool = False,
                    reply_token: str | None = "") -> dict[str, Any]:
    event = {
        "type": "message",
        "message": {"type": "text", "id": message_id, "quoteToken": f"qt-{message_id}", "text": text},
        "webhookEventId": event_id,
        "deliveryContext": {"isRedelivery": redelivery},
        "timestamp": timestamp or now_ms(),
        "source": {"type": "user", "userId": user_id},
        "mode": "active",
    }
    if reply_token:
        event["replyToken"] = reply_token
    return event


def post_line(client, account, data: dict[str, Any] | bytes, *, secret: str = LINE_SECRET, signature: str | None = None):
    body = data if isinstance(data, bytes) else as_body(data)
    sig = signature if signature is not None else line_signature(secret, body)
    return client.post(f"/webhooks/line/{account.uuid}", data=body, content_type="application/json",
                       headers={"x-line-signature": sig})


def post_facebook(client, account, data: dict[str, Any] | bytes, *, signature: str | None = None):
    body = data if isinstance(data, bytes) else as_body(data)
    sig = signature if signature is not None else facebook_signature(FB_APP_SECRET, body)
    return client.post(f"/webhooks/facebook/{account.uuid}", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": sig})


# --- e-mail ---------------------------------------------------------------------------------


def customer_mail(*, from_addr: str = "Somchai Jaidee <somchai@example.com>", to: str = "shop@baansuan.example",
                  subject: str = "สอบถามราคากาแฟ", text: str = "ขอราคากาแฟคั่วกลาง 10 ถุงครับ",
                  message_id: str | None = None, in_reply_to: str | None = None, references: str | None = None,
                  html: str | None = None, attachments: list[tuple[str, str, bytes]] | None = None,
                  date: str | None = None) -> bytes:
    """A mail as a customer's mail client sends it (policy SMTP: CRLF, RFC 2047 headers, UTF-8 body)."""
    import email.utils
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage(policy=SMTP)
    msg["From"] = from_addr
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = date or email.utils.formatdate(localtime=True)
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    if html is not None and text is None:
        msg.set_content(html, subtype="html")
    else:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    for filename, ctype, data in attachments or []:
        maintype, _, subtype = ctype.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()
