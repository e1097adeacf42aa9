from __future__ import annotations

from datetime import UTC, datetime

import pytest

from samphan.listening.ingest import MentionIn
from samphan.listening.services import topic_create


@pytest.fixture
def topics(workspace):
    """The brand, a product, a competitor and a campaign, in Thai and English."""
    return {
        "brand": topic_create(workspace=workspace, name="Alpha Coffee", kind="brand",
                              include_terms=["Alpha Coffee", "อัลฟ่า", "@alphacoffee"], rematch=False),
        "product": topic_create(workspace=workspace, name="Iced latte", kind="product",
                                include_terms=["ลาเต้เย็น", "iced latte"], rematch=False),
        "competitor": topic_create(workspace=workspace, name="Beta Brew", kind="competitor",
                                   include_terms=["Beta Brew", "เบต้า"], exclude_terms=["เบต้าแคโรทีน"],
                                   rematch=False),
        "campaign": topic_create(workspace=workspace, name="Summer", kind="campaign",
                                 include_terms=["#AlphaSummer"], rematch=False),
    }


def mention(text: str, *, n: int = 0, source: str = "x", **kw) -> MentionIn:
    kw.setdefault("published_at", datetime(2026, 3, 1, 10, 0, tzinfo=UTC))
    kw.setdefault("external_id", f"m{n}" if n else "")
    return MentionIn(source=source, text=text, **kw)
