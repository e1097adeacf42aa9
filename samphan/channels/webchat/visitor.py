"""The web-chat visitor: an id in a signed cookie, salted per channel account.

The cookie holds `signing.dumps(visitor id)` with the salt
`samphan.webchat.visitor:<account uuid>`, so a cookie from one channel is no
use on another, and anything not signed by this install's SECRET_KEY (a
tampered or forged value, an expired one) is simply not a visitor: the request
is served as a new visitor's, never as someone else's.

Cookie attributes: HttpOnly; on HTTPS `SameSite=None; Secure` so the browser
sends it from any embedding site; on plain HTTP (a developer's localhost)
browsers refuse `SameSite=None` without `Secure`, so it is `SameSite=Lax` and
only reaches Samphan from the same site (another port of localhost). Browsers
that block third-party cookies (Safari, Firefox strict mode) get the same
signed value in the JSON answers; the widget keeps it in the embedding page's
localStorage and sends it back in the `X-Samphan-Visitor` header, checked
exactly like the cookie.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse

HEADER = "X-Samphan-Visitor"
MAX_AGE = 365 * 24 * 3600  # a visitor silent for a year comes back as a new one


def cookie_name(account: Any) -> str:
    return f"samphan_wc_{account.uuid.hex[:12]}"


def _salt(account: Any) -> str:
    return f"samphan.webchat.visitor:{account.uuid}"


def new_visitor_id() -> str:
    return "v_" + secrets.token_urlsafe(18)


def visitor_token(account: Any, visitor_id: str) -> str:
    return signing.dumps(visitor_id, salt=_salt(account), compress=False)


def visitor_from_token(account: Any, token: str | None) -> str | None:
    """The visitor id in a signed token, or None if it is missing, tampered with, foreign or too old."""
    if not token or len(token) > 500:
        return None
    try:
        value = signing.loads(token, salt=_salt(account), max_age=MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is a BadSignature
        return None
    if not isinstance(value, str) or not value.startswith("v_") or len(value) > 64:
        return None
    return value


def visitor_from_request(request: HttpRequest, account: Any) -> str | None:
    """The cookie first; the header for browsers that do not send third-party cookies."""
    return (visitor_from_token(account, request.COOKIES.get(cookie_name(account)))
            or visitor_from_token(account, request.headers.get(HEADER)))


def set_visitor_cookie(response: HttpResponse, request: HttpRequest, account: Any, token: str) -> None:
    secure = request.is_secure() or bool(getattr(settings, "SESSION_COOKIE_SECURE", False))
    response.set_cookie(cookie_name(account), token, max_age=MAX_AGE, httponly=True, secure=secure,
                        samesite="None" if secure else "Lax", path=f"/webchat/{account.uuid}")
