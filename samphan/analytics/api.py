"""Analytics API (/api/analytics): RFM, lifecycle stages and their movement, Pareto, CLV, recompute.

Every endpoint reads the caller's workspace only; another workspace's customers
are simply not found.
"""


from datetime import date, datetime
from typing import Any

from django.db.models import F
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate
from pydantic import ConfigDict

from samphan.analytics import selectors
from samphan.analytics.models import CustomerScore
from samphan.analytics.rules import workspace_today
from samphan.core.api import caller
from samphan.core.jobs import job_enqueue
from samphan.core.jobs_api import JobOut
from samphan.core.scoping import get_scoped_or_404

router = Router(tags=["analytics"])


class ScoreOut(Schema):
    customer_id: int
    stage: str
    stage_since: datetime
    rfm_segment: str
    r: int | None
    f: int | None
    m: int | None
    recency_days: int | None
    period_frequency: int
    period_spend: float
    p_alive: float | None
    p_alive_previous: float | None
    expected_purchases_90d: float | None
    expected_spend: float | None
    clv: float | None
    total_spend: float
    order_count: int
    purchase_days: int
    first_purchase: date | None
    last_purchase: date | None
    computed_at: datetime


class StageChangeOut(Schema):
    id: int
    customer_id: int
    from_stage: str
    to_stage: str
    changed_at: datetime


class RulesIn(Schema):
    """Only the rules to change; see GET /rules for every key and its current value."""

    model_config = ConfigDict(extra="allow")  # unknown sections reach validation and are reported

    rfm: dict[str, Any] | None = None
    clv: dict[str, Any] | None = None
    lifecycle: dict[str, Any] | None = None


class ScoreFilters(Schema):
    stage: str = ""
    rfm_segment: str = ""
    min_clv: float | None = None
    max_p_alive: float | None = None
    order_by: str = "-clv"


class MovesFilters(Schema):
    from_stage: str = ""
    to_stage: str = ""
    since: datetime | None = None
    until: datetime | None = None
    this_quarter: bool = False


SCORE_ORDERINGS = {"-clv", "clv", "-total_spend", "total_spend", "-p_alive", "p_alive", "recency_days",
                   "-recency_days", "customer_id"}


@router.get("/stages", summary="Customers per lifecycle stage")
def stages(request) -> dict[str, Any]:
    workspace = caller(request).require("analytics.view")
    return selectors.stage_counts(workspace=workspace)


@router.get("/rfm", summary="Customers per RFM segment and the R × F grid")
def rfm(request) -> dict[str, Any]:
    workspace = caller(request).require("analytics.view")
    return selectors.rfm_summary(workspace=workspace)


@router.get("/pareto", summary="80/20: share of revenue from the top x % of customers (curve and table)")
def pareto(request, start: date | None = None, end: date | None = None, period: str = "") -> dict[str, Any]:
    """Over all completed orders, or between `start` and `end` (inclusive); with `period`
    (month, quarter, year) also the table per period."""
    workspace = caller(request).require("analytics.view")
    report = selectors.pareto_report(workspace=workspace, start=start, end=end)
    if period:
        first = start or _first_order_day(workspace)
        last = end or workspace_today(workspace)
        report["periods"] = selectors.pareto_by_period(workspace=workspace, period=period, start=first, end=last)
    return report


def _first_order_day(workspace) -> date:
    from samphan.commerce.models import Order

    first = Order.objects.for_workspace(workspace).order_by("ordered_at").values_list("ordered_at", flat=True).first()
    return first.date() if first else workspace_today(workspace)


@router.get("/clv", summary="The CLV models of the last recompute (BG/NBD, Gamma-Gamma)")
def clv_latest(request) -> dict[str, Any]:
    workspace = caller(request).require("analytics.view")
    run = selectors.latest_run(workspace)
    if run is None:
        return {"computed_at": None, "bgnbd": None, "gamma_gamma": None, "customers": 0, "fit_error": ""}
    return {"computed_at": run.computed_at, "as_of": run.as_of, "bgnbd": run.bgnbd or None,
            "gamma_gamma": run.gamma_gamma or None, "customers": run.customers, "buyers": run.buyers,
            "fit_error": run.fit_error, "seconds": run.seconds}


