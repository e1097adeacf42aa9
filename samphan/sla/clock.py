"""The SLA clock of a conversation, computed at every event the inbox writes.

The inbox calls in here, inside its own transaction, at each place a clock can
start, stop or move (samphan/inbox/services.py and ingest.py):

- `sla_context(workspace_id)` loads the workspace's policies, and its calendar
  when first needed (one to three small queries; once per ingest batch, once
  per reply or status change);
- `sla_measure(...)` gives a reporting event its business seconds, the due time
  that applied and whether it was met, and records the breach when it was late;
- `sla_refresh(conversation, ctx)` chooses the policy and recomputes the
  conversation's due times, `sla_due_at`, `sla_sweep_at` and breach bits.

Due times are a pure function of the conversation's state, so recomputing is
always safe (after a policy or business-hours change, `sla_recompute_workspace`):

| target         | runs while                                        | counted from |
|----------------|---------------------------------------------------|--------------|
| first response | no agent reply yet, a customer is waiting, not resolved | `waiting_since` (the customer's first message) |
| next response  | answered before, a customer is waiting, status open | `waiting_since` (oldest unanswered message) |
| resolution     | not resolved                                      | the start of the cycle: `reopened_at`, else `created_at` |

*Pending* means the ball is in the customer's court: the next-response clock
stops (nobody owes an answer), the first-response and resolution clocks keep
running. A customer message on a pending conversation makes it open, and the
next-response clock runs from that message. *Resolved* stops every clock;
*reopening* starts a new cycle (resolution counted from the reopening, its
breach bits cleared).

Breach bits say "this target's current due time was missed"; the bit of a
target is cleared when its clock restarts with a new due time (a new waiting
period, a reopening, a changed policy), and kept when the clock stops, so a
late first response stays visible on the conversation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from samphan.sla.calendar import BusinessCalendar
from samphan.sla.models import (
    DEFAULT_TIME_ZONE,
    BusinessHours,
    Holiday,
    SlaBreach,
    SlaPolicy,
    Target,
)

FIRST, NEXT, RESOLUTION = 1, 2, 4
# Keyed by Target members, which are str: plain target strings (breach rows, dues) look them up too.
BIT: dict[str, int] = {Target.FIRST_RESPONSE: FIRST, Target.NEXT_RESPONSE: NEXT, Target.RESOLUTION: RESOLUTION}
DUE_FIELD: dict[str, str] = {Target.FIRST_RESPONSE: "first_response_due_at", Target.NEXT_RESPONSE: "next_response_due_at",
             Target.RESOLUTION: "resolution_due_at"}
# Fields sla_refresh may change, for callers that save with update_fields.
CLOCK_FIELDS = ("sla_policy", "first_response_due_at", "next_response_due_at", "resolution_due_at", "sla_due_at",
                "sla_sweep_at", "sla_breaches")
# A reporting event's kind → the target it measures.
KIND_TARGET = {"first_response": Target.FIRST_RESPONSE, "response": Target.NEXT_RESPONSE,
               "resolution": Target.RESOLUTION}


def calendar_from(*, time_zone: str, week: list[list[list[int]]] | None, holidays: Iterable[date]) -> BusinessCalendar:
    """A calculator from stored settings: `week` in minutes (Monday first), None for 24/7."""
    if not week:
        return BusinessCalendar.always_open(time_zone, holidays)
    return BusinessCalendar(time_zone=time_zone,
                            week=tuple(tuple((s * 60, e * 60) for s, e in day) for day in week),
                            holidays=frozenset(holidays))


def workspace_calendar(workspace_id: int) -> BusinessCalendar:
    hours = BusinessHours.objects.filter(workspace_id=workspace_id).values("time_zone", "week").first()
    holidays = Holiday.objects.filter(workspace_id=workspace_id).values_list("date", flat=True)
    if hours is None:
        return calendar_from(time_zone=DEFAULT_TIME_ZONE, week=None, holidays=holidays)
    return calendar_from(time_zone=hours["time_zone"], week=hours["week"], holidays=holidays)


@dataclass
class SlaContext:
    workspace_id: int
    policies: list[SlaPolicy]
    _calendar: BusinessCalendar | None = None

    @property
    def calendar(self) -> BusinessCalendar:
        """Loaded on first use: an ingest batch in a workspace without policies never needs it."""
        if self._calendar is None:
            self._calendar = workspace_calendar(self.workspace_id)
        return self._calendar

    def policy_for(self, conversation: Any) -> SlaPolicy | None:
        for policy in self.policies:
            if policy.channel_account_id and policy.channel_account_id != conversation.channel_account_id:
                continue
            if policy.team_id and policy.team_id != conversation.team_id:
                continue
            if policy.priority and policy.priority != conversation.priority:
                continue
            return policy
        return None

    def due(self, policy: SlaPolicy, start: datetime | None, seconds: int | None) -> datetime | None:
        if start is None or seconds is None:
            return None
        if policy.business_hours:
            return self.calendar.add_business_seconds(start, seconds)
        return start + timedelta(seconds=seconds)


def sla_context(workspace_id: int) -> SlaContext:
    policies = list(SlaPolicy.objects.filter(workspace_id=workspace_id, is_active=True).order_by("position", "id"))
    return SlaContext(workspace_id=workspace_id, policies=policies)


def _running_dues(conversation: Any, policy: SlaPolicy | None, ctx: SlaContext) -> dict[str, datetime | None]:
    dues: dict[str, datetime | None] = dict.fromkeys(Target.values)
    if policy is None or conversation.status == "resolved":
        return dues
    waiting = conversation.waiting_since
    if conversation.first_response_at is None:
        dues[Target.FIRST_RESPONSE] = ctx.due(policy, waiting, policy.first_response_seconds)
    elif conversation.status == "open":
        dues[Target.NEXT_RESPONSE] = ctx.due(policy, waiting, policy.next_response_seconds)
    cycle_start = conversation.reopened_at or conversation.created_at
    dues[Target.RESOLUTION] = ctx.due(policy, cycle_start, policy.resolution_seconds)
    return dues


def sla_refresh(conversation: Any, ctx: SlaContext) -> None:
    """Choose the policy and recompute the clock fields in place (the caller saves them)."""
    policy = ctx.policy_for(conversation)
    conversation.sla_policy = policy
    dues = _running_dues(conversation, policy, ctx)
    bits = conversation.sla_breaches or 0
    for target, due in dues.items():
        field = DUE_FIELD[target]
        if due is not None and due != getattr(conversation, field):
            bits &= ~BIT[target]  # the clock (re)started with a new due time
        setattr(conversation, field, due)
    conversation.sla_breaches = bits
    running = [d for d in dues.values() if d is not None]
    conversation.sla_due_at = min(running, default=None)
    conversation.sla_sweep_at = min((d for t, d in dues.items() if d is not None and not bits & BIT[t]),
                                    default=None)


def sla_measure(conversation: Any, *, kind: str, started_at: datetime, occurred_at: datetime,
                ctx: SlaContext) -> dict[str, Any]:
    """Fields for a reporting event: business seconds, the due time that applied and whether it was met.

    A late event records its breach (once: the sweep may have recorded it already).
    """
    target = KIND_TARGET[kind]
    due = getattr(conversation, DUE_FIELD[target])
    measured = {"business_seconds": ctx.calendar.business_seconds(started_at, occurred_at), "due_at": due,
                "sla_met": None if due is None else occurred_at <= due}
    if due is not None and occurred_at > due:
        breach_record(conversation, target=target, due_at=due, via=SlaBreach.Via.EVENT, at=occurred_at)
    return measured


def breach_record(conversation: Any, *, target: str, due_at: datetime, via: str, at: datetime) -> bool:
    """Write the breach and set its bit; False when it was already recorded."""
    conversation.sla_breaches = (conversation.sla_breaches or 0) | BIT[target]
    try:
        with transaction.atomic():
            SlaBreach.objects.create(workspace_id=conversation.workspace_id, conversation_id=conversation.pk,
                                     target=target, due_at=due_at, detected_at=at, via=via,
                                     policy_id=conversation.sla_policy_id, agent_id=conversation.assignee_id,
                                     team_id=conversation.team_id)
    except IntegrityError:
        return False
    return True


# --- the sweep: breaches that happen with no event -----------------------------------------------


def sla_sweep(*, now: datetime | None = None, workspace_id: int | None = None, batch: int = 500) -> int:
    """Flag every running target whose due time has passed with nobody acting. Idempotent; returns the count.

    Works from the `sla_sweep_at` index (the earliest unflagged due time), so a
    run costs the breaches it finds, not the conversations that exist.
    """
    from samphan.inbox.models import Conversation

    now = now or timezone.now()
    flagged = 0
    while True:
        with transaction.atomic():
            todo = Conversation.objects.filter(sla_sweep_at__lte=now)
            if workspace_id is not None:
                todo = todo.filter(workspace_id=workspace_id)
            rows = list(todo.select_for_update(skip_locked=True).order_by("sla_sweep_at")[:batch])
            if not rows:
                return flagged
            for conversation in rows:
                for target, field in DUE_FIELD.items():
                    due = getattr(conversation, field)
                    if due is not None and due <= now and not conversation.sla_breaches & BIT[target]:
                        flagged += breach_record(conversation, target=target, due_at=due, via=SlaBreach.Via.SWEEP,
                                                 at=now)
                conversation.sla_sweep_at = min(
                    (getattr(conversation, f) for t, f in DUE_FIELD.items()
                     if getattr(conversation, f) is not None and not conversation.sla_breaches & BIT[t]),
                    default=None)
                Conversation.objects.filter(pk=conversation.pk).update(sla_breaches=conversation.sla_breaches,
                                                                       sla_sweep_at=conversation.sla_sweep_at)
        if len(rows) < batch:
            return flagged


def sla_recompute_workspace(workspace_id: int, *, chunk: int = 500) -> int:
    """Recompute the clocks of every active conversation (after a policy or business-hours change)."""
    from samphan.inbox.models import Conversation

    ctx = sla_context(workspace_id)
    done, last_id = 0, 0
    while True:
        with transaction.atomic():
            rows = list(Conversation.objects.select_for_update()
                        .filter(workspace_id=workspace_id, status__in=["open", "pending"], pk__gt=last_id)
                        .order_by("pk")[:chunk])
            for conversation in rows:
                sla_refresh(conversation, ctx)
            Conversation.objects.bulk_update(rows, list(CLOCK_FIELDS))
        done += len(rows)
        if len(rows) < chunk:
            return done
        last_id = rows[-1].pk
