"""The SLA clock through the inbox's own writes: exact figures for known scenarios."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import time_machine

from samphan.inbox.models import Conversation, ReportingEvent
from samphan.inbox.services import (
    conversation_assign,
    conversation_reply,
    conversation_set_priority,
    conversation_set_status,
    team_create,
)
from samphan.sla.clock import FIRST, NEXT, RESOLUTION, sla_sweep
from samphan.sla.models import SlaBreach
from samphan.sla.services import holiday_add, sla_policy_create, sla_policy_update
from samphan.sla.tasks import sla_sweep_task
from tests.sla.conftest import bkk, customer_says

pytestmark = pytest.mark.django_db
MIN = 60
HOUR = 3600


@pytest.fixture
def policy(workspace, office_hours):
    return sla_policy_create(workspace=workspace, name="มาตรฐาน Standard", first_response_seconds=30 * MIN,
                             next_response_seconds=HOUR, resolution_seconds=8 * HOUR)


def reply(conversation, owner, at, text="ขอบคุณค่ะ"):
    with time_machine.travel(at, tick=False):
        return conversation_reply(conversation=conversation, actor=owner, text=text)


def set_status(conversation, status, at):
    with time_machine.travel(at, tick=False):
        return conversation_set_status(conversation=conversation, status=status)


def test_friday_1755_to_monday_0910_is_fifteen_business_minutes(workspace, fake_account, owner, policy):
    # 8 May 2026 is a Friday; hours Monday–Friday 09:00–18:00 in Bangkok.
    conv = customer_says(fake_account, bkk(2026, 5, 8, 17, 55))
    assert conv.sla_policy_id == policy.pk
    # 30 business minutes: 5 on Friday, 25 on Monday.
    assert conv.first_response_due_at == bkk(2026, 5, 11, 9, 25)
    assert conv.resolution_due_at == bkk(2026, 5, 11, 16, 55)  # 8 business hours: 5 min Friday, 7 h 55 Monday
    assert conv.sla_due_at == conv.first_response_due_at and conv.sla_breaches == 0

    reply(conv, owner, bkk(2026, 5, 11, 9, 10))
    event = ReportingEvent.objects.get(kind="first_response")
    assert event.business_seconds == 15 * MIN
    assert event.value_seconds == (2 * 24 + 15) * HOUR + 15 * MIN  # Friday 17:55 → Monday 09:10, wall clock
    assert event.due_at == bkk(2026, 5, 11, 9, 25) and event.sla_met is True
    conv.refresh_from_db()
    assert conv.first_response_due_at is None and conv.next_response_due_at is None
    assert conv.sla_due_at == conv.resolution_due_at
    assert not SlaBreach.objects.exists()


def test_late_first_reply_records_the_breach_once(workspace, fake_account, owner, policy):
    conv = customer_says(fake_account, bkk(2026, 5, 8, 17, 55))
    reply(conv, owner, bkk(2026, 5, 11, 9, 40))
    event = ReportingEvent.objects.get(kind="first_response")
    assert event.business_seconds == 45 * MIN and event.sla_met is False
    breach = SlaBreach.objects.get()
    assert (breach.target, breach.via, breach.due_at) == ("first_response", "event", bkk(2026, 5, 11, 9, 25))
    conv.refresh_from_db()
    # The clock stopped, but the conversation still shows its first response was late.
    assert conv.first_response_due_at is None and conv.sla_breaches == FIRST


def test_sweep_flags_a_customer_left_waiting(workspace, fake_account, owner, policy):
    conv = customer_says(fake_account, bkk(2026, 5, 8, 17, 55))
    assert sla_sweep(now=bkk(2026, 5, 11, 9, 24)) == 0  # not due yet
    with time_machine.travel(bkk(2026, 5, 11, 9, 26), tick=False):
        assert sla_sweep_task.delay().get() == 1  # the periodic task
    conv.refresh_from_db()
    assert conv.sla_breaches == FIRST
    assert conv.sla_sweep_at == conv.resolution_due_at  # the next thing to watch
    assert conv.sla_due_at == bkk(2026, 5, 11, 9, 25)  # still running: "breached" in the inbox
    breach = SlaBreach.objects.get()
    assert (breach.via, breach.detected_at) == ("sweep", bkk(2026, 5, 11, 9, 26))
    assert sla_sweep(now=bkk(2026, 5, 11, 9, 30)) == 0  # idempotent
    reply(conv, owner, bkk(2026, 5, 11, 9, 40))
    assert ReportingEvent.objects.get().sla_met is False
    assert SlaBreach.objects.count() == 1  # the late reply does not write it twice
    # Nobody resolves it: the resolution target is missed on Monday at 16:55.
    assert sla_sweep(now=bkk(2026, 5, 11, 16, 54)) == 0
    assert sla_sweep(now=bkk(2026, 5, 11, 17, 0)) == 1
    conv.refresh_from_db()
    assert conv.sla_breaches == FIRST | RESOLUTION and conv.sla_sweep_at is None


def test_next_response_waits_for_the_customer_and_pending_stops_it(workspace, fake_account, owner, policy):
    conv = customer_says(fake_account, bkk(2026, 5, 11, 10, 0))
    reply(conv, owner, bkk(2026, 5, 11, 10, 5))
    conv = customer_says(fake_account, bkk(2026, 5, 11, 17, 30), text="แล้วส่งเมื่อไหร่คะ")
    # One business hour from 17:30: 30 minutes today, 30 tomorrow.
    assert conv.next_response_due_at == bkk(2026, 5, 12, 9, 30)
    conv = set_status(conv, "pending", bkk(2026, 5, 11, 17, 40))
    assert conv.next_response_due_at is None  # nobody owes an answer while pending
    assert conv.resolution_due_at is not None  # but the problem is not solved
    conv = customer_says(fake_account, bkk(2026, 5, 12, 11, 0), text="ยังไม่ได้ของเลย")
    assert conv.status == "open"
    # Counted from the oldest unanswered message (17:30 yesterday): already late.
    assert conv.next_response_due_at == bkk(2026, 5, 12, 9, 30)
    # Late, and so is the resolution (8 business hours from Monday 10:00: Monday 18:00).
    assert sla_sweep(now=bkk(2026, 5, 12, 11, 0)) == 2
    reply(conv, owner, bkk(2026, 5, 12, 11, 15))
    event = ReportingEvent.objects.get(kind="response")
    assert event.business_seconds == 30 * MIN + 2 * HOUR + 15 * MIN and event.sla_met is False
    conv.refresh_from_db()
    assert conv.sla_breaches & NEXT
    # A new waiting period starts a new next-response clock, with its bit cleared.
    conv = customer_says(fake_account, bkk(2026, 5, 12, 13, 0))
    assert conv.next_response_due_at == bkk(2026, 5, 12, 14, 0) and not conv.sla_breaches & NEXT


def test_resolution_stops_every_clock_and_reopening_restarts_it(workspace, fake_account, owner, policy):
    conv = customer_says(fake_account, bkk(2026, 5, 11, 9, 0))
    reply(conv, owner, bkk(2026, 5, 11, 9, 10))
    conv = set_status(conv, "resolved", bkk(2026, 5, 11, 19, 0))
    event = ReportingEvent.objects.get(kind="resolution")
    assert (event.business_seconds, event.value_seconds) == (9 * HOUR, 10 * HOUR)
    assert event.due_at == bkk(2026, 5, 11, 17, 0) and event.sla_met is False
    assert (conv.first_response_due_at, conv.next_response_due_at, conv.resolution_due_at, conv.sla_due_at,
            conv.sla_sweep_at) == (None,) * 5
    assert conv.sla_breaches == RESOLUTION
    assert sla_sweep(now=bkk(2026, 6, 1)) == 0  # nothing runs on a resolved conversation

    conv = set_status(conv, "open", bkk(2026, 5, 13, 10, 0))  # reopened on Wednesday
    assert conv.resolution_due_at == bkk(2026, 5, 13, 18, 0) and conv.sla_breaches == 0
    conv = set_status(conv, "resolved", bkk(2026, 5, 13, 12, 0))
    second = ReportingEvent.objects.filter(kind="resolution").order_by("-id").first()
    # Measured over the new cycle only: from the reopening.
    assert (second.business_seconds, second.value_seconds, second.sla_met) == (2 * HOUR, 2 * HOUR, True)


def test_holidays_are_closed(workspace, fake_account, owner, policy):
    for day in (13, 14, 15):
        holiday_add(workspace=workspace, day=date(2026, 4, day), name="วันสงกรานต์")
    conv = customer_says(fake_account, bkk(2026, 4, 10, 17, 45))  # Friday before Songkran
    # 15 minutes on Friday, then Thursday 16 April 09:15.
    assert conv.first_response_due_at == bkk(2026, 4, 16, 9, 15)
    reply(conv, owner, bkk(2026, 4, 16, 9, 0))
    assert ReportingEvent.objects.get().business_seconds == 15 * MIN


def test_policy_per_channel_team_priority_and_wall_clock(workspace, fake_account, line_account, owner, office_hours):
    vip = team_create(workspace=workspace, name="VIP")
    sla_policy_create(workspace=workspace, name="Urgent", priority="urgent", first_response_seconds=5 * MIN,
                      business_hours=False, position=1)
    sla_policy_create(workspace=workspace, name="VIP team", team_id=vip.pk, first_response_seconds=10 * MIN,
                      position=2)
    sla_policy_create(workspace=workspace, name="LINE", channel_account_id=line_account.pk,
                      first_response_seconds=HOUR, position=3)
    sunday = bkk(2026, 5, 10, 20, 0)
    on_fake = customer_says(fake_account, sunday, who="U-a")
    assert on_fake.sla_policy_id is None and on_fake.sla_due_at is None  # no policy matches
    on_line = customer_says(line_account, sunday, who="U-b")
    assert on_line.sla_policy.name == "LINE" and on_line.first_response_due_at == bkk(2026, 5, 11, 10, 0)
    on_line = conversation_assign(conversation=on_line, actor=owner, team_id=vip.pk)
    assert on_line.sla_policy.name == "VIP team" and on_line.first_response_due_at == bkk(2026, 5, 11, 9, 10)
    on_line = conversation_set_priority(conversation=on_line, priority="urgent", actor=owner)
    # Wall-clock policy: five minutes after the message, Sunday night or not.
    assert on_line.sla_policy.name == "Urgent" and on_line.first_response_due_at == bkk(2026, 5, 10, 20, 5)


def test_changing_a_policy_recomputes_open_conversations(workspace, fake_account, owner, policy, run_on_commit):
    conv = customer_says(fake_account, bkk(2026, 5, 11, 10, 0))
    assert conv.first_response_due_at == bkk(2026, 5, 11, 10, 30)
    with time_machine.travel(bkk(2026, 5, 11, 10, 45), tick=False), run_on_commit():
        sla_policy_update(policy=policy, first_response_seconds=10 * MIN)  # the recompute job runs after commit
    conv.refresh_from_db()
    assert conv.first_response_due_at == bkk(2026, 5, 11, 10, 10)
    # Already past: the recompute flags it at once.
    assert conv.sla_breaches == FIRST and SlaBreach.objects.get().via == "sweep"


def test_no_business_hours_means_every_hour_counts(workspace, fake_account, owner):
    sla_policy_create(workspace=workspace, name="24/7", first_response_seconds=HOUR)
    conv = customer_says(fake_account, bkk(2026, 5, 9, 23, 30))  # Saturday night
    assert conv.first_response_due_at == bkk(2026, 5, 10, 0, 30)
    reply(conv, owner, bkk(2026, 5, 10, 0, 15))
    event = ReportingEvent.objects.get()
    assert event.business_seconds == event.value_seconds == 45 * MIN and event.sla_met is True


def test_another_workspaces_policy_never_applies(workspace, other_workspace, fake_account, owner):
    sla_policy_create(workspace=other_workspace, name="theirs", first_response_seconds=MIN * 5)
    conv = customer_says(fake_account, bkk(2026, 5, 11, 10, 0))
    assert conv.sla_policy_id is None and conv.sla_due_at is None
    assert sla_sweep(now=bkk(2026, 6, 1)) == 0
    assert Conversation.objects.get().sla_breaches == 0


def test_time_passes_inside_one_ingest_batch(workspace, fake_account, owner, policy):
    """Two messages in one batch: the clock runs from the first."""
    conv = customer_says(fake_account, bkk(2026, 5, 11, 9, 0))
    customer_says(fake_account, bkk(2026, 5, 11, 9, 20))
    conv.refresh_from_db()
    assert conv.waiting_since == bkk(2026, 5, 11, 9, 0) and conv.first_response_due_at == bkk(2026, 5, 11, 9, 30)
    assert conv.message_count == 2 and conv.sla_due_at - conv.waiting_since == timedelta(minutes=30)
