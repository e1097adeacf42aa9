"""SLA API: business hours, holidays, policies, breaches and the response-time report (JSON and CSV)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Router, Schema

from samphan.core.api import caller
from samphan.core.csv_stream import csv_response
from samphan.core.scoping import get_scoped_or_404
from samphan.sla import services
from samphan.sla.models import Holiday, SlaPolicy
from samphan.sla.reports import conversations_csv_rows, report_range, response_report
from samphan.sla.selectors import breaches_recent, sla_settings

router = Router(tags=["sla"])


class BusinessHoursIn(Schema):
    time_zone: str = "Asia/Bangkok"
    # {"mon": [["09:00", "12:00"], ["13:00", "18:00"]], ...}; missing days are closed.
    week: dict[str, Any]


class BusinessHoursOut(Schema):
    configured: bool  # false: open 24/7 (business time = wall-clock time)
    time_zone: str
    week: dict[str, list[list[str]]]


class HolidayIn(Schema):
    date: str
    name: str = ""


class HolidayOut(Schema):
    id: int
    date: date
    name: str


class HolidayImportIn(Schema):
    year: int
    country: str = "TH"
    language: str = "th"


class PolicyIn(Schema):
    name: str | None = None
    position: int | None = None
    is_active: bool | None = None
    channel_account_id: int | None = None
    team_id: int | None = None
    priority: str | None = None
    first_response_seconds: int | None = None
    next_response_seconds: int | None = None
    resolution_seconds: int | None = None
    business_hours: bool | None = None


class PolicyOut(Schema):
    id: int
    name: str
    position: int
    is_active: bool
    channel_account_id: int | None
    team_id: int | None
    priority: str
    first_response_seconds: int | None
    next_response_seconds: int | None
    resolution_seconds: int | None
    business_hours: bool


class BreachOut(Schema):
    id: int
    conversation_id: int
    target: str
    due_at: datetime
    detected_at: datetime
    via: str
    policy_id: int | None
    agent_id: int | None
    team_id: int | None


def _hours_out(workspace: Any) -> dict[str, Any]:
    s = sla_settings(workspace=workspace)
    return {"configured": s["configured"], "time_zone": s["time_zone"], "week": s["week"]}


@router.get("/business-hours", response=BusinessHoursOut)
def business_hours(request):
    return _hours_out(caller(request).require("inbox.reply"))


@router.put("/business-hours", response=BusinessHoursOut,
            summary="Weekly schedule (several intervals a day) and time zone; open conversations are recomputed")
def business_hours_set(request, payload: BusinessHoursIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    services.business_hours_set(workspace=workspace, time_zone=payload.time_zone, week=payload.week, actor=c.user,
                                via=c.via)
    return _hours_out(workspace)


@router.delete("/business-hours", response=BusinessHoursOut, summary="Back to open 24/7")
def business_hours_clear(request):
    c = caller(request)
    workspace = c.require("workspace.manage")
    services.business_hours_clear(workspace=workspace, actor=c.user, via=c.via)
    return _hours_out(workspace)


@router.get("/holidays", response=list[HolidayOut])
def holidays(request, year: int | None = None):
    qs = Holiday.objects.for_workspace(caller(request).require("inbox.reply")).order_by("date")
    return list(qs.filter(date__year=year) if year else qs)


@router.post("/holidays", response={201: HolidayOut})
def holiday_add(request, payload: HolidayIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    return 201, services.holiday_add(workspace=workspace, day=payload.date, name=payload.name, actor=c.user,
                                     via=c.via)


@router.post("/holidays/import", response={201: list[HolidayOut]},
             summary="Add a year's public holidays (Thailand's by default, names in Thai or English)")
def holidays_import(request, payload: HolidayImportIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    return 201, services.holidays_import_public(workspace=workspace, year=payload.year, country=payload.country,
                                                language=payload.language, actor=c.user, via=c.via)


@router.delete("/holidays/{int:holiday_id}", response={204: None})
def holiday_delete(request, holiday_id: int):
    c = caller(request)
    workspace = c.require("workspace.manage")
    services.holiday_delete(holiday=get_scoped_or_404(Holiday, workspace, pk=holiday_id), actor=c.user, via=c.via)
    return 204, None


@router.get("/policies", response=list[PolicyOut])
def policies(request):
    return list(SlaPolicy.objects.for_workspace(caller(request).require("inbox.reply")).order_by("position", "id"))


@router.post("/policies", response={201: PolicyOut},
             summary="Targets in seconds (business hours unless business_hours=false), optionally per channel, "
                     "team or priority; the first active matching policy by position applies")
def policy_create(request, payload: PolicyIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    fields = payload.dict(exclude_unset=True)
    return 201, services.sla_policy_create(workspace=workspace, actor=c.user, via=c.via, **fields)


@router.patch("/policies/{int:policy_id}", response=PolicyOut)
def policy_update(request, policy_id: int, payload: PolicyIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    policy = get_scoped_or_404(SlaPolicy, workspace, pk=policy_id)
    return services.sla_policy_update(policy=policy, actor=c.user, via=c.via, **payload.dict(exclude_unset=True))


@router.delete("/policies/{int:policy_id}", response={204: None})
def policy_delete(request, policy_id: int):
    c = caller(request)
    workspace = c.require("workspace.manage")
    services.sla_policy_delete(policy=get_scoped_or_404(SlaPolicy, workspace, pk=policy_id), actor=c.user, via=c.via)
    return 204, None


@router.get("/breaches", response=list[BreachOut], summary="Missed targets, newest first")
def breaches(request, since: datetime | None = None, limit: int = 100):
    return list(breaches_recent(workspace=caller(request).require("inbox.reply"), since=since, limit=limit))


@router.get("/report", response=dict,
            summary="First-response, next-response and resolution times (count, average, median, p90 in wall-clock "
                    "and business seconds, SLA hit rate) overall and per agent, team and channel; start/end are "
                    "inclusive dates (YYYY-MM-DD) in the workspace's time zone, default the last 30 days")
def report(request, start: str = "", end: str = ""):
    workspace = caller(request).require("analytics.view")
    return response_report(workspace=workspace, rng=report_range(workspace=workspace, start=start, end=end))


@router.get("/report/conversations.csv", summary="The report per conversation, as CSV (streamed)")
def report_csv(request, start: str = "", end: str = ""):
    workspace = caller(request).require("analytics.view")
    rng = report_range(workspace=workspace, start=start, end=end)
    return csv_response(conversations_csv_rows(workspace=workspace, rng=rng),
                       f"conversations-{workspace.slug}-{rng.start.isoformat()}-{rng.end.isoformat()}.csv")