@router.get("/scores", response=list[ScoreOut], summary="Per-customer scores, filtered and ordered")
@paginate(LimitOffsetPagination)
def scores_list(request, filters: Query[ScoreFilters]):
    workspace = caller(request).require("analytics.view")
    qs = selectors.scores(workspace)
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.rfm_segment:
        qs = qs.filter(rfm_segment=filters.rfm_segment)
    if filters.min_clv is not None:
        qs = qs.filter(clv__gte=filters.min_clv)
    if filters.max_p_alive is not None:
        qs = qs.filter(p_alive__lte=filters.max_p_alive)
    order = filters.order_by if filters.order_by in SCORE_ORDERINGS else "-clv"
    field = order.lstrip("-")
    key = F(field).desc(nulls_last=True) if order.startswith("-") else F(field).asc(nulls_last=True)
    return qs.order_by(key, "customer_id")


@router.get("/churn-risk", response=list[ScoreOut],
            summary="Valuable customers slipping away: P(alive) falling or low, or an at-risk RFM segment")
def churn_risk(request, limit: int = 50):
    from samphan.analytics.dashboard import churn_risk as churn_list

    workspace = caller(request).require("analytics.view")
    return churn_list(workspace=workspace, limit=max(1, min(limit, 500)))


@router.get("/scores/{int:customer_id}", response=ScoreOut, summary="One customer's scores")
def score_detail(request, customer_id: int):
    workspace = caller(request).require("analytics.view")
    return get_scoped_or_404(CustomerScore, workspace, customer_id=customer_id)


@router.get("/stage-changes", response=list[StageChangeOut],
            summary="Moves between lifecycle stages, e.g. from regular to lapsed this quarter")
@paginate(LimitOffsetPagination)
def stage_changes(request, filters: Query[MovesFilters]):
    workspace = caller(request).require("analytics.view")
    since = filters.since
    if filters.this_quarter:
        since = selectors.local_midnight(selectors.quarter_start(workspace_today(workspace)), workspace.time_zone)
    return selectors.stage_moves(workspace=workspace, from_stage=filters.from_stage, to_stage=filters.to_stage,
                                 since=since, until=filters.until)


@router.get("/stage-flow", summary="How many customers moved between which stages in a period")
def stage_flow(request, since: datetime | None = None, until: datetime | None = None) -> list[dict[str, Any]]:
    workspace = caller(request).require("analytics.view")
    return selectors.stage_flow(workspace=workspace, since=since, until=until)


@router.get("/rules", summary="The workspace's RFM, CLV and lifecycle rules (defaults filled in)")
def rules_get(request) -> dict[str, Any]:
    from samphan.analytics.services import analytics_rules_get

    workspace = caller(request).require("analytics.view")
    return analytics_rules_get(workspace=workspace)


@router.patch("/rules", summary="Change some rules; takes effect at the next recompute")
def rules_patch(request, payload: RulesIn) -> dict[str, Any]:
    from samphan.analytics.services import analytics_rules_update

    c = caller(request)
    workspace = c.require("workspace.manage")
    return analytics_rules_update(workspace=workspace, changes=payload.model_dump(exclude_none=True),
                                  actor=c.user, via=c.via)


@router.post("/recompute", response={202: JobOut}, summary="Recompute RFM, lifecycle and CLV in the background")
def recompute(request, as_of: date | None = None):
    """`as_of` (query, optional): score as if today were that date; purchases after it are ignored."""
    from samphan.analytics.tasks import analytics_recompute_job

    c = caller(request)
    workspace = c.require("analytics.view")
    params = {"as_of": as_of.isoformat()} if as_of else {}
    job = job_enqueue(workspace=workspace, kind="analytics_recompute", task=analytics_recompute_job,
                      params=params, actor=c.user)
    return 202, job
