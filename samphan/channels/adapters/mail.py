"""E-mail: a mailbox read over IMAP, replies sent over SMTP (stdlib imaplib, smtplib and email).

Inbound (a pull channel): `poll(cursor)` logs in, selects the mailbox read-only
and fetches, with BODY.PEEK[] (the mail stays unread for people using the same
mailbox), every message whose UID is above the last one fetched. The cursor
remembers UIDVALIDITY and that UID; when the server changes UIDVALIDITY (the
mailbox was rebuilt), UIDs mean nothing any more and the poll starts again from
the messages of the last `backfill_days` days — the dedupe key (Message-ID)
keeps mail already seen from becoming a second message. A new account also
starts with the last `backfill_days` (default 7) rather than the whole mailbox.

Parsing (`email`, policy.compat32 so that headers reach us raw and RFC 2047
words are decoded here, with the Thai charset names Python's codecs lack —
windows-874 — instead of policy.default's silent garbling): the From address is the sender's e-mail
identity; the text body is the text/plain part or, for HTML-only mail, the HTML
converted to text (html2text); Thai charsets (utf-8, tis-620, windows-874 /
cp874, iso-8859-11) are decoded, an unknown charset falls back to UTF-8, then
cp874, with replacement characters and a note in the message's meta rather than
losing the mail. Quoted history ("On … wrote:", "เมื่อ … เขียนว่า:", Outlook's
"-----Original Message-----", trailing "> " lines) is cut from the text; the
whole text stays in meta["full_text"]. Attachments become media fetched from the
stored mail (`fetch_media("<webhook event id>/<part>")`).

Threading: an InboundEvent carries the mail's In-Reply-To and References; the
inbox puts it in the conversation whose messages carry one of those Message-IDs
(ours included: a reply's Message-ID is recorded as the outbound's provider id),
otherwise in a new thread named after its own Message-ID.

Outbound: SMTP (SSL, STARTTLS or plain, with login when a password is set). The
Message-ID is derived from the outbound message's idempotency key, so every
attempt of one reply carries the same id; In-Reply-To and References point at
the customer's mail and the subject is "Re: <their subject>", so the reply
threads in their mail client. SMTP has no idempotency: a failure after the
message data was handed over (a dropped connection before the server's answer)
is ambiguous and is not retried (the outbox records "delivery unknown").
"""

from __future__ import annotations

import base64
import contextlib
import email
import hashlib
import imaplib
import re
import smtplib
import socket
import ssl
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import formatdate, getaddresses, parsedate_to_datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from samphan.channels.adapters.base import (
    WEBHOOK_EVENT_REF,
    Attachment,
    ChannelAdapter,
    FieldSpec,
    InboundEvent,
    MalformedPayload,
    Media,
    OutboundPayload,
    PermanentSendError,
    PollBatch,
    SenderIdentity,
    SendResult,
    TransientSendError,
)
from samphan.core.errors import ValidationFailed
from samphan.customers.identity import normalise_email

SECURITY_MODES = ("ssl", "starttls", "plain")
DEFAULT_PORTS = {"imap": {"ssl": 993, "starttls": 143, "plain": 143},
                 "smtp": {"ssl": 465, "starttls": 587, "plain": 25}}
TIMEOUT = 30.0
FETCH_CHUNK = 25  # messages per UID FETCH round trip
MAX_PER_POLL = 200  # the rest waits for the next poll (the cursor says where)
MAX_TEXT = 100_000
_MSGID_RE = re.compile(r"<[^<>\s]+>")
_RE_PREFIX = re.compile(r"^\s*((re|aw|sv|fw|fwd|ตอบกลับ|ตอบ)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
# Charset names mail clients use that Python's codecs do not know.
CHARSET_ALIASES = {"windows-874": "cp874", "x-windows-874": "cp874", "ms874": "cp874", "tis620": "tis-620",
                   "x-tis620": "tis-620", "iso-8859-11": "iso8859-11", "x-user-defined": "cp874",
                   "utf8": "utf-8", "unicode-1-1-utf-8": "utf-8"}

# Where quoted history starts: a line matching one of these, and everything below it.
_QUOTE_HEADERS = [
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),  # Gmail, Apple Mail, Thunderbird
    re.compile(r"^\s*เมื่อ.{0,300}เขียนว่า\s*:?\s*$", re.DOTALL),  # Gmail in Thai
    re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message|ข้อความต้นฉบับ|ข้อความที่ส่งต่อ)\s*-{2,}\s*$",
               re.IGNORECASE),
    re.compile(r"^\s*_{20,}\s*$"),  # Outlook's rule above "From: … Sent: …"
    re.compile(r"^\s*(From|จาก)\s*:\s.+$", re.IGNORECASE),  # only counts when followed by Sent/Date (below)
]
_OUTLOOK_NEXT = re.compile(r"^\s*(Sent|Date|ส่ง|วันที่|To|ถึง)\s*:", re.IGNORECASE)


