"""SLA pages: the settings (business hours, holidays, policies) and the response-time report with its CSV.

Each settings section is an htmx fragment: its form posts, the service validates
(the same one the API uses), and the section comes back with the error next to
the field, or updated.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from samphan.accounts.roles import role_can
from samphan.channels.models import ChannelAccount
from samphan.core.csv_stream import csv_response
from samphan.core.errors import SamphanError
from samphan.core.scoping import get_scoped_or_404
from samphan.inbox.models import Team
from samphan.sla import services
from samphan.sla.models import Holiday, Priority, SlaPolicy
from samphan.sla.reports import KINDS, conversations_csv_rows, report_range, response_report
from samphan.sla.selectors import sla_settings
from samphan.sla.services import DAYS, time_zones
from samphan.web.views import workspace_view

UNITS = {"minutes": 60, "hours": 3600, "days": 86400}


def _day_names() -> dict[str, str]:
    return {"mon": _("Monday"), "tue": _("Tuesday"), "wed": _("Wednesday"), "thu": _("Thursday"),
            "fri": _("Friday"), "sat": _("Saturday"), "sun": _("Sunday")}


def _settings_context(request, **extra: Any) -> dict[str, Any]:
    ws = request.workspace
    data = sla_settings(workspace=ws)
    names = _day_names()
    # Not configured yet: suggest Monday–Friday 09:00–18:00 rather than showing 24/7 in every day's box,
    # so that typing weekday hours does not leave the weekend open round the clock.
    suggested = data["week"] if data["configured"] else {d: [["09:00", "18:00"]] if d not in ("sat", "sun") else []
                                                          for d in DAYS}
    week_rows = [{"key": d, "name": names[d],
                  "text": extra.get("week_input", {}).get(d, ", ".join(f"{s}–{e}" for s, e in suggested[d]))}
                 for d in DAYS]
    return {
        **data, "week_rows": week_rows, "time_zone_choices": sorted(time_zones()),
        "teams": Team.objects.for_workspace(ws).order_by("name"),
        "channels": ChannelAccount.objects.for_workspace(ws).order_by("name"),
        "priorities": Priority.choices, "units": UNITS, "year": date.today().year,
        "target_fields": [("first_response", _("First response")), ("next_response", _("Next response")),
                          ("resolution", _("Resolution"))],
        "can_manage": role_can(request.membership.role, "workspace.manage"), **extra,
    }


def _section(request, name: str, **extra: Any):
    template = f"web/sla/_{name}.html"
    if request.headers.get("HX-Request"):
        return render(request, template, _settings_context(request, **extra))
    if extra.get("error"):
        messages.error(request, extra["error"])
    return redirect("web:sla_settings", slug=request.workspace.slug)


@workspace_view("inbox.reply")
def sla_settings_page(request):
    return render(request, "web/sla/settings.html", _settings_context(request))


def _parse_week_text(post) -> tuple[dict[str, list[list[str]]], dict[str, str]]:
    """'09:00–12:00, 13:00-18:00' per day → {"mon": [["09:00", "12:00"], ["13:00", "18:00"]]}; blank = closed."""
    week: dict[str, list[list[str]]] = {}
    raw: dict[str, str] = {}
    for day in DAYS:
        text = post.get(f"week_{day}", "").strip()
        raw[day] = text
        intervals = []
        for part in filter(None, (p.strip() for p in text.replace(";", ",").split(","))):
            bounds = [b.strip() for b in part.replace("–", "-").replace("—", "-").split("-")]
            intervals.append(bounds if len(bounds) == 2 else [part])
        week[day] = intervals
    return week, raw


@require_POST
@workspace_view("workspace.manage")
def sla_hours_save(request):
    week, raw = _parse_week_text(request.POST)
    try:
        if request.POST.get("always_open"):
            services.business_hours_clear(workspace=request.workspace, actor=request.user, via="web")
        else:
            services.business_hours_set(workspace=request.workspace, time_zone=request.POST.get("time_zone", ""),
                                        week=week, actor=request.user, via="web")
    except SamphanError as exc:
        return _section(request, "hours", error=exc.message, week_input=raw,
                        time_zone_input=request.POST.get("time_zone", ""))
    return _section(request, "hours", saved=True)


@require_POST
@workspace_view("workspace.manage")
def sla_holiday_add(request):
    try:
        if request.POST.get("import_year"):
            try:
                year = int(request.POST["import_year"])
            except ValueError:
                raise services.ValidationFailed(_("Choose a year such as %(year)s.") % {"year": date.today().year}) from None
            added = services.holidays_import_public(workspace=request.workspace, year=year,
                                                    language=request.LANGUAGE_CODE, actor=request.user, via="web")
            return _section(request, "holidays", notice=_("%(count)s public holidays added.") % {"count": len(added)})
        services.holiday_add(workspace=request.workspace, day=request.POST.get("date", ""),
                             name=request.POST.get("name", ""), actor=request.user, via="web")
    except SamphanError as exc:
        return _section(request, "holidays", error=exc.message)
    return _section(request, "holidays")


@require_POST
@workspace_view("workspace.manage")
def sla_holiday_delete(request, holiday_id: int):
    services.holiday_delete(holiday=get_scoped_or_404(Holiday, request.workspace, pk=holiday_id), actor=request.user,
                            via="web")
    return _section(request, "holidays")


def _target(post, name: str) -> int | None:
    value = post.get(f"{name}_value", "").strip()
    if not value:
        return None
    try:
        amount = float(value)
    except ValueError:
        raise services.ValidationFailed(_("%(value)s is not a number.") % {"value": value},
                                        details={"field": name}) from None
    return round(amount * UNITS.get(post.get(f"{name}_unit", "minutes"), 60))


@require_POST
@workspace_view("workspace.manage")
def sla_policy_add(request):
    post = request.POST
    try:
        services.sla_policy_create(
            workspace=request.workspace, actor=request.user, via="web", name=post.get("name", ""),
            position=post.get("position") or 0, priority=post.get("priority", ""),
            team_id=int(post["team_id"]) if post.get("team_id", "").isdigit() else None,
            channel_account_id=int(post["channel_id"]) if post.get("channel_id", "").isdigit() else None,
            first_response_seconds=_target(post, "first_response"), next_response_seconds=_target(post, "next_response"),
            resolution_seconds=_target(post, "resolution"), business_hours=post.get("clock", "business") == "business")
    except SamphanError as exc:
        return _section(request, "policies", error=exc.message, form=post)
    return _section(request, "policies")


@require_POST
@workspace_view("workspace.manage")
def sla_policy_change(request, policy_id: int):
    policy = get_scoped_or_404(SlaPolicy, request.workspace, pk=policy_id)
    action = request.POST.get("action")
    if action == "delete":
        services.sla_policy_delete(policy=policy, actor=request.user, via="web")
    elif action in ("pause", "resume"):
        services.sla_policy_update(policy=policy, is_active=action == "resume", actor=request.user, via="web")
    else:
        raise Http404("no such action")
    return _section(request, "policies")


# --- the report -------------------------------------------------------------------------------------------

@require_GET
@workspace_view("analytics.view")
def sla_report(request):
    error = ""
    try:
        rng = report_range(workspace=request.workspace, start=request.GET.get("start"), end=request.GET.get("end"))
    except SamphanError as exc:
        error = exc.message
        rng = report_range(workspace=request.workspace)
    report = response_report(workspace=request.workspace, rng=rng)
    kind_names = {"first_response": _("First response"), "response": _("Next response"),
                  "resolution": _("Resolution")}
    dims = [("agent", _("Agent")), ("team", _("Team")), ("channel", _("Channel"))]
    template = "web/sla/_report.html" if request.headers.get("HX-Request") else "web/sla/report.html"
    return render(request, template, {
        "report": report, "rng": rng, "error": error, "kinds": [(k, kind_names[k]) for k in KINDS],
        "dims": dims, "clock": request.GET.get("clock", "business"),
    })


@require_GET
@workspace_view("analytics.view")
def sla_report_csv(request):
    try:
        rng = report_range(workspace=request.workspace, start=request.GET.get("start"), end=request.GET.get("end"))
    except SamphanError as exc:
        messages.error(request, exc.message)
        return redirect("web:sla_report", slug=request.workspace.slug)
    return csv_response(conversations_csv_rows(workspace=request.workspace, rng=rng),
                        f"conversations-{request.workspace.slug}-{rng.start.isoformat()}-{rng.end.isoformat()}.csv")
