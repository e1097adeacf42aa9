# The SLA tests feed messages through the inbox, on the channels' fixtures.
from __future__ import annotations

import hashlib
from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

import pytest

from samphan.channels.adapters.base import InboundEvent, SenderIdentity
from samphan.inbox.ingest import ingest_inbound
from samphan.inbox.models import Conversation
from samphan.sla.services import business_hours_set
from tests.channels.conftest import (  # noqa: F401
    _clean_fake_outbox,
    fake_account,
    line_account,
    provider_client,
    run_on_commit,
)

BKK = ZoneInfo("Asia/Bangkok")
OFFICE = {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
_ids = count(1)


def bkk(y, m, d, hh=0, mm=0, ss=0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=BKK)


def customer_says(account, at: datetime, *, who: str = "U-somchai", text: str = "สวัสดีค่ะ") -> Conversation:
    """A customer message on the channel at `at`, through the inbox's ingest (as the worker would)."""
    n = next(_ids)
    user_id = "U" + hashlib.md5(who.encode()).hexdigest()  # noqa: S324  a LINE-shaped id, not security
    ingest_inbound(account, [InboundEvent(kind="message", dedupe_key=f"m{n}-{who}",
                                          sender=SenderIdentity("line", user_id), occurred_at=at, thread_key=user_id,
                                          text=text)])
    return Conversation.objects.filter(channel_account=account, thread_key=user_id).order_by("-id").first()


@pytest.fixture
def office_hours(workspace):
    """Monday–Friday 09:00–18:00, Asia/Bangkok."""
    return business_hours_set(workspace=workspace, time_zone="Asia/Bangkok", week=OFFICE)
