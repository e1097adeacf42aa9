"""The widget's files and the endpoints it calls from the embedding site.

    GET  /webchat/widget.js, /webchat/widget.css    the widget (static, cached, no CDN)
    GET  /webchat/<key>/config?lang=th              title, greeting, colour and UI strings
    GET  /webchat/<key>/messages?after=<id>         the visitor's transcript (polled)
    POST /webchat/<key>/messages {client_id, text}  a visitor's message → 202
    POST /webchat/<key>/email {email}               the visitor leaves an e-mail → 202
    POST /webchat/<key>/seen {up_to}                the widget showed replies up to this id

`<key>` is the channel account's public uuid (the script tag's data-channel).
Every request must come from a page on one of the account's allowed origins
(403 otherwise); answers are JSON, errors `{"code", "message"}` with a 4xx
status, never a 500 for anything a browser can send.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage

from samphan.channels.adapters.webchat import DEFAULT_COLOR
from samphan.channels.models import ChannelAccount, WebchatMessage
from samphan.channels.views import cached_account
from samphan.channels.webchat import services
from samphan.channels.webchat.cors import origin_allowed
from samphan.channels.webchat.visitor import (
    new_visitor_id,
    set_visitor_cookie,
    visitor_from_request,
    visitor_token,
)
from samphan.core.errors import SamphanError

logger = logging.getLogger("samphan.channels")

MAX_BODY = 16 * 1024
RATE_DEFAULTS = {
    "SAMPHAN_WEBCHAT_RATE_VISITOR": "20/m",  # messages per visitor
    "SAMPHAN_WEBCHAT_RATE_IP": "60/m",  # messages and e-mails per address (an office shares one)
    "SAMPHAN_WEBCHAT_RATE_EMAIL": "5/h",  # e-mails per visitor
    "SAMPHAN_WEBCHAT_RATE_POLL": "120/m",  # transcript reads per visitor or address
}


def _error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    response = JsonResponse({"code": code, "message": message, **extra}, status=status,
                            json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def _ok(data: dict[str, Any], status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "no-store"
    return response


def _rate(name: str) -> str:
    return getattr(settings, name, None) or RATE_DEFAULTS[name]


def _wait_seconds(request: HttpRequest, group: str, rate: str, visitor: str | None = None) -> int:
    """0 when allowed; else the seconds until the window resets. A cache outage lets the request through.

    Counted per visitor when one is given, else per address (REMOTE_ADDR, or
    RATELIMIT_IP_META_KEY behind a proxy; IPv6 per /64).
    """
    key: Any = (lambda g, r: visitor) if visitor else "ip"
    try:
        usage = get_usage(request, group=f"webchat.{group}", key=key, rate=rate, increment=True)
    except Exception:
        logger.exception("web chat rate limit unavailable (cache); letting the request through")
        return 0
    if usage is None or not usage["should_limit"]:
        return 0
    return max(int(usage["time_left"]), 1)


def _throttled(seconds: int) -> JsonResponse:
    response = _error(429, "rate_limited", f"too many requests; try again in {seconds} s", retry_after=seconds)
    response["Retry-After"] = str(seconds)
    return response


def _json_body(request: HttpRequest) -> dict[str, Any] | JsonResponse:
    try:
        length = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY:
        return _error(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
    try:
        raw = request.body
    except RequestDataTooBig:
        return _error(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
    except UnreadablePostError:
        return _error(400, "bad_request", "the body could not be read")
    if len(raw) > MAX_BODY:
        return _error(413, "too_large", f"the body is larger than {MAX_BODY} bytes")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        return _error(400, "bad_request", "the body is not JSON")
    if not isinstance(data, dict):
        return _error(400, "bad_request", "the body must be a JSON object")
    return data


def _language(value: Any) -> str:
    return "th" if isinstance(value, str) and value.lower().startswith("th") else "en"


def widget_endpoint(*methods: str) -> Callable:
    """Look up the account by its public key, refuse other origins and methods; domain errors → 4xx JSON."""

    def decorator(view: Callable) -> Callable:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, key: Any) -> HttpResponse:
            account = cached_account("webchat", key)
            if account is None:
                return _error(404, "not_found", "no web chat with this key")
            if request.method == "OPTIONS":
                return HttpResponse(status=204)
            if not origin_allowed(account, request.headers.get("origin")):
                return _error(403, "origin_not_allowed",
                              "this page's origin is not allowed to use this web chat; add it to the channel's "
                              "allowed origins")
            if request.method not in methods:
                response = _error(405, "method_not_allowed", f"use {' or '.join(methods)}")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                return view(request, account)
            except SamphanError as exc:
                return _error(exc.status, exc.code, exc.message,
                              **({"details": exc.details} if exc.details is not None else {}))

        return wrapper

    return decorator


def _line(line: WebchatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"id": line.pk, "direction": line.direction, "text": line.text,
                           "at": line.created_at.isoformat()}
    if line.direction == WebchatMessage.Direction.IN:
        out["client_id"] = line.client_id
    else:
        out["seen"] = line.seen_at is not None
    return out


def _with_visitor(response: HttpResponse, request: HttpRequest, account: ChannelAccount, token: str) -> HttpResponse:
    set_visitor_cookie(response, request, account, token)
    return response


# --- the endpoints ---------------------------------------------------------------------------


def _strings() -> dict[str, str]:
    return {
        "open": _("Open chat"),
        "close": _("Close chat"),
        "placeholder": _("Type your message…"),
        "message_label": _("Message"),
        "send": _("Send"),
        "sending": _("Sending…"),
        "failed": _("Not sent. Select to try again."),
        "you": _("You"),
        "agent": _("Team"),
        "new_message": _("New message"),
        "offline": _("Cannot reach the chat right now. Retrying…"),
        "rate_limited": _("Too many messages. Please wait a moment."),
        "email_prompt": _("Leave your e-mail so we can answer you there too."),
        "email_label": _("E-mail"),
        "email_save": _("Save"),
        "email_saved": _("Thank you. We will also answer at %(email)s.") % {"email": "{email}"},
        "email_invalid": _("Please enter a valid e-mail address."),
        "log_label": _("Chat messages"),
    }


@widget_endpoint("GET")
def config(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    lang = _language(request.GET.get("lang"))
    cfg = account.config or {}
    with translation.override(lang):
        title = cfg.get(f"title_{lang}") or cfg.get("title_en") or _("Chat with us")
        greeting = cfg.get(f"greeting_{lang}") or cfg.get("greeting_en") or _("Hello! How can we help you today?")
        strings = _strings()
    return _ok({"language": lang, "title": title, "greeting": greeting, "color": cfg.get("color") or DEFAULT_COLOR,
                "visitor": visitor_from_request(request, account) is not None, "strings": strings})


@widget_endpoint("GET", "POST")
def messages(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    if request.method == "GET":
        return _transcript(request, account)
    if wait := _wait_seconds(request, "ip", _rate("SAMPHAN_WEBCHAT_RATE_IP")):
        return _throttled(wait)
    data = _json_body(request)
    if isinstance(data, JsonResponse):
        return data
    client_id, text = services.clean_message(client_id=data.get("client_id"), text=data.get("text"))
    visitor = visitor_from_request(request, account) or new_visitor_id()
    if wait := _wait_seconds(request, "visitor", _rate("SAMPHAN_WEBCHAT_RATE_VISITOR"), visitor):
        return _throttled(wait)
    page = data.get("page")
    page = page if isinstance(page, str) else ""
    line, created = services.webchat_message_receive(
        account=account, visitor_id=visitor, client_id=client_id, text=text,
        language=_language(data.get("lang")) if data.get("lang") else "", page_url=page)
    token = visitor_token(account, visitor)
    response = _ok({"message": _line(line), "duplicate": not created, "visitor_token": token},
                    status=202 if created else 200)
    return _with_visitor(response, request, account, token)


def _transcript(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    visitor = visitor_from_request(request, account)
    if wait := _wait_seconds(request, "poll", _rate("SAMPHAN_WEBCHAT_RATE_POLL"), visitor):
        return _throttled(wait)
    if visitor is None:
        return _ok({"visitor": False, "messages": [], "cursor": 0})
    try:
        after = max(int(request.GET.get("after") or 0), 0)
    except ValueError:
        return _error(400, "bad_request", "after: expected a message id (a whole number)")
    lines = services.webchat_transcript(account=account, visitor_id=visitor, after=after)
    return _ok({"visitor": True, "messages": [_line(x) for x in lines], "cursor": lines[-1].pk if lines else after})


@widget_endpoint("POST")
def email(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    if wait := _wait_seconds(request, "ip", _rate("SAMPHAN_WEBCHAT_RATE_IP")):
        return _throttled(wait)
    data = _json_body(request)
    if isinstance(data, JsonResponse):
        return data
    visitor = visitor_from_request(request, account) or new_visitor_id()
    if wait := _wait_seconds(request, "email", _rate("SAMPHAN_WEBCHAT_RATE_EMAIL"), visitor):
        return _throttled(wait)
    value = services.webchat_email_receive(account=account, visitor_id=visitor, email=data.get("email"))
    token = visitor_token(account, visitor)
    return _with_visitor(_ok({"email": value, "visitor_token": token}, status=202), request, account, token)


@widget_endpoint("POST")
def seen(request: HttpRequest, account: ChannelAccount) -> HttpResponse:
    data = _json_body(request)
    if isinstance(data, JsonResponse):
        return data
    up_to = data.get("up_to")
    if not isinstance(up_to, int) or isinstance(up_to, bool) or up_to < 0:
        return _error(422, "validation_error", "up_to: expected a message id (a whole number)",
                      details={"field": "up_to"})
    visitor = visitor_from_request(request, account)
    if wait := _wait_seconds(request, "poll", _rate("SAMPHAN_WEBCHAT_RATE_POLL"), visitor):
        return _throttled(wait)  # read receipts share the transcript reads' budget
    if visitor is None:
        return _ok({"delivered": 0})
    return _ok({"delivered": services.webchat_mark_seen(account=account, visitor_id=visitor, up_to=up_to)})


# --- the widget's files ---------------------------------------------------------------------

_ASSETS = {"widget.js": "application/javascript; charset=utf-8", "widget.css": "text/css; charset=utf-8"}
_asset_cache: dict[str, tuple[bytes, str]] = {}


def _asset(name: str) -> tuple[bytes, str] | None:
    cached = _asset_cache.get(name)
    if cached is not None and not settings.DEBUG:
        return cached
    path = finders.find(f"channels/webchat/{name}")
    if not path:
        return None
    with open(path, "rb") as fh:
        content = fh.read()
    cached = (content, '"' + hashlib.sha256(content).hexdigest()[:32] + '"')
    _asset_cache[name] = cached
    return cached


def widget_asset(request: HttpRequest, name: str) -> HttpResponse:
    """The widget's JS and CSS at a stable address (the script tag never changes), revalidated by ETag."""
    found = _asset(name) if name in _ASSETS else None
    if found is None:
        return HttpResponse("not found", status=404, content_type="text/plain")
    content, etag = found
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(content, content_type=_ASSETS[name])
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=300"
    # Sites that isolate themselves (Cross-Origin-Embedder-Policy) may still load it.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
