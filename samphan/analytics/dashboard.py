"""Reads for the analytics dashboard: a handful of aggregate queries over the materialised tables.

Nothing here loops over customers in Python: stage and segment sizes, movements,
the Pareto buckets and the CLV histogram are grouped in SQL; only the few rows
of the churn-risk list are loaded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from itertools import pairwise
from typing import Any

from django.db import connection
from django.db.models import Count, F, Max, Min, Q, Sum
from django.utils import timezone

from samphan.analytics.models import CustomerScore, RfmSegment, Stage
from samphan.analytics.selectors import latest_run, scores, stage_flow

MOVES_DAYS = 90
CHURN_P_ALIVE = 0.5  # below this a customer is more likely gone than active
CHURN_SEGMENTS = (RfmSegment.AT_RISK, RfmSegment.CANT_LOSE)
CHURN_LIMIT = 15
CHURN_FALL = 0.05  # P(alive) down by at least five points since the previous recompute: falling
PARETO_BUCKETS = 100
TOP_SHARES = (1, 5, 10, 20, 50)  # as samphan.analytics.scoring, without loading NumPy


def stage_and_segment_totals(*, workspace: Any) -> dict[str, Any]:
    """Customers and lifetime revenue per lifecycle stage and per RFM segment (two grouped queries)."""
    by_stage: dict[str, Mapping[str, Any]] = {r["stage"]: r for r in scores(workspace).order_by().values("stage").annotate(
        n=Count("pk"), revenue=Sum("total_spend"))}
    by_segment: dict[str, Mapping[str, Any]] = {r["rfm_segment"]: r for r in scores(workspace).order_by().values("rfm_segment").annotate(
        n=Count("pk"), revenue=Sum("total_spend"))}
    customers = sum(r["n"] for r in by_stage.values())
    revenue = float(sum((r["revenue"] or 0) for r in by_stage.values()))

    def rows(choices: type[Stage] | type[RfmSegment], grouped: dict[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for c in choices:
            r = grouped.get(c.value, {})
            n, rev = r.get("n", 0), float(r.get("revenue") or 0)
            out.append({"key": c.value, "label": str(c.label), "customers": n, "revenue": rev,
                        "customer_share": n / customers if customers else 0.0,
                        "revenue_share": rev / revenue if revenue else 0.0})
        return out

    return {"customers": customers, "revenue": revenue, "stages": rows(Stage, by_stage),
            "segments": rows(RfmSegment, by_segment),
            "unscored": by_segment.get("", {}).get("n", 0)}


def stage_movements(*, workspace: Any, days: int = MOVES_DAYS) -> list[dict[str, Any]]:
    """From → to counts of stage changes in the last `days` days, largest first, with labels."""
    labels = {s.value: str(s.label) for s in Stage}
    since = timezone.now() - timedelta(days=days)
    return [{**r, "from_label": labels.get(r["from_stage"], r["from_stage"]),
             "to_label": labels.get(r["to_stage"], r["to_stage"])}
            for r in stage_flow(workspace=workspace, since=since)]


def pareto_from_scores(*, workspace: Any, shares: tuple[int, ...] = TOP_SHARES) -> dict[str, Any]:
    """Share of lifetime revenue vs share of customers, from the scores table in one query.

    Customers with spend are split into at most 100 equal groups by spend (NTILE, largest
    first); the database returns each group's size and revenue, and the curve interpolates
    linearly between group boundaries (exact with fewer than 100 buyers, and whenever the
    group boundaries fall on the percentages asked for).
    """
    table = CustomerScore._meta.db_table  # the model's table name and a constant: nothing from the caller
    sql = (f"SELECT bucket, COUNT(*), SUM(total_spend) FROM ("  # noqa: S608
           f" SELECT total_spend, NTILE({PARETO_BUCKETS}) OVER (ORDER BY total_spend DESC) AS bucket"
           f" FROM {table} WHERE workspace_id = %s AND total_spend > 0) AS t GROUP BY bucket ORDER BY bucket")
    with connection.cursor() as cursor:
        cursor.execute(sql, [workspace.pk])
        rows = cursor.fetchall()
    n = sum(r[1] for r in rows)
    revenue = float(sum(float(r[2]) for r in rows))
    if n == 0 or revenue <= 0:
        return {"customers": 0, "revenue": 0.0, "top": [{"share": s, "revenue_share": None} for s in shares],
                "points": [(0.0, 0.0)]}
    points = [(0.0, 0.0)]
    cum_n, cum_rev = 0, 0.0
    for _bucket, count, spend in rows:
        cum_n += count
        cum_rev += float(spend)
        points.append((100.0 * cum_n / n, cum_rev / revenue))

    def share_at(pct: float) -> float:
        for (x0, y0), (x1, y1) in pairwise(points):
            if pct <= x1:
                return y0 + (y1 - y0) * ((pct - x0) / (x1 - x0) if x1 > x0 else 1.0)
        return 1.0

    return {"customers": n, "revenue": revenue,
            "top": [{"share": s, "revenue_share": share_at(s)} for s in shares], "points": points}


def _nice_edges(top: float, max_buckets: int = 10) -> list[float]:
    """Bucket edges on a 1-2-5 scale up to `top`: readable amounts for a skewed distribution."""
    if top <= 0:
        return [0.0]
    edges: list[float] = []
    exp = max(0, math.floor(math.log10(top)) - 3)
    while True:
        for m in (1, 2, 5):
            e = m * 10.0 ** exp
            edges.append(e)
            if e > top:
                return [0.0, *edges[-max_buckets:]]
        exp += 1


def clv_histogram(*, workspace: Any) -> dict[str, Any]:
    """Customers per CLV bucket (two queries: the maximum, then every bucket's count at once)."""
    qs = scores(workspace).filter(clv__isnull=False)
    stats = qs.aggregate(top=Max("clv"), low=Min("clv"), n=Count("pk"), total=Sum("clv"))
    if not stats["n"]:
        return {"customers": 0, "buckets": [], "total": 0.0}
    edges = _nice_edges(float(stats["top"] or 0))
    if len(edges) == 1:
        return {"customers": stats["n"], "total": float(stats["total"] or 0),
                "buckets": [{"low": 0.0, "high": 0.0, "customers": stats["n"]}]}
    spans = list(pairwise(edges))
    low = float(stats["low"] or 0)
    while len(spans) > 1 and spans[0][1] <= low:  # no empty bars below the smallest value
        spans.pop(0)
    aggs = {f"b{i}": Count("pk", filter=Q(clv__lt=hi) & (Q(clv__gte=lo) if i else Q()))
            for i, (lo, hi) in enumerate(spans)}
    counts = qs.aggregate(**aggs)
    buckets = [{"low": 0.0 if i == 0 else lo, "high": hi, "customers": counts[f"b{i}"]} for i, (lo, hi) in enumerate(spans)]
    return {"customers": stats["n"], "total": float(stats["total"] or 0), "buckets": buckets}


def churn_risk(*, workspace: Any, limit: int = CHURN_LIMIT) -> list[CustomerScore]:
    """Valuable customers slipping away, most spend first.

    Slipping: P(alive) fell by CHURN_FALL or more since the previous recompute, or is below
    CHURN_P_ALIVE, or the RFM segment is At Risk / Can't Lose Them. Each row carries
    `p_alive_previous`, so the list shows which way P(alive) is moving.
    """
    falling = Q(p_alive_previous__isnull=False, p_alive__isnull=False,
                p_alive__lte=F("p_alive_previous") - CHURN_FALL)
    return list(scores(workspace).filter(total_spend__gt=0)
                .filter(falling | Q(p_alive__lt=CHURN_P_ALIVE) | Q(rfm_segment__in=CHURN_SEGMENTS))
                .select_related("customer").order_by("-total_spend", "-clv", "customer_id")[:limit])


def dashboard(*, workspace: Any) -> dict[str, Any]:
    """Everything the dashboard page shows; with no computation yet, only `run` (None)."""
    run = latest_run(workspace)
    if run is None:
        return {"run": None}
    return {
        "run": run,
        "totals": stage_and_segment_totals(workspace=workspace),
        "moves": stage_movements(workspace=workspace),
        "moves_days": MOVES_DAYS,
        "pareto": pareto_from_scores(workspace=workspace),
        "clv": clv_histogram(workspace=workspace),
        "churn": churn_risk(workspace=workspace),
        "churn_p_alive": CHURN_P_ALIVE,
        "churn_fall": round(CHURN_FALL * 100),
    }
