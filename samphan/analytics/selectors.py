"""Reads of the analytics app: scores, segment and stage counts, stage moves, Pareto, CLV fits.

Everything except the Pareto report and an ad-hoc CLV fit reads the
materialised CustomerScore / StageChange tables, never the orders.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Avg, Count, QuerySet, Sum

from samphan.analytics.models import CustomerScore, ModelRun, RfmSegment, Stage, StageChange
from samphan.analytics.rules import DEFAULT_RULES
from samphan.core.errors import ValidationFailed
from samphan.customers.selectors import register_360_section

# NumPy, SciPy and Polars load on first use (inside the functions that need them): this
# module is imported at start-up to register the 360 section, by every command and process.

SECTION_FIELDS = (
    "stage", "stage_since", "rfm_segment", "r", "f", "m", "recency_days", "period_frequency", "period_spend",
    "p_alive", "expected_purchases_90d", "expected_spend", "clv", "total_spend", "order_count",
    "purchase_days", "first_purchase", "last_purchase", "computed_at",
)


@register_360_section("analytics")
def customer_analytics_section(workspace: Any, customer: Any) -> dict[str, Any] | None:
    """The customer's stage, RFM and CLV for the 360 page: one indexed query, None before a recompute."""
    row = (CustomerScore.objects.for_workspace(workspace).filter(customer_id=customer.pk)
           .values(*SECTION_FIELDS).first())
    if row is None:
        return None
    row["stage_label"] = str(Stage(row["stage"]).label) if row["stage"] else ""
    row["rfm_segment_label"] = str(RfmSegment(row["rfm_segment"]).label) if row["rfm_segment"] else ""
    return row


def scores(workspace: Any) -> QuerySet[CustomerScore]:
    return CustomerScore.objects.for_workspace(workspace)


def latest_run(workspace: Any) -> ModelRun | None:
    return ModelRun.objects.for_workspace(workspace).order_by("-computed_at", "-id").first()


def stage_counts(*, workspace: Any) -> dict[str, Any]:
    """Customers per lifecycle stage (every stage listed, zeros included) and their revenue."""
    rows: dict[str, Mapping[str, Any]] = {r["stage"]: r for r in scores(workspace).values("stage").annotate(
        n=Count("pk"), revenue=Sum("total_spend"), clv=Sum("clv"))}
    run = latest_run(workspace)
    return {
        "customers": sum(r["n"] for r in rows.values()),
        "computed_at": run.computed_at if run else None,
        "as_of": run.as_of if run else None,
        "stages": {
            s.value: {"label": str(s.label), "customers": rows.get(s.value, {}).get("n", 0),
                      "revenue": float(rows.get(s.value, {}).get("revenue") or 0),
                      "clv": float(rows.get(s.value, {}).get("clv") or 0)}
            for s in Stage
        },
    }


def rfm_summary(*, workspace: Any) -> dict[str, Any]:
    """Customers per RFM segment, and the R × F grid of counts (scored customers only)."""
    qs = scores(workspace).exclude(rfm_segment="")
    segments: dict[str, Mapping[str, Any]] = {r["rfm_segment"]: r for r in qs.values("rfm_segment").annotate(
        n=Count("pk"), revenue=Sum("period_spend"), recency=Avg("recency_days"), frequency=Avg("period_frequency"))}
    grid = [[0] * 5 for _ in range(5)]
    for row in qs.values("r", "f").annotate(n=Count("pk")):
        r, f = row["r"], row["f"]
        if r is not None and f is not None:  # set on every scored row (services.recompute writes them together)
            grid[5 - r][f - 1] = row["n"]
    run = latest_run(workspace)
    period_days = (run.rules or DEFAULT_RULES).get("rfm", DEFAULT_RULES["rfm"])["period_days"] if run else None
    return {
        "customers": sum(r["n"] for r in segments.values()),
        "as_of": run.as_of if run else None,
        "period_days": period_days,
        "segments": {
            s.value: {"label": str(s.label), "customers": segments.get(s.value, {}).get("n", 0),
                      "revenue": float(segments.get(s.value, {}).get("revenue") or 0),
                      "avg_recency_days": _round(segments.get(s.value, {}).get("recency")),
                      "avg_frequency": _round(segments.get(s.value, {}).get("frequency"))}
            for s in RfmSegment
        },
        "grid_r_by_f": {"rows": [5, 4, 3, 2, 1], "columns": [1, 2, 3, 4, 5], "counts": grid},
    }


def _round(value: Any, digits: int = 2) -> float | None:
    return None if value is None else round(float(value), digits)


# --- stage movement ----------------------------------------------------------------


def quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def stage_moves(*, workspace: Any, from_stage: str = "", to_stage: str = "", since: datetime | None = None,
                until: datetime | None = None) -> QuerySet[StageChange]:
    """Stage changes, newest first: "who moved from regular to lapsed this quarter" is one query.

    An empty `from_stage` or `to_stage` matches any stage; `from_stage="-"` matches
    only a customer's first stage (no previous one).
    """
    for value in (from_stage, to_stage):
        if value and value != "-" and value not in Stage.values:
            raise ValidationFailed(f"unknown stage {value!r}; one of {', '.join(Stage.values)}")
    qs = StageChange.objects.for_workspace(workspace)
    if from_stage:
        qs = qs.filter(from_stage="" if from_stage == "-" else from_stage)
    if to_stage:
        qs = qs.filter(to_stage=to_stage)
    if since:
        qs = qs.filter(changed_at__gte=since)
    if until:
        qs = qs.filter(changed_at__lt=until)
    return qs.order_by("-changed_at", "-id")


def stage_flow(*, workspace: Any, since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
    """Counts of moves between stages in a period (from → to → customers)."""
    qs = stage_moves(workspace=workspace, since=since, until=until).exclude(from_stage="")
    return [{"from_stage": r["from_stage"], "to_stage": r["to_stage"], "customers": r["n"]}
            for r in qs.order_by().values("from_stage", "to_stage").annotate(n=Count("id")).order_by("-n")]


def local_midnight(day: date, tz_name: str) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name))


# --- Pareto ------------------------------------------------------------------------


def pareto_report(*, workspace: Any, start: date | None = None, end: date | None = None,
                  curve: bool = True) -> dict[str, Any]:
    """80/20: share of completed-order revenue from the top 1/5/10/20/50 % of customers by spend."""
    if start and end and start > end:
        raise ValidationFailed("the period starts after it ends")
    from samphan.analytics.aggregate import customer_spend
    from samphan.analytics.scoring import pareto

    spend = customer_spend(workspace_id=workspace.pk, tz_name=workspace.time_zone, start=start, end=end)
    report = pareto(spend)
    if not curve:
        report.pop("curve")
    return {"from": start, "to": end, **report}


PERIODS = ("month", "quarter", "year")


def _period_starts(start: date, end: date, period: str) -> list[tuple[str, date, date]]:
    out = []
    cursor = {"month": date(start.year, start.month, 1), "quarter": quarter_start(start),
              "year": date(start.year, 1, 1)}[period]
    step = {"month": 1, "quarter": 3, "year": 12}[period]
    while cursor <= end:
        months = cursor.month - 1 + step
        following = date(cursor.year + months // 12, months % 12 + 1, 1)
        label = {"month": f"{cursor:%Y-%m}", "quarter": f"{cursor.year}-Q{(cursor.month - 1) // 3 + 1}",
                 "year": str(cursor.year)}[period]
        out.append((label, max(cursor, start), min(following - timedelta(days=1), end)))
        cursor = following
    return out


def pareto_by_period(*, workspace: Any, period: str, start: date, end: date) -> list[dict[str, Any]]:
    """The Pareto table per month, quarter or year between two dates (at most 120 periods)."""
    if period not in PERIODS:
        raise ValidationFailed(f"period must be one of {', '.join(PERIODS)}")
    spans = _period_starts(start, end, period)
    if len(spans) > 120:
        raise ValidationFailed("too many periods; choose a shorter range or a longer period")
    return [{"period": label, **pareto_report(workspace=workspace, start=s, end=e, curve=False)}
            for label, s, e in spans]


# --- CLV fit on demand -------------------------------------------------------------


@dataclass(frozen=True)
class ClvFitReport:
    bgnbd: Any  # clv.BGNBDParams
    gamma_gamma: Any  # clv.GammaGammaParams
    customers: int
    calibration_end: date
    unit: str

    def as_json(self) -> dict[str, Any]:
        b, g = self.bgnbd, self.gamma_gamma
        return {
            "bgnbd": {"r": b.r, "alpha": b.alpha, "a": b.a, "b": b.b, "log_likelihood": b.log_likelihood},
            "gamma_gamma": {"p": g.p, "q": g.q, "gamma": g.gamma, "log_likelihood": g.log_likelihood,
                            "customers": g.customers},
            "customers": self.customers,
            "calibration_end": self.calibration_end.isoformat(),
            "unit": self.unit,
        }


def clv_fit_report(*, workspace: Any, calibration_end: date, unit: str = "week") -> ClvFitReport:
    """Fit BG/NBD and Gamma-Gamma on completed orders up to the calibration end; nothing is stored."""
    from samphan.analytics.services import UNIT_DAYS, clv_fit_for_workspace

    if unit not in UNIT_DAYS:
        raise ValidationFailed("unit must be day or week")
    result = clv_fit_for_workspace(workspace=workspace, calibration_end=calibration_end, unit=unit)
    if result.error or result.bgnbd is None or result.gamma_gamma is None:
        raise ValidationFailed(f"not enough purchase data in {workspace.slug} for a CLV fit: {result.error}")
    return ClvFitReport(bgnbd=result.bgnbd, gamma_gamma=result.gamma_gamma, customers=result.bgnbd.customers,
                        calibration_end=calibration_end, unit=unit)
