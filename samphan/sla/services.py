"""Writes for SLA settings: business hours, holidays and policies.

Every change is validated with a message that says which day, interval, row or
field is wrong and why, audited, and followed (after commit) by a background
recompute of the open conversations' due times (`sla.recompute`).
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import date
from functools import lru_cache
from itertools import pairwise
from typing import Any

from django.db import transaction

from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed
from samphan.core.jobs import job_enqueue
from samphan.core.models import Job
from samphan.sla.models import BusinessHours, Holiday, Priority, SlaPolicy

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_TARGET_SECONDS = 365 * 86400
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})$")


def _ws_id(workspace: Any) -> int:
    return getattr(workspace, "pk", workspace)


@lru_cache(maxsize=1)
def time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def parse_time(value: Any, *, where: str) -> int:
    """'09:30' → 570 minutes; '24:00' is the end of the day."""
    match = _TIME_RE.match(str(value).strip())
    if match:
        hours, minutes = int(match.group(1)), int(match.group(2))
        if minutes < 60 and (hours < 24 or (hours == 24 and minutes == 0)):
            return hours * 60 + minutes
    raise ValidationFailed(f"{where}: {value!r} is not a time; write HH:MM between 00:00 and 24:00",
                           details={"field": where})


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_week(week: Any) -> list[list[list[int]]]:
    """{"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ...} → seven sorted lists of [start, end] minutes.

    Missing days are closed. Raises ValidationFailed naming the day and interval.
    """
    if not isinstance(week, dict):
        raise ValidationFailed("week is an object of days (mon … sun), each a list of [\"HH:MM\", \"HH:MM\"]")
    unknown = sorted(set(week) - set(DAYS))
    if unknown:
        raise ValidationFailed(f"unknown day {unknown[0]!r}; days are {', '.join(DAYS)}", details={"field": unknown[0]})
    parsed: list[list[list[int]]] = []
    for day in DAYS:
        intervals = week.get(day) or []
        if not isinstance(intervals, list):
            raise ValidationFailed(f"{day}: a list of [\"HH:MM\", \"HH:MM\"] intervals", details={"field": day})
        rows = []
        for n, interval in enumerate(intervals, start=1):
            where = f"{day} interval {n}"
            if not isinstance(interval, (list, tuple)) or len(interval) != 2:
                raise ValidationFailed(f"{where}: give a start and an end, like [\"09:00\", \"18:00\"]",
                                       details={"field": day, "interval": n})
            start, end = (parse_time(interval[0], where=where), parse_time(interval[1], where=where))
            if start >= end:
                raise ValidationFailed(
                    f"{where}: {format_minutes(start)}–{format_minutes(end)} ends before it starts; a shift past "
                    f"midnight is two intervals (…–24:00 and 00:00–… the next day)",
                    details={"field": day, "interval": n})
            rows.append([start, end])
        rows.sort()
        for previous, current in pairwise(rows):
            if current[0] < previous[1]:
                raise ValidationFailed(
                    f"{day}: {format_minutes(previous[0])}–{format_minutes(previous[1])} overlaps "
                    f"{format_minutes(current[0])}–{format_minutes(current[1])}", details={"field": day})
        parsed.append(rows)
    if not any(parsed):
        raise ValidationFailed("business hours need at least one open interval; for every hour of every day "
                               "use 00:00–24:00 on each day", details={"field": "week"})
    return parsed


def week_as_text(week: list[list[list[int]]] | None) -> dict[str, list[list[str]]]:
    week = week or [[[0, 1440]]] * 7
    return {day: [[format_minutes(s), format_minutes(e)] for s, e in week[i]] for i, day in enumerate(DAYS)}


def _recompute_later(workspace_id: int, actor: Any) -> Job:
    from samphan.sla.tasks import sla_recompute

    return job_enqueue(workspace=workspace_id, kind="sla_recompute", task=sla_recompute, actor=actor)


# --- business hours -------------------------------------------------------------------------------


@transaction.atomic
def business_hours_set(*, workspace: Any, time_zone: str, week: Any, actor: Any = None,
                       via: str = "system") -> BusinessHours:
    ws_id = _ws_id(workspace)
    time_zone = (time_zone or "").strip()
    if time_zone not in time_zones():
        raise ValidationFailed(f"unknown time zone {time_zone!r}; use an IANA name such as Asia/Bangkok",
                               details={"field": "time_zone"})
    parsed = parse_week(week)
    hours, _ = BusinessHours.objects.select_for_update().get_or_create(workspace_id=ws_id)
    before = {"time_zone": hours.time_zone, "week": week_as_text(hours.week or None)}
    hours.time_zone, hours.week = time_zone, parsed
    hours.save()
    after = {"time_zone": time_zone, "week": week_as_text(parsed)}
    audit_record(workspace=ws_id, action="sla.business_hours_set", actor=actor, via=via, target=hours,
                 summary=time_zone, changes={k: [before[k], after[k]] for k in before if before[k] != after[k]})
    _recompute_later(ws_id, actor)
    return hours


@transaction.atomic
def business_hours_clear(*, workspace: Any, actor: Any = None, via: str = "system") -> None:
    """Back to the default: open 24/7 (business time = wall-clock time)."""
    ws_id = _ws_id(workspace)
    deleted, _ = BusinessHours.objects.filter(workspace_id=ws_id).delete()
    if deleted:
        audit_record(workspace=ws_id, action="sla.business_hours_cleared", actor=actor, via=via,
                     summary="open 24/7")
        _recompute_later(ws_id, actor)


# --- holidays ------------------------------------------------------------------------------------------


def parse_date(value: Any, *, where: str = "date") -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{where}: {value!r} is not a date; write YYYY-MM-DD (e.g. 2026-04-13)",
                               details={"field": where}) from None


@transaction.atomic
def holiday_add(*, workspace: Any, day: Any, name: str = "", actor: Any = None, via: str = "system") -> Holiday:
    ws_id = _ws_id(workspace)
    day = parse_date(day)
    name = (name or "").strip()
    if len(name) > 200:
        raise ValidationFailed("name: at most 200 characters", details={"field": "name"})
    if Holiday.objects.filter(workspace_id=ws_id, date=day).exists():
        raise Conflict(f"{day.isoformat()} is already a holiday")
    holiday = Holiday.objects.create(workspace_id=ws_id, date=day, name=name)
    audit_record(workspace=ws_id, action="sla.holiday_added", actor=actor, via=via, target=holiday,
                 summary=f"{day.isoformat()} {name}".strip())
    _recompute_later(ws_id, actor)
    return holiday


@transaction.atomic
def holiday_delete(*, holiday: Holiday, actor: Any = None, via: str = "system") -> None:
    audit_record(workspace=holiday.workspace_id, action="sla.holiday_deleted", actor=actor, via=via, target=holiday,
                 summary=f"{holiday.date.isoformat()} {holiday.name}".strip())
    ws_id = holiday.workspace_id
    holiday.delete()
    _recompute_later(ws_id, actor)


def public_holidays(*, country: str, year: int, language: str = "th") -> list[tuple[date, str]]:
    """A country's public holidays for a year, from the `holidays` package (data shipped in the wheel)."""
    import holidays as holidays_lib

    if not 2000 <= year <= 2100:
        raise ValidationFailed(f"year: {year} is outside 2000–2100", details={"field": "year"})
    try:
        table = holidays_lib.country_holidays(country, years=year, language=language if language in ("th", "en_US")
                                              else "en_US")
    except NotImplementedError:
        raise ValidationFailed(f"country: no public-holiday list for {country!r}", details={"field": "country"}) from None
    return sorted(table.items())


@transaction.atomic
def holidays_import_public(*, workspace: Any, year: int, country: str = "TH", language: str = "th",
                           actor: Any = None, via: str = "system") -> list[Holiday]:
    """Add a year's public holidays; dates already entered are left as they are. Returns those added."""
    ws_id = _ws_id(workspace)
    wanted = public_holidays(country=country, year=year, language="th" if language.startswith("th") else "en_US")
    existing = set(Holiday.objects.filter(workspace_id=ws_id, date__year=year).values_list("date", flat=True))
    added = Holiday.objects.bulk_create([Holiday(workspace_id=ws_id, date=d, name=n[:200])
                                         for d, n in wanted if d not in existing])
    if added:
        audit_record(workspace=ws_id, action="sla.holidays_imported", actor=actor, via=via,
                     summary=f"{len(added)} public holidays of {year} ({country})",
                     changes={"dates": [h.date.isoformat() for h in added]})
        _recompute_later(ws_id, actor)
    return added


# --- policies -----------------------------------------------------------------------------------------------

POLICY_FIELDS = ("name", "position", "is_active", "channel_account_id", "team_id", "priority",
                 "first_response_seconds", "next_response_seconds", "resolution_seconds", "business_hours")


def _clean_policy(ws_id: int, fields: dict[str, Any], *, policy: SlaPolicy | None) -> dict[str, Any]:
    from samphan.channels.models import ChannelAccount
    from samphan.inbox.models import Team

    unknown = sorted(set(fields) - set(POLICY_FIELDS))
    if unknown:
        raise ValidationFailed(f"unknown field {unknown[0]!r}", details={"field": unknown[0]})
    clean = dict(fields)
    if "name" in clean or policy is None:
        name = (clean.get("name") or "").strip()
        if not name or len(name) > 100:
            raise ValidationFailed("name: 1–100 characters", details={"field": "name"})
        clash = SlaPolicy.objects.filter(workspace_id=ws_id, name=name)
        if policy is not None:
            clash = clash.exclude(pk=policy.pk)
        if clash.exists():
            raise Conflict(f"there is already an SLA policy called {name}")
        clean["name"] = name
    for key in ("first_response_seconds", "next_response_seconds", "resolution_seconds"):
        value = clean.get(key)
        if value in ("", None):
            clean[key] = None if key in clean else getattr(policy, key, None)
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValidationFailed(f"{key}: {value!r} is not a whole number of seconds", details={"field": key}) from None
        if not 60 <= value <= MAX_TARGET_SECONDS:
            raise ValidationFailed(f"{key}: {value} s is outside 1 minute – 365 days", details={"field": key})
        clean[key] = value
    merged = {k: clean.get(k, getattr(policy, k, None)) for k in
              ("first_response_seconds", "next_response_seconds", "resolution_seconds")}
    if not any(v is not None for v in merged.values()):
        raise ValidationFailed("a policy needs at least one target (first response, next response or resolution)",
                               details={"field": "first_response_seconds"})
    if clean.get("priority"):
        if clean["priority"] not in Priority.values:
            raise ValidationFailed(f"priority: {clean['priority']!r} is not one of {', '.join(Priority.values)}",
                                   details={"field": "priority"})
    elif "priority" in clean:
        clean["priority"] = ""
    if clean.get("channel_account_id"):
        if not ChannelAccount.objects.filter(workspace_id=ws_id, pk=clean["channel_account_id"]).exists():
            raise ValidationFailed(f"channel_account_id: unknown channel #{clean['channel_account_id']}",
                                   details={"field": "channel_account_id"})
    elif "channel_account_id" in clean:
        clean["channel_account_id"] = None
    if clean.get("team_id"):
        if not Team.objects.filter(workspace_id=ws_id, pk=clean["team_id"]).exists():
            raise ValidationFailed(f"team_id: unknown team #{clean['team_id']}", details={"field": "team_id"})
    elif "team_id" in clean:
        clean["team_id"] = None
    if "position" in clean:
        try:
            clean["position"] = int(clean["position"] or 0)
        except (TypeError, ValueError):
            raise ValidationFailed("position: a whole number", details={"field": "position"}) from None
        if not 0 <= clean["position"] <= 10000:
            raise ValidationFailed("position: 0–10000", details={"field": "position"})
    for key in ("is_active", "business_hours"):
        if key in clean:
            clean[key] = bool(clean[key])
    return clean


@transaction.atomic
def sla_policy_create(*, workspace: Any, actor: Any = None, via: str = "system", **fields: Any) -> SlaPolicy:
    ws_id = _ws_id(workspace)
    clean = _clean_policy(ws_id, fields, policy=None)
    policy = SlaPolicy.objects.create(workspace_id=ws_id, **clean)
    audit_record(workspace=ws_id, action="sla.policy_created", actor=actor, via=via, target=policy,
                 summary=policy.name, changes={k: clean[k] for k in sorted(clean)})
    _recompute_later(ws_id, actor)
    return policy


@transaction.atomic
def sla_policy_update(*, policy: SlaPolicy, actor: Any = None, via: str = "system", **fields: Any) -> SlaPolicy:
    policy = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    clean = _clean_policy(policy.workspace_id, fields, policy=policy)
    changes = {k: [getattr(policy, k), v] for k, v in clean.items() if getattr(policy, k) != v}
    for key, value in clean.items():
        setattr(policy, key, value)
    policy.save()
    if changes:
        audit_record(workspace=policy.workspace_id, action="sla.policy_updated", actor=actor, via=via,
                     target=policy, summary=policy.name, changes=changes)
        _recompute_later(policy.workspace_id, actor)
    return policy


@transaction.atomic
def sla_policy_delete(*, policy: SlaPolicy, actor: Any = None, via: str = "system") -> None:
    audit_record(workspace=policy.workspace_id, action="sla.policy_deleted", actor=actor, via=via, target=policy,
                 summary=policy.name)
    ws_id = policy.workspace_id
    policy.delete()
    _recompute_later(ws_id, actor)
