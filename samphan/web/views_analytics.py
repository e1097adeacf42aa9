"""The analytics dashboard: lifecycle stages and their movement, revenue by stage and RFM
segment, the 80/20 curve, the CLV distribution, customers at risk, and a recompute button.

Charts are inline SVG drawn here from a few aggregate queries (samphan/analytics/dashboard.py);
no chart library, nothing loaded from elsewhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from samphan.analytics.dashboard import dashboard as dashboard_data
from samphan.core.jobs import job_enqueue
from samphan.core.models import Job
from samphan.core.scoping import get_scoped_or_404
from samphan.web.views import workspace_view

JOB_KIND = "analytics_recompute"

# Pareto chart geometry (SVG user units; the SVG scales to its container).
PW, PH = 320, 240
PL, PR, PT, PB = 40, 12, 12, 34
# CLV histogram geometry.
HW, HH = 360, 220
HL, HR, HT, HB = 36, 8, 14, 40


def _short_amount(value: float) -> str:
    """1500 → 1.5k, 2000000 → 2M: axis labels that fit under a narrow bar."""
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            text = f"{value / size:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return f"{value:.0f}"


def pareto_chart(pareto: dict[str, Any]) -> dict[str, Any]:
    """The Lorenz curve as an SVG polyline, the equality diagonal, grid lines and the top-20 % marker."""
    w, h = PW - PL - PR, PH - PT - PB

    def xy(x_pct: float, y_share: float) -> tuple[float, float]:
        return round(PL + w * x_pct / 100, 1), round(PT + h * (1 - y_share), 1)

    points = " ".join(f"{x},{y}" for x, y in (xy(p, s) for p, s in pareto["points"]))
    area = f"{PL},{PT + h} {points} {PL + w},{PT + h}"
    ticks = []
    for pct in (0, 20, 40, 60, 80, 100):
        x, _y = xy(pct, 0)
        _x, y = xy(0, pct / 100)
        ticks.append({"label": f"{pct}%", "x": x, "y": y})
    marker = None
    top20 = next((t for t in pareto["top"] if t["share"] == 20), None)
    if top20 and top20["revenue_share"] is not None:
        mx, my = xy(20, top20["revenue_share"])
        marker = {"x": mx, "y": my, "label": f"{round(top20['revenue_share'] * 100)}%"}
    return {"width": PW, "height": PH, "left": PL, "top": PT, "right": PL + w, "bottom": PT + h,
            "points": points, "area": area, "ticks": ticks, "marker": marker,
            "diag": {"x1": PL, "y1": PT + h, "x2": PL + w, "y2": PT}}


def clv_chart(clv: dict[str, Any]) -> dict[str, Any]:
    """Vertical bars, one per CLV bucket, with short amount labels under them."""
    buckets = clv["buckets"]
    w, h = HW - HL - HR, HH - HT - HB
    top = max((b["customers"] for b in buckets), default=0) or 1
    slot = w / max(1, len(buckets))
    bars = []
    for i, b in enumerate(buckets):
        bh = h * b["customers"] / top
        x = HL + i * slot
        bars.append({"x": round(x + slot * 0.12, 1), "y": round(HT + h - bh, 1), "w": round(slot * 0.76, 1),
                     "h": round(bh, 1), "cx": round(x + slot / 2, 1), "count": b["customers"],
                     "label": f"<{_short_amount(b['high'])}" if i == 0 else f"{_short_amount(b['low'])}+",
                     "low": b["low"], "high": b["high"]})
    grid = [{"y": round(HT + h * (1 - f), 1), "label": _short_amount(top * f)} for f in (0, 0.5, 1)]
    return {"width": HW, "height": HH, "left": HL, "right": HL + w, "bottom": HT + h, "bars": bars,
            "grid": grid, "label_y": HT + h + 16}


def _running_job(workspace) -> Job | None:
    return (Job.objects.for_workspace(workspace).filter(kind=JOB_KIND, status__in=[Job.Status.QUEUED,
                                                                                    Job.Status.RUNNING])
            .order_by("-created_at", "-id").first())


@workspace_view("analytics.view")
def analytics(request):
    data = dashboard_data(workspace=request.workspace)
    context: dict[str, Any] = {**data, "job": _running_job(request.workspace)}
    if data["run"] is not None:
        totals = data["totals"]
        top_customers = max((s["customers"] for s in totals["stages"]), default=0) or 1
        for s in totals["stages"]:
            s["bar"] = round(100 * s["customers"] / top_customers, 1)
        top_revenue = max((s["revenue"] for s in totals["stages"] + totals["segments"]), default=0) or 1
        for s in totals["stages"] + totals["segments"]:
            s["revenue_bar"] = round(100 * s["revenue"] / top_revenue, 1)
        context["pareto_chart"] = pareto_chart(data["pareto"]) if data["pareto"]["customers"] else None
        context["clv_chart"] = clv_chart(data["clv"]) if data["clv"]["buckets"] else None
        context["segments_with_customers"] = [s for s in totals["segments"] if s["customers"]]
    return render(request, "web/analytics/dashboard.html", context)


@require_POST
@workspace_view("analytics.view")
def analytics_recompute(request):
    from samphan.analytics.tasks import analytics_recompute_job

    job = _running_job(request.workspace) or job_enqueue(
        workspace=request.workspace, kind=JOB_KIND, task=analytics_recompute_job, actor=request.user)
    if request.headers.get("HX-Request") == "true":
        return render(request, "web/analytics/_job.html", {"job": job})
    messages.info(request, _("Recomputing the analytics in the background."))
    return redirect("web:analytics", slug=request.workspace.slug)


@workspace_view("analytics.view")
def analytics_job(request, job_id: int):
    job = get_scoped_or_404(Job, request.workspace, pk=job_id, kind=JOB_KIND)
    return render(request, "web/analytics/_job.html", {"job": job})
