"""Which sites may read the widget endpoints' answers: each web-chat account's allowed origins.

django-cors-headers writes the headers (Access-Control-Allow-Origin echoing the
origin, Allow-Credentials, Vary: Origin, preflight answers); this signal
handler tells it, per request, whether the page's origin is one the account
lists. CORS only decides what a browser lets the page *read*: the views refuse
to act for any other origin as well (403), since a form post would still reach
them.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from corsheaders.signals import check_request_enabled

from samphan.channels.adapters.webchat import normalise_origin

ENDPOINT_RE = re.compile(r"^/webchat/([0-9a-fA-F-]{36})/")


def _own_origin() -> str:
    from samphan.channels.services import public_base_url

    parts = urlsplit(public_base_url())
    return normalise_origin(f"{parts.scheme}://{parts.netloc}")


def origin_allowed(account: Any, origin: str | None) -> bool:
    """The page's origin is one the account lists (or this install's own public origin)."""
    if not origin:
        return False
    try:
        origin = normalise_origin(origin)
    except ValueError:
        return False
    return origin in (account.config or {}).get("allowed_origins", []) or origin == _own_origin()


def account_for_path(path: str) -> Any:
    match = ENDPOINT_RE.match(path)
    if match is None:
        return None
    from samphan.channels.views import cached_account

    try:
        return cached_account("webchat", match.group(1))
    except Exception:  # a malformed uuid: not an account
        return None


def cors_allowed(sender: Any, request: Any, **kwargs: Any) -> bool:
    if not request.path_info.startswith("/webchat/"):
        return False
    account = account_for_path(request.path_info)
    return account is not None and origin_allowed(account, request.headers.get("origin"))


def connect() -> None:
    check_request_enabled.connect(cors_allowed, dispatch_uid="samphan.webchat.cors")
