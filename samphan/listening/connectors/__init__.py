"""Where mentions come from. Each connector turns its input into ``ingest.MentionIn`` rows.

- ``x.py``: X API v2 recent search (live, with a bearer token) and saved results (files);
- ``rss.py``: RSS and Atom feeds (feedparser), fetched on a schedule with conditional GET;
- ``facebook.py``: posts and comments on a connected Page's feed, from the channels webhook;
- ``upload.py``: CSV or JSON files, with per-row errors;
- ``scheduler.py``: which sources are due, fetching them, recording the outcome.
"""

from __future__ import annotations

from samphan.core.errors import SamphanError


class FetchFailed(SamphanError):
    """A source could not be read; the message says why, for a person (no secrets in it)."""

    code = "fetch_failed"
    status = 502


class RowError(dict):
    """{"row": n, "field": name, "reason": text} — one bad input row, reported and skipped."""

    def __init__(self, row: int, field: str, reason: str) -> None:
        super().__init__(row=row, field=field, reason=reason)
