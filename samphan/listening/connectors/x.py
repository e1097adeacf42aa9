"""X (Twitter) API v2 recent search: live fetches with a bearer token, and saved result files.

The request is the documented one:

    GET {base}/tweets/search/recent?query=…&max_results=100
        &tweet.fields=created_at,lang,public_metrics,author_id,conversation_id
        &expansions=author_id&user.fields=username,name,public_metrics[&since_id=…][&next_token=…]
    Authorization: Bearer <token>

``base`` is ``https://api.x.com/2`` (``SAMPHAN_X_API_BASE`` moves it, e.g. to a test server).
A result page is ``{"data": [tweet…], "includes": {"users": [user…]}, "meta": {…}}``; a tweet's
author is found in ``includes.users`` by ``author_id``, and the author's
``public_metrics.followers_count`` is the mention's reach. Likes, reposts, replies and quotes
add up to its engagement. Pages are followed with ``meta.next_token`` (up to ``max_pages``);
``since_id`` makes the next fetch return only newer posts. 429 and 5xx are reported with when
to try again; 401/403 say the token is wrong or lacks access.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import httpx
from django.conf import settings

from samphan.listening.connectors import FetchFailed, RowError
from samphan.listening.ingest import MentionIn

DEFAULT_BASE = "https://api.x.com/2"
TWEET_FIELDS = "created_at,lang,public_metrics,author_id,conversation_id"
USER_FIELDS = "username,name,public_metrics"
TIMEOUT = httpx.Timeout(20.0, connect=5.0)


def api_base() -> str:
    return (getattr(settings, "SAMPHAN_X_API_BASE", "") or DEFAULT_BASE).rstrip("/")


def _object(value: Any) -> dict[str, Any]:
    """A JSON object of the response, or an empty one when the field is missing or of another type."""
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_page(page: Any, *, where: str = "") -> tuple[list[MentionIn], list[RowError]]:
    """One result page → mentions, and the posts that could not be read (row = position in ``data``)."""
    prefix = f"{where}: " if where else ""
    if not isinstance(page, dict):
        raise FetchFailed(f"{prefix}an X search result is a JSON object with \"data\"")
    if "data" not in page:
        if isinstance(page.get("meta"), dict) and _int(page["meta"].get("result_count")) == 0:
            return [], []  # a page with no results has no "data"
        if page.get("errors") or page.get("title"):
            raise FetchFailed(f"{prefix}X answered with an error: {_error_text(page)}")
        raise FetchFailed(f"{prefix}an X search result needs \"data\" (a list of posts)")
    data = page["data"]
    if not isinstance(data, list):
        raise FetchFailed(f"{prefix}\"data\" must be a list of posts")
    users: dict[str, dict] = {}
    includes = page.get("includes") or {}
    for user in (includes.get("users") or []) if isinstance(includes, dict) else []:
        if isinstance(user, dict) and user.get("id") is not None:
            users[str(user["id"])] = user
    items: list[MentionIn] = []
    errors: list[RowError] = []
    for index, tweet in enumerate(data, start=1):
        if not isinstance(tweet, dict):
            errors.append(RowError(index, "data", "a post must be a JSON object"))
            continue
        tweet_id = str(tweet.get("id") or "")
        text = tweet.get("text")
        if not tweet_id:
            errors.append(RowError(index, "id", "missing"))
            continue
        if not isinstance(text, str) or not text.strip():
            errors.append(RowError(index, "text", "missing or empty"))
            continue
        created = _time(tweet.get("created_at"))
        if tweet.get("created_at") is not None and created is None:
            errors.append(RowError(index, "created_at", f"not an ISO 8601 time: {tweet.get('created_at')!r}"))
            continue
        author_id = str(tweet.get("author_id") or "")
        user = users.get(author_id, {})
        username = str(user.get("username") or "")
        metrics = _object(tweet.get("public_metrics"))
        user_metrics = _object(user.get("public_metrics"))
        identities = []
        if author_id:
            identities.append(("x", author_id))
        if username:
            identities.append(("x_handle", username))
        items.append(MentionIn(
            source="x", external_id=tweet_id, text=text, published_at=created,
            url=f"https://x.com/{username or 'i'}/status/{tweet_id}",
            author_id=author_id, author_handle=username, author_name=str(user.get("name") or ""),
            reach=_int(user_metrics.get("followers_count")),
            engagement=sum(_int(metrics.get(k)) for k in ("like_count", "retweet_count", "reply_count",
                                                          "quote_count")),
            language=str(tweet.get("lang") or "") if tweet.get("lang") not in ("und", "qme", "zxx") else "",
            identities=identities,
            meta={"public_metrics": metrics, "conversation_id": str(tweet.get("conversation_id") or "")},
        ))
    return items, errors


def _error_text(body: Any) -> str:
    if isinstance(body, dict):
        if body.get("errors") and isinstance(body["errors"], list):
            first = body["errors"][0]
            if isinstance(first, dict):
                return str(first.get("message") or first.get("detail") or first.get("title") or first)[:300]
        for key in ("detail", "title", "error"):
            if body.get(key):
                return str(body[key])[:300]
    return str(body)[:300]


def parse_saved(content: bytes) -> tuple[list[MentionIn], list[RowError]]:
    """Saved search results: one page object, a list of pages, or one page per line (JSON lines)."""
    text = content.decode("utf-8-sig", errors="strict")
    pages: list[Any]
    try:
        parsed = json.loads(text)
        pages = parsed if isinstance(parsed, list) else [parsed]
    except ValueError:
        pages = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    pages.append(json.loads(line))
                except ValueError as exc:  # JSONDecodeError, or a plain ValueError (a number too long for int)
                    reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                    raise FetchFailed(f"line {number}: not JSON ({reason})") from None
    items: list[MentionIn] = []
    errors: list[RowError] = []
    offset = 0
    for n, page in enumerate(pages, start=1):
        page_items, page_errors = parse_page(page, where=f"page {n}" if len(pages) > 1 else "")
        for e in page_errors:
            e["row"] += offset
        items.extend(page_items)
        errors.extend(page_errors)
        offset += len(page.get("data") or []) if isinstance(page, dict) else 0
    return items, errors


def search_recent(*, query: str, bearer_token: str, since_id: str = "", max_pages: int = 5,
                  max_results: int = 100) -> tuple[list[MentionIn], list[RowError], str]:
    """Call the recent-search endpoint, following pages. Returns (mentions, bad posts, newest id)."""
    if not bearer_token:
        raise FetchFailed("no X bearer token: set one on the source or SAMPHAN_X_BEARER_TOKEN")
    if not query.strip():
        raise FetchFailed("the X search query is empty")
    params: dict[str, Any] = {"query": query, "max_results": max(10, min(100, max_results)),
                              "tweet.fields": TWEET_FIELDS, "expansions": "author_id", "user.fields": USER_FIELDS}
    if since_id:
        params["since_id"] = since_id
    headers = {"Authorization": f"Bearer {bearer_token}", "User-Agent": "Samphan-listening/1"}
    items: list[MentionIn] = []
    errors: list[RowError] = []
    newest = since_id
    with httpx.Client(timeout=TIMEOUT, follow_redirects=False) as client:
        for _page in range(max(1, max_pages)):
            try:
                response = client.get(f"{api_base()}/tweets/search/recent", params=params, headers=headers)
            except httpx.TimeoutException:
                raise FetchFailed("X did not answer in time") from None
            except httpx.TransportError as exc:
                raise FetchFailed(f"could not reach X ({type(exc).__name__})") from None
            if response.status_code != 200:
                raise FetchFailed(_status_reason(response))
            try:
                body = response.json()
            except ValueError:
                raise FetchFailed("X answered with something that is not JSON") from None
            page_items, page_errors = parse_page(body)
            items.extend(page_items)
            errors.extend(page_errors)
            meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
            newest_id = str(meta.get("newest_id") or "")
            if newest_id and (not newest or (newest_id.isdigit() and newest.isdigit() and int(newest_id) > int(newest))
                              or not newest.isdigit()):
                newest = newest_id
            token = meta.get("next_token")
            if not token:
                break
            params["next_token"] = token
    return items, errors, newest


def _status_reason(response: httpx.Response) -> str:
    try:
        detail = _error_text(response.json())
    except ValueError:
        detail = ""
    status = response.status_code
    if status in (401, 403):
        return f"X refused the token (HTTP {status}){': ' + detail if detail else ''}"
    if status == 429:
        reset = response.headers.get("x-rate-limit-reset", "")
        when = ""
        if reset.isdigit():
            when = f"; the limit resets at {datetime.fromtimestamp(int(reset), tz=UTC):%Y-%m-%d %H:%M} UTC"
        return f"X's rate limit was reached (HTTP 429){when}"
    if status == 400:
        return f"X rejected the query (HTTP 400){': ' + detail if detail else ''}"
    return f"X answered HTTP {status}{': ' + detail if detail else ''}"
