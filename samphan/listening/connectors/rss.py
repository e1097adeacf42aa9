"""RSS and Atom feeds (news, blogs, forums): feedparser reads every common dialect.

Each entry is one mention: its text is the title and summary (or content) with HTML removed;
its id is the entry's ``id``/``guid``, else its link (the content hash is the fallback when a
feed has neither); its source is the site's host name (``pantip.com``); its time is
``published`` (else ``updated``, else now); its author is ``author`` (an e-mail address in
``author_detail`` links a customer). Fetches are conditional (ETag / Last-Modified), time out,
read at most ``MAX_BYTES``, and follow at most 5 redirects.
"""

from __future__ import annotations

import calendar
import html
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.utils.html import strip_tags

from samphan.listening.connectors import FetchFailed, RowError
from samphan.listening.ingest import MentionIn

MAX_BYTES = 10 * 1024 * 1024
TIMEOUT = httpx.Timeout(20.0, connect=5.0)
_SPACES = re.compile(r"\s+")


def _clean(value: Any) -> str:
    if not value:
        return ""
    return _SPACES.sub(" ", html.unescape(strip_tags(str(value)))).strip()


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        parsed = entry.get(key)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), tz=UTC)
    return None


def parse_feed(content: bytes, *, feed_url: str = "") -> tuple[list[MentionIn], list[RowError], dict]:
    """A feed's bytes → mentions, unreadable entries (row = position in the feed) and feed info."""
    import feedparser

    parsed = feedparser.parse(content)
    entries = parsed.get("entries") or []
    if not entries and parsed.get("bozo"):
        reason = parsed.get("bozo_exception")
        raise FetchFailed(f"not an RSS or Atom feed ({' '.join(str(reason).split())[:200] or 'unreadable'})")
    feed = parsed.get("feed") or {}
    site = _host(feed.get("link") or "") or _host(feed_url) or "feed"
    items: list[MentionIn] = []
    errors: list[RowError] = []
    for index, entry in enumerate(entries, start=1):
        title = _clean(entry.get("title"))
        body = ""
        if entry.get("content"):
            body = _clean(" ".join(c.get("value", "") for c in entry["content"] if isinstance(c, dict)))
        if not body:
            body = _clean(entry.get("summary") or entry.get("description"))
        text = title if not body or body == title else (f"{title}\n{body}" if title else body)
        if not text:
            errors.append(RowError(index, "title", "the entry has neither a title nor any text"))
            continue
        link = str(entry.get("link") or "")
        author = entry.get("author_detail") or {}
        email = str(author.get("email") or "") if isinstance(author, dict) else ""
        identities = [("email", email)] if email else []
        items.append(MentionIn(
            source=_host(link) or site, external_id=str(entry.get("id") or link)[:255], url=link, text=text,
            published_at=_when(entry), author_name=_clean(entry.get("author"))[:255], identities=identities,
            meta={"feed": feed_url, "feed_title": _clean(feed.get("title"))[:200]},
        ))
    info = {"title": _clean(feed.get("title")), "site": site, "entries": len(entries)}
    return items, errors, info


def fetch_feed(*, url: str, etag: str = "", modified: str = "") -> tuple[bytes | None, str, str]:
    """GET the feed (conditional). Returns (body or None when not modified, etag, last-modified)."""
    headers = {"User-Agent": "Samphan-listening/1 (+RSS reader)",
               "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    try:
        with httpx.Client(timeout=TIMEOUT, follow_redirects=True, max_redirects=5) as client, \
                client.stream("GET", url, headers=headers) as response:
            if response.status_code == 304:
                return None, etag, modified
            if response.status_code != 200:
                raise FetchFailed(f"the feed answered HTTP {response.status_code}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > MAX_BYTES:
                    raise FetchFailed(f"the feed is larger than {MAX_BYTES // (1024 * 1024)} MB")
                chunks.append(chunk)
            return (b"".join(chunks), response.headers.get("etag", "")[:255],
                    response.headers.get("last-modified", "")[:64])
    except httpx.TimeoutException:
        raise FetchFailed("the feed did not answer in time") from None
    except httpx.TooManyRedirects:
        raise FetchFailed("the feed redirects too many times") from None
    except httpx.TransportError as exc:
        raise FetchFailed(f"could not reach the feed ({type(exc).__name__})") from None
