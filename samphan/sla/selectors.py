"""Reads for SLA: a conversation's SLA state (for badges and the API) and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from samphan.sla.clock import BIT, DUE_FIELD
from samphan.sla.models import BusinessHours, Holiday, SlaBreach, SlaPolicy
from samphan.sla.services import week_as_text

# "Due soon": the running target's due time is less than this far away.
DUE_SOON = timedelta(hours=1)
# The conversation fields sla_state reads (for .values() callers).
STATE_FIELDS = ("sla_policy_id", "first_response_due_at", "next_response_due_at", "resolution_due_at",
                "sla_breaches")


def sla_state(row: Mapping[str, Any] | Any, *, now: datetime | None = None) -> dict[str, Any] | None:
    """The SLA badge of one conversation, from its row (a dict of STATE_FIELDS or a Conversation).

    state: "breached" (a running target is past due: a customer waits too long), "due_soon"
    (within DUE_SOON), "on_track", or "missed" (nothing running, a target was missed in this
    cycle); None when no SLA applies. `target`/`due_at`/`seconds_left` name the earliest
    running target (seconds_left < 0 when overdue); `breaches` lists the targets missed.
    """
    get = row.get if isinstance(row, Mapping) else (lambda name: getattr(row, name))
    now = now or timezone.now()
    running = [(target, value) for target, field in DUE_FIELD.items() if (value := get(field)) is not None]
    bits = get("sla_breaches") or 0
    breaches = [str(target) for target, bit in BIT.items() if bits & bit]
    if not running and not breaches:
        return None
    target, due = min(running, key=lambda pair: pair[1]) if running else (None, None)
    if due is None:
        state = "missed"
    elif due <= now:
        state = "breached"
    elif due - now <= DUE_SOON:
        state = "due_soon"
    else:
        state = "on_track"
    return {"state": state, "target": str(target) if target else None, "due_at": due,
            "seconds_left": int((due - now).total_seconds()) if due else None, "breaches": breaches,
            "first_response_due_at": get("first_response_due_at"),
            "next_response_due_at": get("next_response_due_at"), "resolution_due_at": get("resolution_due_at")}


def sla_settings(*, workspace: Any) -> dict[str, Any]:
    ws_id = getattr(workspace, "pk", workspace)
    hours = BusinessHours.objects.filter(workspace_id=ws_id).first()
    return {
        "configured": hours is not None,
        "time_zone": hours.time_zone if hours else "Asia/Bangkok",
        "week": week_as_text(hours.week if hours else None),
        "holidays": list(Holiday.objects.filter(workspace_id=ws_id).order_by("date")),
        "policies": list(SlaPolicy.objects.filter(workspace_id=ws_id).select_related("team", "channel_account")
                         .order_by("position", "id")),
    }


def breaches_recent(*, workspace: Any, since: datetime | None = None, limit: int = 100) -> Any:
    qs = SlaBreach.objects.for_workspace(workspace).select_related("policy")
    if since:
        qs = qs.filter(detected_at__gte=since)
    return qs.order_by("-detected_at", "-id")[:max(1, min(limit, 1000))]
