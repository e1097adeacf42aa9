"""SMS through an HTTP gateway whose request format is configured per account, with presets.

Sending: one HTTP request per message, built from the account's settings —
method, URL, authentication (`basic` with api_key / api_secret, `bearer` or
`header` with api_token, or `none`), body as a form, JSON or query string, and
`fields`: the request's field names with templated values (`{to}`, `{text}`,
`{sender}`, `{force}`, `{idempotency_key}`; any other text is sent as it is).
The answer is read with dotted paths: `id_path` (the provider's message id,
kept to match delivery reports), `error_path` (the provider's reason on a
refusal) and `reject_path` (a list that, when not empty, means the number was
refused although the HTTP status was 2xx). HTTP 5xx/429 and connection
failures are retried with backoff; other 4xx fail at once. The gateway does not
deduplicate, so a read timeout (it may have sent the SMS) is not retried.

Receiving: inbound SMS and delivery reports arrive at the webhook (POST as JSON
or a form; GET with the fields in the query string when `webhook_get` is on).
Authenticity, as the provider allows: `hmac` — a header (`signature_header`)
holding HMAC-SHA256 of the raw body with the webhook secret, hex or base64,
with an optional prefix such as "sha256="; or `token` — the webhook secret in
the URL (`?token=…`, shown in the account's webhook URL) or in an
`X-Webhook-Token` header, for gateways that cannot sign. A report is
recognised by its message id and status fields (`dr_id_field`,
`dr_status_field`), an inbound SMS by sender and text (`mo_from_field`,
`mo_text_field`); a field setting may list alternatives separated by "|".
Phone numbers are normalised to E.164 (customers.identity.normalise_phone), so
the sender is a phone identity that links to a customer exactly.

ThaiBulkSMS (preset `thaibulksms`): `POST https://api-v2.thaibulksms.com/sms`,
HTTP Basic auth with the API key and secret, a form with `msisdn` (66…),
`message`, `sender` and `force` (`standard` or `corporate` credit); the answer
lists accepted numbers in `phone_number_list[].message_id` and refused ones in
`bad_phone_number_list`, errors as `{"error": {"code", "name", "description"}}`.
Its delivery reports call a webhook URL set per API key in its dashboard (GET
or POST) with `message_id`, `status` and the number; they are not signed, so
the preset uses the URL token. See docs/channels-and-inbox.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets as secrets_module
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.utils.translation import gettext_lazy as _

from samphan.channels.adapters.base import (
    CaseInsensitiveHeaders,
    ChannelAdapter,
    FieldSpec,
    InboundEvent,
    MalformedPayload,
    OutboundPayload,
    PermanentSendError,
    SenderIdentity,
    SendResult,
    TransientSendError,
    http_call,
    retry_after_seconds,
)
from samphan.core.errors import ValidationFailed
from samphan.customers.identity import normalise_phone

# What a preset sets; an account's own config overrides any of it.
PRESETS: dict[str, dict[str, Any]] = {
    "thaibulksms": {
        "url": "https://api-v2.thaibulksms.com/sms",
        "method": "POST",
        "auth": "basic",
        "body": "form",
        "fields": {"msisdn": "{to}", "message": "{text}", "sender": "{sender}", "force": "{force}"},
        "to_format": "digits",
        "force": "standard",
        "id_path": "phone_number_list.0.message_id",
        "error_path": "error.description|error.name",
        "reject_path": "bad_phone_number_list",
        "webhook_auth": "token",
        "webhook_get": True,
        "dr_id_field": "message_id",
        "dr_status_field": "status",
        "dr_error_field": "error|description",
        "delivered_values": "delivered|success|delivrd|sent",
        "failed_values": "failed|fail|undelivered|undeliv|expired|rejected|error",
        "mo_from_field": "msisdn|phone|from",
        "mo_text_field": "message|text",
        "mo_id_field": "message_id|id",
        "mo_time_field": "timestamp|date",
        "max_length": 1000,
    },
    "generic": {
        "method": "POST",
        "auth": "bearer",
        "body": "json",
        "fields": {"to": "{to}", "from": "{sender}", "text": "{text}", "reference": "{idempotency_key}"},
        "to_format": "e164",
        "id_path": "id|message_id",
        "error_path": "error|message",
        "reject_path": "",
        "webhook_auth": "hmac",
        "webhook_get": False,
        "signature_header": "X-Signature",
        "signature_encoding": "hex",
        "signature_prefix": "",
        "dr_id_field": "message_id|id",
        "dr_status_field": "status",
        "dr_error_field": "error",
        "delivered_values": "delivered",
        "failed_values": "failed|undelivered|expired|rejected",
        "mo_from_field": "from",
        "mo_text_field": "text",
        "mo_id_field": "id|message_id",
        "mo_time_field": "timestamp",
        "max_length": 1600,
    },
}
AUTH_MODES = ("none", "basic", "bearer", "header")
BODY_MODES = ("form", "json", "query")
TO_FORMATS = ("e164", "digits", "national")
WEBHOOK_AUTH_MODES = ("token", "hmac")
_TEMPLATE = re.compile(r"\{(\w+)\}")


def dig(data: Any, path: str) -> Any:
    """The value at a dotted path (list items by index): "phone_number_list.0.message_id"."""
    for alternative in (p.strip() for p in str(path or "").split("|")):
        if not alternative:
            continue
        value = data
        for key in alternative.split("."):
            if isinstance(value, dict) and key in value:
                value = value[key]
            elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
                value = value[int(key)]
            else:
                value = None
                break
        if value not in (None, ""):
            return value
    return None


def field_value(item: Mapping[str, Any], names: str) -> str:
    for name in str(names or "").split("|"):
        value = item.get(name.strip()) if name.strip() else None
        if value not in (None, ""):
            return str(value)
    return ""


def format_number(e164: str, style: str) -> str:
    if style == "digits":
        return e164.lstrip("+")
    if style == "national" and e164.startswith("+66"):
        return "0" + e164[3:]
    return e164


def _values(setting: Any) -> set[str]:
    if isinstance(setting, list | tuple):
        return {str(v).strip().lower() for v in setting}
    return {v.strip().lower() for v in str(setting or "").split("|") if v.strip()}


class SmsAdapter(ChannelAdapter):
    provider = "sms"
    label = _("SMS (HTTP gateway)")
    identity_kind = "phone"
    secret_fields = ("api_key", "api_secret", "api_token", "webhook_secret")
    required_secrets = ("webhook_secret",)
    config_fields = ("preset", "sender", "force", "url", "method", "auth", "auth_header", "body", "fields",
                     "to_format", "id_path", "error_path", "reject_path", "webhook_auth", "webhook_get",
                     "signature_header", "signature_encoding", "signature_prefix", "dr_id_field",
                     "dr_status_field", "dr_error_field", "delivered_values", "failed_values", "mo_from_field",
                     "mo_text_field", "mo_id_field", "mo_time_field", "max_length")
    field_specs = {
        "api_key": FieldSpec(_("API key"), "password", _("ThaiBulkSMS: the key from its dashboard.")),
        "api_secret": FieldSpec(_("API secret"), "password"),
        "api_token": FieldSpec(_("API token"), "password", _("For bearer or header authentication.")),
        "webhook_secret": FieldSpec(_("Webhook secret"), "password",
                                    _("Signs or authenticates delivery reports; blank on a new account: generated.")),
        "preset": FieldSpec(_("Gateway"), "choice", _("A preset fills in the request format; any field below "
                                                      "overrides it."),
                            choices=(("thaibulksms", "ThaiBulkSMS"), ("generic", _("Custom HTTP gateway")))),
        "sender": FieldSpec(_("Sender name"), "text", _("As registered with the gateway."), placeholder="BAANSUAN"),
        "force": FieldSpec(_("Credit type"), "choice", choices=(("standard", _("Standard")),
                                                                ("corporate", _("Corporate")))),
        "url": FieldSpec(_("Send endpoint"), "url"),
        "method": FieldSpec(_("HTTP method"), "choice", choices=(("POST", "POST"), ("GET", "GET")), advanced=True),
        "auth": FieldSpec(_("Authentication"), "choice", choices=(
            ("basic", _("HTTP Basic (API key and secret)")), ("bearer", _("Bearer token")),
            ("header", _("Token in a header")), ("none", _("None"))), advanced=True),
        "auth_header": FieldSpec(_("Token header"), advanced=True),
        "body": FieldSpec(_("Request body"), "choice", choices=(("form", _("Form")), ("json", "JSON"),
                                                               ("query", _("Query string"))), advanced=True),
        "fields": FieldSpec(_("Request fields"), "json", _('JSON: field → value; {to}, {text}, {sender}, {force} '
                                                          'and {idempotency_key} are filled in.'), advanced=True),
        "to_format": FieldSpec(_("Number format"), "choice", choices=(
            ("e164", "+66812345678"), ("digits", "66812345678"), ("national", "0812345678")), advanced=True),
        "webhook_auth": FieldSpec(_("Webhook authentication"), "choice", choices=(
            ("token", _("Token in the URL")), ("hmac", _("HMAC signature"))), advanced=True),
        "webhook_get": FieldSpec(_("Reports arrive as GET requests"), "bool", advanced=True),
        "max_length": FieldSpec(_("Longest message (characters)"), "number", advanced=True),
        **{name: FieldSpec(advanced=True) for name in (
            "id_path", "error_path", "reject_path", "signature_header", "signature_encoding", "signature_prefix",
            "dr_id_field", "dr_status_field", "dr_error_field", "delivered_values", "failed_values",
            "mo_from_field", "mo_text_field", "mo_id_field", "mo_time_field")},
    }
    stored_headers = ("content-type", "user-agent")

    # --- settings --------------------------------------------------------------------

    @classmethod
    def prepare_settings(cls, *, secrets: dict[str, Any], config: dict[str, Any]) -> None:
        # Every account gets a webhook secret: the provider signs with it or puts it in the URL.
        if not secrets.get("webhook_secret"):
            secrets["webhook_secret"] = secrets_module.token_urlsafe(24)
        config.setdefault("preset", "generic")

    @classmethod
    def config_defaults(cls, config: dict[str, Any]) -> dict[str, Any]:
        return dict(PRESETS.get(str(config.get("preset") or "generic"), {}))

    @classmethod
    def settings_of(cls, config: Mapping[str, Any]) -> dict[str, Any]:
        preset = PRESETS.get(str(config.get("preset") or "generic"), {})
        return {**preset, **{k: v for k, v in config.items() if v not in (None, "")}}

    @classmethod
    def validate_settings(cls, *, secrets: dict[str, Any], config: dict[str, Any]) -> list[str]:
        problems = super().validate_settings(secrets=secrets, config=config)
        preset = str(config.get("preset") or "generic")
        if preset not in PRESETS:
            problems.append(f"preset must be one of {', '.join(sorted(PRESETS))}")
            return problems
        s = cls.settings_of(config)
        if not s.get("url"):
            problems.append("url is required (the gateway's send endpoint)")
        elif not str(s["url"]).startswith(("https://", "http://")):
            problems.append("url must start with https:// or http://")
        for name, allowed in (("auth", AUTH_MODES), ("body", BODY_MODES), ("to_format", TO_FORMATS),
                              ("webhook_auth", WEBHOOK_AUTH_MODES)):
            if s.get(name) not in allowed:
                problems.append(f"{name} must be one of {', '.join(allowed)}")
        if s.get("auth") == "basic" and not (secrets.get("api_key") and secrets.get("api_secret")):
            problems.append("api_key and api_secret are required (HTTP Basic authentication)")
        if s.get("auth") in ("bearer", "header") and not secrets.get("api_token"):
            problems.append("api_token is required")
        if s.get("auth") == "header" and not s.get("auth_header"):
            problems.append("auth_header is required (the header that carries api_token)")
        if not isinstance(s.get("fields"), dict) or not s["fields"]:
            problems.append("fields must be an object: request field → value template")
        if "{sender}" in json.dumps(s.get("fields") or {}) and not s.get("sender"):
            problems.append("sender is required (the sender name registered with the gateway)")
        return problems

    @property
    def settings(self) -> dict[str, Any]:
        return self.settings_of(self.account.config or {})

    def webhook_query(self) -> str:
        if self.settings.get("webhook_auth") == "token":
            return "?" + urlencode({"token": self.secrets.get("webhook_secret", "")})
        return ""

    # --- verify -----------------------------------------------------------------------

    def verify(self, headers: Mapping[str, str], body: bytes) -> bool:
        return self.verify_request(headers, body, {})

    def verify_request(self, headers: Mapping[str, str], body: bytes, params: Mapping[str, str]) -> bool:
        secret = str(self.secrets.get("webhook_secret") or "")
        if not secret:
            return False
        h = CaseInsensitiveHeaders(headers)
        s = self.settings
        if s.get("webhook_auth") == "token":
            given = str(params.get("token") or h.get("x-webhook-token") or "")
            return hmac.compare_digest(given.encode(), secret.encode())
        given = str(h.get(str(s.get("signature_header") or "X-Signature")) or "")
        prefix = str(s.get("signature_prefix") or "")
        if prefix and given.startswith(prefix):
            given = given[len(prefix):]
        digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
        if s.get("signature_encoding") == "base64":
            import base64

            expected = base64.b64encode(digest).decode()
        else:
            expected, given = digest.hex(), given.lower()
        return hmac.compare_digest(expected.encode(), given.strip().encode())

    def get_event_body(self, query_string: str) -> bytes | None:
        if not self.settings.get("webhook_get"):
            return None
        pairs = [(k, v) for k, v in parse_qsl(query_string, keep_blank_values=True) if k != "token"]
        # The token authenticates the request; it is not part of the event (and never stored).
        return urlencode(pairs).encode() if pairs else None

    # --- parse --------------------------------------------------------------------------

    @staticmethod
    def _decode(body: bytes) -> Any:
        text = body.decode("utf-8")
        stripped = text.lstrip()
        if stripped.startswith(("{", "[")):
            return json.loads(text)
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        return dict(pairs)

    def precheck(self, body: bytes) -> str:
        try:
            data = self._decode(body)
        except (UnicodeDecodeError, ValueError) as exc:
            return f"the body is neither JSON nor a form: {' '.join(str(exc).split())[:200]}"
        if not isinstance(data, dict | list) or not data:
            return "the body is empty"
        return ""

    def parse(self, body: bytes) -> list[InboundEvent]:
        try:
            data = self._decode(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise MalformedPayload(f"the body is neither JSON nor a form: {' '.join(str(exc).split())[:200]}") from None
        items = data if isinstance(data, list) else (data.get("events") if isinstance(data.get("events"), list)
                                                     else [data])
        s = self.settings
        events = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise MalformedPayload(f"item {index} is not an object")
            events.append(self._parse_item(index, item, s))
        return events

    def _parse_item(self, index: int, item: dict[str, Any], s: dict[str, Any]) -> InboundEvent:
        where = f"item {index}: " if index else ""
        report_id = field_value(item, s.get("dr_id_field", ""))
        status = field_value(item, s.get("dr_status_field", ""))
        text = field_value(item, s.get("mo_text_field", ""))
        sender = field_value(item, s.get("mo_from_field", ""))
        occurred = _time(field_value(item, s.get("mo_time_field", "")))
        if status and report_id and not text:
            raw = status.strip().lower()
            outcome = ("delivered" if raw in _values(s.get("delivered_values")) else
                       "failed" if raw in _values(s.get("failed_values")) else raw[:16])
            phone = ""
            if sender:
                try:
                    phone = normalise_phone(sender)
                except ValidationFailed:
                    phone = ""
            return InboundEvent(kind="delivery", dedupe_key=f"dr:{report_id}:{raw}"[:255],
                                sender=SenderIdentity("phone", phone), occurred_at=occurred,
                                external_id=report_id[:255], message_type="delivery",
                                meta={"status": outcome, "provider_status": status[:100],
                                      "error": field_value(item, s.get("dr_error_field", ""))[:500]})
        if not sender or not text:
            fields = ", ".join(sorted(item)[:20]) or "none"
            raise MalformedPayload(
                f"{where}neither an inbound SMS (sender {s.get('mo_from_field')!r} and text "
                f"{s.get('mo_text_field')!r}) nor a delivery report (message id {s.get('dr_id_field')!r} and "
                f"status {s.get('dr_status_field')!r}); fields present: {fields}")
        try:
            phone = normalise_phone(sender)
        except ValidationFailed as exc:
            raise MalformedPayload(f"{where}sender: {exc.message}") from None
        message_id = field_value(item, s.get("mo_id_field", ""))
        dedupe = (f"mo:{message_id}" if message_id else
                  "mo-sha256:" + hashlib.sha256(f"{phone}\n{text}\n{occurred.isoformat()}".encode()).hexdigest())
        return InboundEvent(kind="message", dedupe_key=dedupe[:255], sender=SenderIdentity("phone", phone),
                            occurred_at=occurred, thread_key=phone, external_id=message_id[:255],
                            message_type="sms", text=text, meta={"to": field_value(item, "to|shortcode")[:50]})

    # --- send ---------------------------------------------------------------------------

    def build_request(self, message: OutboundPayload, *, idempotency_key: str) -> dict[str, Any]:
        """The HTTP request for one SMS: {"method", "url", "headers", "auth", and "data" | "json" | "params"}."""
        s = self.settings
        try:
            to = format_number(normalise_phone(message.to), str(s.get("to_format") or "e164"))
        except ValidationFailed as exc:
            raise PermanentSendError(f"cannot send an SMS to {message.to!r}: {exc.message}") from None
        text = message.text or ""
        if len(text) > int(s.get("max_length") or 1600):
            raise PermanentSendError(f"the text is longer than {s.get('max_length')} characters for one SMS")
        values = {"to": to, "text": text, "sender": str(s.get("sender") or ""), "force": str(s.get("force") or ""),
                  "idempotency_key": idempotency_key}
        fields = {}
        for name, template in (s.get("fields") or {}).items():
            if isinstance(template, str):
                rendered = _TEMPLATE.sub(lambda m: values.get(m.group(1), m.group(0)), template)
                if rendered != "" or "{" not in template:
                    fields[name] = rendered
            else:
                fields[name] = template
        request: dict[str, Any] = {"method": str(s.get("method") or "POST").upper(), "url": str(s["url"]),
                                   "headers": {"Accept": "application/json"}}
        auth = s.get("auth")
        if auth == "basic":
            request["auth"] = (str(self.secrets.get("api_key", "")), str(self.secrets.get("api_secret", "")))
        elif auth == "bearer":
            request["headers"]["Authorization"] = f"Bearer {self.secrets.get('api_token', '')}"
        elif auth == "header":
            request["headers"][str(s.get("auth_header"))] = str(self.secrets.get("api_token", ""))
        body = s.get("body")
        request["json" if body == "json" else "params" if body == "query" else "data"] = fields
        return request

    def send(self, message: OutboundPayload, *, idempotency_key: str) -> SendResult:
        request = self.build_request(message, idempotency_key=idempotency_key)
        response = http_call(request.pop("method"), request.pop("url"), **request)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        s = self.settings
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientSendError(self._reason(response, answer), status=response.status_code,
                                     retry_after=retry_after_seconds(response))
        if response.status_code >= 400:
            raise PermanentSendError(self._reason(response, answer), status=response.status_code)
        rejected = dig(answer, s.get("reject_path", "")) if s.get("reject_path") else None
        if rejected:
            detail = json.dumps(rejected, ensure_ascii=False)[:300]
            raise PermanentSendError(f"the gateway refused the number: {detail}", status=response.status_code)
        provider_id = dig(answer, s.get("id_path", "")) if answer is not None else None
        return SendResult(str(provider_id or ""), method="sms")

    def _reason(self, response: Any, answer: Any) -> str:
        detail = dig(answer, self.settings.get("error_path", "")) if answer is not None else None
        if detail is None and answer is None:
            detail = " ".join(response.text.split())[:200]
        return f"the SMS gateway answered {response.status_code}" + (f": {detail}" if detail else "")


def _time(value: str) -> datetime:
    """A gateway's timestamp (Unix seconds or milliseconds, or ISO 8601); now when absent or unreadable."""
    value = (value or "").strip()
    now = datetime.now(UTC)
    if not value:
        return now
    try:
        number = float(value)
        return min(datetime.fromtimestamp(number / 1000 if number > 1e11 else number, tz=UTC), now)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "T"))
    except ValueError:
        return now
    if parsed.tzinfo is None:  # a gateway's local time: the install's time zone (Asia/Bangkok by default)
        from django.utils import timezone

        parsed = parsed.replace(tzinfo=timezone.get_default_timezone())
    return min(parsed, now)
