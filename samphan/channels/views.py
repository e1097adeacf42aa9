"""The webhook endpoint every push channel calls: /webhooks/<provider>/<account uuid>.

Verify the signature on the raw bytes, store the body, answer 200 — nothing
else happens in the request (processing runs in the worker). A bad signature
gets 401 and nothing is stored; an unknown account 404.
"""

from __future__ import annotations

import logging
import threading
import time

from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from samphan.channels.adapters import adapter_paths, get_adapter
from samphan.channels.crypto import SecretsUnavailable
from samphan.channels.models import ChannelAccount
from samphan.channels.services import webhook_store

logger = logging.getLogger("samphan.channels")

MAX_BODY = 2 * 1024 * 1024  # LINE and Facebook send far less; larger is not a webhook
# Accounts are read per process at most every ACCOUNT_TTL seconds: a webhook burst then costs one
# INSERT per request. A deactivated account or new secrets take effect within that delay.
ACCOUNT_TTL = 10.0
_accounts: dict[tuple[str, str], tuple[float, ChannelAccount | None]] = {}
_accounts_lock = threading.Lock()


def _account(provider: str, account_uuid) -> ChannelAccount | None:
    key = (provider, str(account_uuid))
    now = time.monotonic()
    cached = _accounts.get(key)
    if cached is not None and now - cached[0] < ACCOUNT_TTL:
        return cached[1]
    account = (ChannelAccount.objects.filter(uuid=account_uuid, provider=provider, is_active=True)
               .only("id", "uuid", "workspace_id", "provider", "secrets_ciphertext", "config").first())
    with _accounts_lock:
        if len(_accounts) > 10_000:  # unknown uuids must not grow this without bound
            _accounts.clear()
        _accounts[key] = (now, account)
    return account


def cached_account(provider: str, account_uuid) -> ChannelAccount | None:
    """An active account of this provider by its public uuid, read at most every ACCOUNT_TTL seconds."""
    return _account(provider, account_uuid)


def forget_cached_accounts() -> None:
    _accounts.clear()


def _text(body: str, status: int) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="text/plain")


@csrf_exempt
def webhook(request: HttpRequest, provider: str, account_uuid) -> HttpResponse:
    if provider not in adapter_paths():
        return _text("unknown provider", 404)
    account = _account(provider, account_uuid)
    if account is None:
        return _text("unknown channel account", 404)
    adapter = get_adapter(account)
    try:
        get_body = (adapter.get_event_body(request.META.get("QUERY_STRING", ""))
                    if request.method == "GET" else None)
        if get_body is not None:
            # A gateway that reports by GET: the query string is the event (stored as a form body).
            body = get_body
        elif request.method == "GET":
            response = adapter.handshake(request.GET)
            return response if response is not None else _text("method not allowed", 405)
        elif request.method != "POST":
            return _text("method not allowed", 405)
        elif int(request.headers.get("Content-Length") or 0) > MAX_BODY:
            return _text("body too large", 413)
        else:
            body = request.body
        if not adapter.verify_request(request.headers, body, request.GET):
            logger.warning("webhook for channel %s: bad signature from %s", account.pk,
                           request.META.get("REMOTE_ADDR", "?"))
            return _text("bad signature", 401)
    except SecretsUnavailable as exc:
        logger.error("webhook for channel %s: %s", account.pk, exc.message)
        return _text("channel secrets unavailable", 503)
    webhook_store(account=account, body=body, headers=request.headers, adapter=adapter)
    return _text("OK", 200)