# --- decoding ---------------------------------------------------------------------------


def decode_bytes(data: bytes, charset: str | None) -> tuple[str, str]:
    """(text, note): the bytes in their declared charset, or a readable fallback and why."""
    name = (charset or "").strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    if name:
        try:
            return data.decode(name), ""
        except LookupError:
            note = f"unknown charset {charset!r}"
        except UnicodeDecodeError:
            note = f"not valid {charset}"
    else:
        note = ""
    for fallback in ("utf-8", "cp874"):
        try:
            return data.decode(fallback), (f"{note}; read as {fallback}" if note else "")
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace"), (f"{note}; " if note else "") + "undecodable bytes replaced"


def part_text(part: Message) -> tuple[str, str]:
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = b""
    if not isinstance(payload, bytes):  # pragma: no cover - decode=True always gives bytes for leaf parts
        payload = str(payload).encode("utf-8", errors="replace")
    return decode_bytes(payload, part.get_content_charset())


def html_to_text(html: str) -> str:
    import html2text

    converter = html2text.HTML2Text()
    converter.body_width = 0  # no hard wrapping: the UI wraps
    converter.ignore_images = True
    converter.ignore_emphasis = True
    converter.ignore_tables = True
    converter.unicode_snob = True  # keep Thai and other non-ASCII as they are
    converter.protect_links = True
    text = "\n".join(line.rstrip() for line in converter.handle(html).splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def strip_quoted(text: str) -> str:
    """The new part of a reply: cut at the first line that starts quoted history."""
    lines = text.splitlines()
    cut = len(lines)
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        # A two-line "On <date>, <name>\n<address> wrote:" is common after wrapping.
        joined = line + " " + lines[i + 1] if i + 1 < len(lines) else line
        if any(p.match(line) for p in _QUOTE_HEADERS[:4]) or any(p.match(joined) for p in _QUOTE_HEADERS[:2]):
            cut = i
            break
        if _QUOTE_HEADERS[4].match(line) and i + 1 < len(lines) and _OUTLOOK_NEXT.match(lines[i + 1]):
            cut = i
            break
    kept = lines[:cut]
    # Trailing "> quoted" lines (and blank lines between them).
    while kept and (not kept[-1].strip() or kept[-1].lstrip().startswith(">")):
        kept.pop()
    result = "\n".join(kept).strip()
    return result or text.strip()  # a mail that is all quote keeps its text


def message_ids(value: str | None) -> list[str]:
    return _MSGID_RE.findall(str(value or ""))


def reply_subject(subject: str) -> str:
    subject = " ".join((subject or "").split())
    return "Re: " + _RE_PREFIX.sub("", subject) if subject else ""


def _raw_header(msg: Message, name: str) -> str | None:
    """A header as it arrived; raw 8-bit bytes (UTF-8 or cp874 headers, RFC 6532) decoded here."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            value = str(value)
            if any("\udc80" <= ch <= "\udcff" for ch in value):
                value, _ = decode_bytes(value.encode("ascii", "surrogateescape"), None)
            return value
    return None


def _header(msg: Message, name: str) -> str:
    value = _raw_header(msg, name)
    return " ".join(value.split()) if value is not None else ""


def _sender(msg: Message) -> tuple[str, str]:
    raw = _header(msg, "From")
    if not raw:
        raise MalformedPayload("the mail has no From address")
    try:
        addresses = getaddresses([raw])
    except Exception:
        addresses = []
    for name, addr in addresses:
        if addr and "@" in addr:
            try:
                normalise_email(addr)
            except ValidationFailed:
                continue
            return addr.strip(), " ".join(_decode_words(name, []).split())
    raise MalformedPayload(f"the From address {raw[:200]!r} is not an e-mail address")


def _parse_date(raw: str) -> datetime | None:
    try:
        value = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _occurred(msg: Message) -> datetime:
    """When the mail reached the mailbox: the top Received header (stamped by our mail server's clock),
    else the sender's Date header; never in the future."""
    value = None
    for key, raw in msg.raw_items():
        if key.lower() == "received":
            value = _parse_date(str(raw).rpartition(";")[2])
            break
    if value is None and (date_header := _header(msg, "Date")):
        value = _parse_date(date_header)
    now = datetime.now(UTC)
    return min(value, now) if value is not None else now


def _outbound_message_id(idempotency_key: str, domain: str) -> str:
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}.samphan@{domain}>"


# --- the adapter ---------------------------------------------------------------------------


class EmailAdapter(ChannelAdapter):
    provider = "email"
    label = _("E-mail (IMAP + SMTP)")
    identity_kind = "email"
    secret_fields = ("password", "smtp_password")
    required_secrets = ("password",)
    config_fields = ("imap_host", "imap_port", "imap_security", "imap_mailbox", "smtp_host", "smtp_port",
                     "smtp_security", "username", "smtp_username", "from_address", "from_name",
                     "poll_interval", "backfill_days", "tls_ca_file")
    required_config = ("imap_host", "smtp_host", "username")
    polls = True
    field_specs = {
        "password": FieldSpec(_("Password"), "password", _("The mailbox password, or an app password.")),
        "smtp_password": FieldSpec(_("SMTP password"), "password", _("Only when SMTP logs in with another one.")),
        "imap_host": FieldSpec(_("IMAP server"), placeholder="imap.example.com"),
        "imap_port": FieldSpec(_("IMAP port"), "number", _("Blank: 993 with SSL, else 143.")),
        "imap_security": FieldSpec(_("IMAP security"), "choice", choices=(
            ("ssl", _("SSL/TLS")), ("starttls", _("STARTTLS")), ("plain", _("None (local servers only)")))),
        "imap_mailbox": FieldSpec(_("Mailbox"), placeholder="INBOX"),
        "smtp_host": FieldSpec(_("SMTP server"), placeholder="smtp.example.com"),
        "smtp_port": FieldSpec(_("SMTP port"), "number", _("Blank: 587 with STARTTLS, 465 with SSL, else 25.")),
        "smtp_security": FieldSpec(_("SMTP security"), "choice", choices=(
            ("starttls", _("STARTTLS")), ("ssl", _("SSL/TLS")), ("plain", _("None (local servers only)")))),
        "username": FieldSpec(_("User name"), "text", _("Usually the mailbox's address."),
                              placeholder="shop@example.com"),
        "smtp_username": FieldSpec(_("SMTP user name"), "text", _("Blank: the same user name."), advanced=True),
        "from_address": FieldSpec(_("From address"), "email", _("Blank: the user name.")),
        "from_name": FieldSpec(_("From name"), placeholder="Baan Suan"),
        "poll_interval": FieldSpec(_("Check every (seconds)"), "number", _("At least 10; blank: 60.")),
        "backfill_days": FieldSpec(_("Fetch mail from the last (days)"), "number",
                                   _("When the account is new; blank: 7."), advanced=True),
        "tls_ca_file": FieldSpec(_("CA certificate file"), "text",
                                 _("Only for a server with a private certificate."), advanced=True),
    }

    # --- settings --------------------------------------------------------------------

    @classmethod
    def validate_settings(cls, *, secrets: dict[str, Any], config: dict[str, Any]) -> list[str]:
        problems = super().validate_settings(secrets=secrets, config=config)
        for name in ("imap_host", "smtp_host", "username"):
            if not config.get(name):
                problems.append(f"{name} is required")
        for name in ("imap_security", "smtp_security"):
            if config.get(name) and config[name] not in SECURITY_MODES:
                problems.append(f"{name} must be one of {', '.join(SECURITY_MODES)}")
        for name in ("imap_port", "smtp_port", "poll_interval", "backfill_days"):
            value = config.get(name)
            if value not in (None, "") and not str(value).isdigit():
                problems.append(f"{name} must be a whole number")
        sender = config.get("from_address") or config.get("username") or ""
        try:
            normalise_email(str(sender))
        except ValidationFailed:
            problems.append("from_address is required when the username is not an e-mail address")
        return problems

    def _security(self, service: str) -> str:
        mode = str(self.config(f"{service}_security") or ("ssl" if service == "imap" else "starttls")).lower()
        if mode not in SECURITY_MODES:
            raise PermanentSendError(f"{service}_security must be one of {', '.join(SECURITY_MODES)}")
        return mode

    def _port(self, service: str, mode: str) -> int:
        value = self.config(f"{service}_port")
        return int(value) if value not in (None, "") else DEFAULT_PORTS[service][mode]

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.config("tls_ca_file") or None)

    @property
    def from_address(self) -> str:
        return str(self.config("from_address") or self.config("username") or "")

    # --- inbound: IMAP -----------------------------------------------------------------

    def _imap(self) -> imaplib.IMAP4:
        mode = self._security("imap")
        host, port = str(self.config("imap_host")), self._port("imap", mode)
        try:
            if mode == "ssl":
                conn: imaplib.IMAP4 = imaplib.IMAP4_SSL(host, port, ssl_context=self._tls(), timeout=TIMEOUT)
            else:
                conn = imaplib.IMAP4(host, port, timeout=TIMEOUT)
                if mode == "starttls":
                    conn.starttls(ssl_context=self._tls())
        except (OSError, imaplib.IMAP4.error) as exc:
            raise TransientSendError(f"could not connect to the IMAP server {host}:{port}: {_reason(exc)}") from None
        try:
            imap_login(conn, str(self.config("username")), str(self.secrets.get("password", "")))
        except imaplib.IMAP4.error as exc:
            with contextlib.suppress(Exception):
                conn.logout()
            raise PermanentSendError(f"the IMAP server refused the login: {_reason(exc)}") from None
        return conn

    def poll(self, cursor: dict[str, Any]) -> PollBatch:
        conn = self._imap()
        try:
            return self._poll(conn, cursor)
        except imaplib.IMAP4.abort as exc:
            raise TransientSendError(f"the IMAP connection broke: {_reason(exc)}") from None
        except imaplib.IMAP4.error as exc:
            raise PermanentSendError(f"the IMAP server refused: {_reason(exc)}") from None
        except OSError as exc:
            raise TransientSendError(f"the IMAP connection failed: {_reason(exc)}") from None
        finally:
            with contextlib.suppress(Exception):
                conn.logout()

    def _poll(self, conn: imaplib.IMAP4, cursor: dict[str, Any]) -> PollBatch:
        mailbox = str(self.config("imap_mailbox") or "INBOX")
        status, data = conn.select(_quote_mailbox(mailbox), readonly=True)
        if status != "OK":
            raise PermanentSendError(f"cannot open the mailbox {mailbox!r}: {_reason(data)}")
        _, validity = conn.response("UIDVALIDITY")
        uidvalidity = int(validity[0]) if validity and validity[0] else 0
        last_uid = int(cursor.get("last_uid") or 0)
        if cursor.get("uidvalidity") != uidvalidity or not last_uid:
            days = int(self.config("backfill_days") or 7)
            since = (date.today() - timedelta(days=days)).strftime("%d-%b-%Y")
            status, data = conn.uid("SEARCH", "SINCE", since)  # no charset argument (imaplib skips a None)
            last_uid = 0
        else:
            status, data = conn.uid("SEARCH", "UID", f"{last_uid + 1}:*")
        if status != "OK":
            raise PermanentSendError(f"UID SEARCH failed: {_reason(data)}")
        # "n:*" always includes the highest UID even when it is below n: filter.
        uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last_uid)[:MAX_PER_POLL]
        bodies: list[bytes] = []
        for start in range(0, len(uids), FETCH_CHUNK):
            chunk = uids[start:start + FETCH_CHUNK]
            fetched = self._fetch(conn, chunk)
            for uid in chunk:
                if uid in fetched:
                    bodies.append(fetched[uid])
        new_cursor = {"uidvalidity": uidvalidity, "last_uid": max(uids) if uids else last_uid,
                      "mailbox": mailbox}
        return PollBatch(bodies=bodies, cursor=new_cursor)

    @staticmethod
    def _fetch(conn: imaplib.IMAP4, uids: list[int]) -> dict[int, bytes]:
        status, data = conn.uid("FETCH", ",".join(str(u) for u in uids), "(UID BODY.PEEK[])")
        if status != "OK":
            raise PermanentSendError(f"UID FETCH failed: {_reason(data)}")
        # imaplib gives (b'7 (UID 101 BODY[] {n}', body) then b')' — servers may put UID after the literal.
        result: dict[int, bytes] = {}
        pending: bytes | None = None
        for item in data:
            if isinstance(item, tuple):
                head, body = item
                match = re.search(rb"UID (\d+)", head)
                if match:
                    result[int(match.group(1))] = body
                    pending = None
                else:
                    pending = body
            elif isinstance(item, bytes) and pending is not None:
                match = re.search(rb"UID (\d+)", item)
                if match:
                    result[int(match.group(1))] = pending
                pending = None
        return result

    # --- parse ------------------------------------------------------------------------------

    def precheck(self, body: bytes) -> str:
        if not body.strip():
            return "the mail is empty"
        return ""

    def parse(self, body: bytes) -> list[InboundEvent]:
        msg = email.message_from_bytes(body, policy=policy.compat32)
        if not msg.keys():
            raise MalformedPayload("not an e-mail: no headers")
        address, display_name = _sender(msg)
        if address.lower() == self.from_address.lower():
            return []  # our own mail (a copy in the mailbox): never a customer message
        message_id = (message_ids(_header(msg, "Message-ID")) or [""])[0]
        if message_id.endswith(".samphan@" + self.from_address.rpartition("@")[2] + ">"):
            return []
        notes: list[str] = []
        subject = _decoded_header(msg, "Subject", notes)
        full_text, html = self._body(msg, notes)
        text = strip_quoted(full_text)[:MAX_TEXT]
        in_reply_to = message_ids(_header(msg, "In-Reply-To"))
        references = message_ids(_header(msg, "References"))
        # Nearest first: the direct parent, then References from the newest back.
        refs = list(dict.fromkeys(in_reply_to + references[::-1]))[:50]
        dedupe = message_id if message_id and len(message_id) <= 255 else \
            "sha256:" + hashlib.sha256(body).hexdigest()
        attachments = self._attachments(msg)
        meta: dict[str, Any] = {"subject": subject,
                                "from": f"{display_name} <{address}>" if display_name else address,
                                "to": _header(msg, "To")[:1000], "cc": _header(msg, "Cc")[:1000]}
        if message_id:
            meta["message_id"] = message_id
        if text != full_text.strip():
            meta["full_text"] = full_text[:MAX_TEXT]
        if html:
            meta["html_only"] = True
        if notes:
            meta["decoding"] = "; ".join(notes)[:500]
        auto = _header(msg, "Auto-Submitted")
        if auto and auto.lower() != "no":
            meta["auto_submitted"] = auto[:100]
        own_refs = ([message_id] if message_id else [])
        meta["reply_context"] = {"message_id": message_id, "subject": subject,
                                 "references": list(dict.fromkeys(references + in_reply_to + own_refs))[-20:]}
        return [InboundEvent(
            kind="message", dedupe_key=dedupe, external_id=message_id[:255],
            sender=SenderIdentity("email", address, display_name[:255]), occurred_at=_occurred(msg),
            thread_key=dedupe, message_type="email", text=text or (f"[{subject}]" if subject else ""),
            attachments=attachments, meta=meta, reply_to=message_id[:255], references=refs,
        )]

    def _body(self, msg: Message, notes: list[str]) -> tuple[str, str]:
        """(text, html): the first text/plain part (html ""), else the first text/html part converted."""
        plain = html = None
        for part in msg.walk():
            if part.is_multipart() or _is_attachment(part):
                continue
            ctype = part.get_content_type()
            if ctype == "text/plain" and plain is None:
                plain = part
            elif ctype == "text/html" and html is None:
                html = part
        if plain is not None:
            text, note = part_text(plain)
            if note:
                notes.append(note)
            return text.replace("\r\n", "\n").strip(), ""
        if html is not None:
            markup, note = part_text(html)
            if note:
                notes.append(note)
            return html_to_text(markup), markup
        return "", ""

    @staticmethod
    def _attachments(msg: Message) -> list[Attachment]:
        found: list[Attachment] = []
        for index, part in enumerate(msg.walk()):
            if part.is_multipart() or not _is_attachment(part):
                continue
            ctype = part.get_content_type()
            kind = ctype.split("/")[0] if ctype.split("/")[0] in ("image", "video", "audio") else "file"
            payload = part.get_payload(decode=True) or b""
            name = _filename(part)
            found.append(Attachment(type=kind, ref=f"{WEBHOOK_EVENT_REF}/{index}",
                                    meta={"file_name": name, "content_type": ctype, "file_size": len(payload)}))
        return found

    def fetch_media(self, ref: str) -> Media:
        from samphan.channels.models import WebhookEvent

        event_id, _, index = ref.partition("/")
        if not event_id.isdigit() or not index.isdigit():
            raise PermanentSendError(f"not an e-mail attachment reference: {ref!r}")
        event = WebhookEvent.objects.filter(pk=int(event_id), channel_account_id=self.account.pk).first()
        if event is None:
            raise PermanentSendError(f"the mail of attachment {ref!r} is not stored")
        msg = email.message_from_bytes(bytes(event.body), policy=policy.compat32)
        for i, part in enumerate(msg.walk()):
            if i == int(index) and not part.is_multipart():
                payload = part.get_payload(decode=True)  # bytes, or None, for a part that is not multipart
                return Media(payload if isinstance(payload, bytes) else b"", part.get_content_type())
        raise PermanentSendError(f"the mail has no part {index}")

    # --- outbound: SMTP ------------------------------------------------------------------------

    def build_message(self, message: OutboundPayload, *, idempotency_key: str) -> EmailMessage:
        sender = self.from_address
        domain = sender.rpartition("@")[2] or "localhost"
        context = message.context or {}
        mail = EmailMessage(policy=policy.SMTP)
        username, _, domain_part = sender.partition("@")
        mail["From"] = Address(str(self.config("from_name") or ""), username, domain_part)
        mail["To"] = message.to
        subject = reply_subject(str(context.get("subject") or "")) or str(self.config("default_subject") or "") \
            or f"{self.account.name}"
        mail["Subject"] = subject
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = _outbound_message_id(idempotency_key, domain)
        parent = str(context.get("message_id") or "")
        if parent:
            mail["In-Reply-To"] = parent
        references = [r for r in context.get("references") or [] if _MSGID_RE.fullmatch(str(r))]
        if parent and parent not in references:
            references.append(parent)
        if references:
            mail["References"] = " ".join(references[-20:])
        mail.set_content(message.text or "", charset="utf-8", cte="base64")
        return mail

    def send(self, message: OutboundPayload, *, idempotency_key: str) -> SendResult:
        try:
            mail = self.build_message(message, idempotency_key=idempotency_key)
        except (ValueError, TypeError, IndexError) as exc:
            raise PermanentSendError(f"cannot build the mail: {_reason(exc)}") from None
        mode = self._security("smtp")
        host, port = str(self.config("smtp_host")), self._port("smtp", mode)
        try:
            if mode == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=self._tls())
            else:
                smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
                if mode == "starttls":
                    smtp.starttls(context=self._tls())
        except (OSError, smtplib.SMTPException) as exc:
            raise TransientSendError(f"could not connect to the SMTP server {host}:{port}: {_reason(exc)}") from None
        try:
            password = self.secrets.get("smtp_password") or self.secrets.get("password")
            if password:
                try:
                    smtp_login(smtp, str(self.config("smtp_username") or self.config("username")), str(password))
                except smtplib.SMTPAuthenticationError as exc:
                    raise PermanentSendError(f"the SMTP server refused the login: {_reason(exc)}") from None
                except smtplib.SMTPNotSupportedError:
                    raise PermanentSendError("the SMTP server offers no login on this connection "
                                             "(try smtp_security starttls or ssl)") from None
            try:
                refused = smtp.send_message(mail)
            except smtplib.SMTPRecipientsRefused as exc:
                raise PermanentSendError(f"the SMTP server refused the recipient {message.to}: "
                                         f"{_reason(exc)}") from None
            except smtplib.SMTPResponseException as exc:
                # The server answered: it did not take the mail. 4xx is worth another try, 5xx is not.
                reason = f"the SMTP server answered {exc.smtp_code}: {_reason(exc.smtp_error)}"
                if 400 <= exc.smtp_code < 500:
                    raise TransientSendError(reason, status=exc.smtp_code) from None
                raise PermanentSendError(reason, status=exc.smtp_code) from None
            except (OSError, smtplib.SMTPServerDisconnected) as exc:
                # Cut off while handing the mail over: it may have been accepted.
                raise TransientSendError(f"the SMTP connection broke while sending: {_reason(exc)}",
                                         ambiguous=True) from None
            if refused:
                raise PermanentSendError(f"the SMTP server refused {', '.join(refused)}")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise TransientSendError(f"the SMTP connection failed before sending: {_reason(exc)}") from None
        except smtplib.SMTPResponseException as exc:
            reason = f"the SMTP server answered {exc.smtp_code}: {_reason(exc.smtp_error)}"
            if 400 <= exc.smtp_code < 500:
                raise TransientSendError(reason, status=exc.smtp_code) from None
            raise PermanentSendError(reason, status=exc.smtp_code) from None
        finally:
            with contextlib.suppress(Exception):
                smtp.quit()
        return SendResult(str(mail["Message-ID"]), method="smtp")

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False  # e-mail never arrives by webhook: the mailbox is polled


