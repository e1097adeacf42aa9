"""The one interface every channel implements, and the normalised shapes it speaks.

An adapter is built for one ChannelAccount and does four things:

- `verify(headers, body)`: is this request really from the provider? Checked
  on the raw bytes, before anything is stored.
- `parse(body)`: the provider's payload → a list of `InboundEvent`s, or
  `MalformedPayload` with a reason a person can read.
- `send(message, idempotency_key=...)`: one `OutboundPayload` → a `SendResult`,
  or `TransientSendError` (try again later) / `PermanentSendError` (do not).
- `fetch_media(ref)`: the bytes of an attachment the provider keeps.

Push channels (LINE, Facebook, SMS delivery reports, web chat) arrive through
`/webhooks/<provider>/<account uuid>`; pull channels (an IMAP mailbox) implement
`poll(cursor)` and hand back raw bodies (and where to resume) that go through
the same store → parse → ingest pipeline. `precheck(body)` says whether a
stored body can be read at all (JSON by default; a raw e-mail or a form post
for others). `handshake(params)` answers a provider's GET verification
(Facebook's hub.challenge). New providers add a class and one line to
`samphan.channels.adapters.DEFAULT_ADAPTERS`.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import httpx
from django.http import HttpResponse


class MalformedPayload(Exception):
    """A well-signed body we cannot read: stored as a failed webhook event with this reason."""


class SendError(Exception):
    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class TransientSendError(SendError):
    """Worth retrying later: HTTP 5xx/429, a timeout, the provider's rate limit.

    `ambiguous` is set when the request may have reached the provider (a read
    timeout): it is retried only by adapters whose provider drops a repeated
    idempotency key (`dedupes_retries`); others record a failure instead of
    risking a duplicate.
    """

    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None,
                 ambiguous: bool = False) -> None:
        super().__init__(reason, status=status)
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class PermanentSendError(SendError):
    """Retrying cannot help: bad recipient, expired token, message refused."""


@dataclass(frozen=True)
class SenderIdentity:
    kind: str  # a customers Identity.Kind: "line", "facebook", "email", "phone", "webchat"
    value: str
    display_name: str = ""


# In an attachment's ref, replaced by the stored webhook event's id once the pipeline knows it:
# pull channels whose media live inside the stored body (an e-mail's parts) point at it this way.
WEBHOOK_EVENT_REF = "{webhook_event}"


@dataclass
class Attachment:
    type: str  # image, video, audio, file, sticker, location, ...
    ref: str = ""  # what fetch_media takes (a provider message id, a URL, "<webhook event id>/<part>")
    url: str = ""
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class InboundEvent:
    """One thing that happened on a channel, in Samphan's words.

    `dedupe_key` is unique per channel account for everything that lands as a
    message (LINE webhookEventId, Facebook mid / comment_id); `thread_key`
    names the conversation thread on the channel (a LINE user, a Messenger
    PSID, a commenter on one post).
    """

    kind: str  # message / comment / postback / follow / unfollow / identify (meta["identities"]) / post (a feed post: listening only) / delivery (a delivery report)
    dedupe_key: str
    sender: SenderIdentity
    occurred_at: datetime
    thread_key: str = ""
    external_id: str = ""  # the provider's id of the message / comment
    message_type: str = "text"  # text, sticker, image, location, video, audio, file, postback, comment
    text: str = ""
    attachments: list[Attachment] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    reply_token: str = ""  # LINE: usable once, for about a minute
    reply_to: str = ""  # what a reply answers, e.g. a Facebook comment id, an e-mail's Message-ID
    # Ids of earlier messages this one answers, nearest first (e-mail In-Reply-To, then References):
    # the inbox puts it in the conversation of the first it knows, else in its own thread_key.
    references: list[str] = field(default_factory=list)
    webhook_event_id: int | None = None  # set by the pipeline

    @property
    def is_message(self) -> bool:
        return self.kind in ("message", "comment", "postback")


@dataclass
class OutboundPayload:
    to: str
    text: str = ""
    attachments: list[dict[str, Any]] = field(default_factory=list)
    reply_token: str = ""
    comment_id: str = ""  # Facebook: reply publicly under this comment
    # What the adapter recorded on the message being answered (InboundEvent.meta["reply_context"]):
    # for e-mail its Message-ID, References and Subject, so the reply threads in the customer's client.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class PollBatch:
    """What one poll fetched (raw bodies, oldest first) and the cursor to resume from next time."""

    bodies: list[bytes]
    cursor: dict[str, Any]


@dataclass
class SendResult:
    provider_message_id: str
    method: str = "send"  # reply / push / comment / send


@dataclass
class Media:
    content: bytes
    content_type: str = "application/octet-stream"


class CaseInsensitiveHeaders(dict):
    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__((k.lower(), v) for k, v in headers.items())

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


@dataclass(frozen=True)
class FieldSpec:
    """How the settings form shows one secret or config field of an adapter.

    kind: text, password (secrets are always password: write-only), number, choice, list (one
    per line → a list), json (an object), bool (a checkbox), textarea, url, email, color.
    An adapter lists only the fields worth describing in `field_specs`; any other name in
    `secret_fields` / `config_fields` gets a plain text box labelled with its name, so a new
    provider needs no template.
    """

    label: Any = ""  # a lazy translation
    kind: str = "text"
    help: Any = ""
    choices: tuple[tuple[str, Any], ...] = ()
    placeholder: str = ""
    advanced: bool = False  # shown folded, under "Advanced"


@dataclass(frozen=True)
class FormField:
    name: str
    secret: bool
    required: bool
    spec: FieldSpec

    @property
    def label(self) -> Any:
        return self.spec.label or self.name.replace("_", " ").capitalize()


class ChannelAdapter:
    provider: ClassVar[str] = ""
    label: ClassVar[Any] = ""  # a lazy translation: shown in the UI in the reader's language
    identity_kind: ClassVar[str] = ""
    # Secret names the account needs, in the order the UI and the CLI ask for them.
    secret_fields: ClassVar[tuple[str, ...]] = ()
    required_secrets: ClassVar[tuple[str, ...]] = ()
    config_fields: ClassVar[tuple[str, ...]] = ()
    # Headers worth keeping with a stored webhook (never an Authorization header).
    stored_headers: ClassVar[tuple[str, ...]] = ("content-type", "user-agent")
    # True when the provider drops a repeated idempotency key, so an ambiguous
    # failure (a read timeout) may be retried without risking a duplicate.
    dedupes_retries: ClassVar[bool] = False
    # Pull channels (IMAP) set this and implement poll().
    polls: ClassVar[bool] = False
    # Accounts have an embed snippet a site pastes (web chat's script tag).
    embeddable: ClassVar[bool] = False
    # How the settings form shows fields (see FieldSpec); the rest get a text box.
    field_specs: ClassVar[dict[str, FieldSpec]] = {}
    # Config fields the form requires (secrets use required_secrets).
    required_config: ClassVar[tuple[str, ...]] = ()

    def __init__(self, account: Any) -> None:
        self.account = account

    # --- configuration helpers ------------------------------------------------------

    @property
    def secrets(self) -> dict[str, Any]:
        return self.account.secrets

    def config(self, name: str, default: Any = None) -> Any:
        return (self.account.config or {}).get(name, default)

    @classmethod
    def prepare_settings(cls, *, secrets: dict[str, Any], config: dict[str, Any]) -> None:
        """Fill in what a new account may leave out (a generated webhook secret, a preset name), in place."""

    @classmethod
    def poll_interval(cls, config: dict[str, Any]) -> float:
        """Seconds between polls of a pull channel (config "poll_interval", at least 10, default 60)."""
        try:
            return max(10.0, float(config.get("poll_interval") or 60))
        except (TypeError, ValueError):
            return 60.0

    @classmethod
    def validate_settings(cls, *, secrets: dict[str, Any], config: dict[str, Any]) -> list[str]:
        """Problems with an account's settings, for the API / CLI to report (empty when fine)."""
        return [f"{name} is required" for name in cls.required_secrets if not secrets.get(name)]

    @classmethod
    def clean_config(cls, config: dict[str, Any]) -> dict[str, Any]:
        """The account's config normalised (e.g. origins lower-cased); ValidationFailed saying which field and why."""
        return config

    @classmethod
    def form_fields(cls) -> list[FormField]:
        """The settings form of an account: secrets first, then config, in declaration order."""
        return ([FormField(n, True, n in cls.required_secrets, cls.field_specs.get(n) or FieldSpec(kind="password"))
                 for n in cls.secret_fields] +
                [FormField(n, False, n in cls.required_config, cls.field_specs.get(n) or FieldSpec())
                 for n in cls.config_fields])

    @classmethod
    def config_defaults(cls, config: dict[str, Any]) -> dict[str, Any]:
        """What each config field is when left blank (an SMS preset's values), for placeholders."""
        return {}

    @classmethod
    def inbound_path(cls, account: Any) -> str:
        """Where the provider (or, for web chat, the widget) sends inbound traffic for this account."""
        return f"/webhooks/{account.provider}/{account.uuid}"

    @classmethod
    def embed_snippet(cls, account: Any, base_url: str) -> str:
        """HTML a site pastes to use the channel (web chat's script tag); empty for other providers."""
        return ""

    # --- the interface --------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        raise NotImplementedError

    def verify_request(self, headers: Mapping[str, str], body: bytes, params: Mapping[str, str]) -> bool:
        """verify() with the query string too, for providers that can only put a token in the URL."""
        return self.verify(headers, body)

    def get_event_body(self, query_string: str) -> bytes | None:
        """The event a GET to the webhook carries in its query string (some SMS gateways report
        that way), as the body to store; None when a GET is not an event (then handshake())."""
        return None

    def precheck(self, body: bytes) -> str:
        """Why a verified body cannot even be read ("" when it can): kept as a failed event with this reason."""
        try:
            json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            return f"the body is not JSON: {' '.join(str(exc).split())[:200]}"
        return ""

    def handshake(self, params: Mapping[str, str]) -> HttpResponse | None:
        """Answer a provider's GET verification; None means the provider has none (405)."""
        return None

    def parse(self, body: bytes) -> list[InboundEvent]:
        raise NotImplementedError

    def send(self, message: OutboundPayload, *, idempotency_key: str) -> SendResult:
        raise NotImplementedError

    def fetch_media(self, ref: str) -> Media:
        raise NotImplementedError

    def poll(self, cursor: dict[str, Any]) -> PollBatch:
        """Pull channels: new raw bodies since `cursor` (what the previous poll returned; {} at first)."""
        raise NotImplementedError

    def webhook_query(self) -> str:
        """A query string to append to the webhook URL shown to admins ("" for most providers)."""
        return ""

    def selected_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        h = CaseInsensitiveHeaders(headers)
        return {name: h[name] for name in self.stored_headers if name in h}


# --- HTTP for adapters ------------------------------------------------------------------

_local = threading.local()

DEFAULT_TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def http_client() -> httpx.Client:
    """One keep-alive client per thread and process (a forked worker child builds its own)."""
    client = getattr(_local, "client", None)
    if client is None or getattr(_local, "pid", None) != os.getpid():
        client = httpx.Client(timeout=DEFAULT_TIMEOUT, follow_redirects=False)
        _local.client, _local.pid = client, os.getpid()
    return client


def http_call(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """An HTTP request whose network failures become Transient/Permanent send errors.

    A failure to connect never reached the provider (safe to retry); a read
    timeout may have (ambiguous).
    """
    try:
        return http_client().request(method, url, **kwargs)
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise TransientSendError(f"could not connect: {type(exc).__name__}") from None
    except httpx.TimeoutException as exc:
        raise TransientSendError(f"no answer in time: {type(exc).__name__}", ambiguous=True) from None
    except httpx.TransportError as exc:
        raise TransientSendError(f"network error: {type(exc).__name__}", ambiguous=True) from None


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return float(value) if value else None
    except ValueError:
        return None
