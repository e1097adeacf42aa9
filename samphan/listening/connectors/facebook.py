"""Posts and comments on a connected Facebook Page's feed become mentions.

The Facebook adapter (``samphan/channels/adapters/facebook.py``) already turns the Page's
``feed`` webhook changes into events: comments (which the inbox answers) and visitor posts
(kind ``post``, which the inbox leaves alone). Listening registers this consumer with the
channels pipeline, so the same verified, stored, batched webhook feeds both, in one
transaction. The Page's own posts and replies are not mentions (the adapter drops them).
"""

from __future__ import annotations

from typing import Any

from samphan.channels.adapters.base import InboundEvent
from samphan.listening.ingest import MentionIn, mentions_ingest
from samphan.listening.models import Mention


def mention_of(account: Any, event: InboundEvent) -> MentionIn:
    meta = event.meta or {}
    return MentionIn(
        source="facebook", external_id=event.external_id or event.dedupe_key, text=event.text,
        url=str(meta.get("permalink_url") or ""), published_at=event.occurred_at,
        author_id=event.sender.value, author_name=event.sender.display_name,
        identities=[("facebook", event.sender.value)],
        meta={"channel_account_id": account.pk, "kind": event.kind, "post_id": str(meta.get("post_id") or ""),
              "parent_id": str(meta.get("parent_id") or ""), "author_id": event.sender.value},
    )


def ingest_page_feed(account: Any, events: list[InboundEvent]) -> dict[str, int]:
    """The channels consumer: feed posts and comments with text → mentions (idempotent)."""
    if account.provider != "facebook":
        return {}
    items = [mention_of(account, e) for e in events if e.kind in ("comment", "post") and (e.text or "").strip()]
    if not items:
        return {}
    return mentions_ingest(workspace=account.workspace_id, items=items, connector=Mention.Connector.FACEBOOK).as_dict()