# --- helpers ----------------------------------------------------------------------------------


def _reason(value: Any) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, list | tuple):
        value = " ".join(v.decode("utf-8", errors="replace") if isinstance(v, bytes) else str(v) for v in value)
    if isinstance(value, BaseException):
        text = str(value) or type(value).__name__
        if isinstance(value, socket.timeout | TimeoutError):
            text = "timed out"
        value = text
    return " ".join(str(value).split())[:300]


def imap_login(conn: imaplib.IMAP4, username: str, password: str) -> None:
    """LOGIN, or AUTHENTICATE PLAIN (UTF-8, RFC 4616) for a user name or password imaplib's LOGIN cannot send."""
    if username.isascii() and password.isascii():
        conn.login(username, password)
        return
    if "AUTH=PLAIN" not in conn.capabilities:
        raise imaplib.IMAP4.error("the server offers no AUTH=PLAIN for a non-ASCII user name or password")
    token = b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")
    conn.authenticate("PLAIN", lambda _challenge: token)


def smtp_login(smtp: smtplib.SMTP, username: str, password: str) -> None:
    """One AUTH PLAIN (UTF-8 user name and password, RFC 4616) where offered, else smtplib's login.

    smtplib.login() encodes credentials as ASCII and, after a refusal, tries the
    next mechanism — some servers then wait for more and the send times out
    instead of failing at once with the server's 535.
    """
    smtp.ehlo_or_helo_if_needed()
    mechanisms = (smtp.esmtp_features.get("auth") or "").upper().split()
    if "PLAIN" not in mechanisms:
        smtp.login(username, password)
        return
    token = base64.b64encode(b"\0" + username.encode("utf-8") + b"\0" + password.encode("utf-8")).decode("ascii")
    code, response = smtp.docmd("AUTH", "PLAIN " + token)
    if code not in (235, 503):  # 503: already authenticated
        raise smtplib.SMTPAuthenticationError(code, response)


def _quote_mailbox(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _is_attachment(part: Message) -> bool:
    """A file rather than the body: marked as an attachment, not text, or text with a file name."""
    disposition = str(part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    maintype = part.get_content_maintype()
    if disposition == "attachment":
        return True
    if maintype in ("multipart", "message"):
        return False
    return maintype != "text" or bool(_filename(part))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        return ""
    notes: list[str] = []
    return _decode_words(name, notes)[:255]


def _decode_words(value: str, notes: list[str]) -> str:
    """RFC 2047 encoded words (=?tis-620?B?...?=) in any charset we can read, unknown ones with a fallback."""
    from email.header import decode_header

    if "=?" not in value:
        return value
    try:
        pieces = decode_header(value)
    except Exception:
        return value
    out = []
    for chunk, charset in pieces:
        if isinstance(chunk, bytes):
            text, note = decode_bytes(chunk, charset)
            if note:
                notes.append(note)
            out.append(text)
        else:
            out.append(chunk)
    return "".join(out)


def _decoded_header(msg: Message, name: str, notes: list[str]) -> str:
    raw = _raw_header(msg, name)
    if raw is None:
        return ""
    return " ".join(_decode_words(raw, notes).split())[:998]
