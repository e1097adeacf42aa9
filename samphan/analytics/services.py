"""Writes of the analytics app: the recompute, the rules, the social-signal hook.

The recompute is one pipeline: SQL aggregation per customer → NumPy models
(BG/NBD + Gamma-Gamma, RFM quintiles, lifecycle rules) → one bulk write in a
transaction. It is safe to run twice: the second run writes the same scores
and records no stage change.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
import polars as pl
from django.db import connection, transaction
from django.utils import timezone

from samphan.analytics import clv
from samphan.analytics.aggregate import (
    can_read_in_parallel,
    customer_aggregates,
    customer_id_ranges,
    fetch_frame,
    local_day_start,
    parallel_reads,
)
from samphan.analytics.models import AnalyticsSettings, CustomerSignal, ModelRun
from samphan.analytics.rules import effective_rules, validate_rules, workspace_today
from samphan.analytics.scoring import LifecycleInputs, lifecycle_stages, rfm_score
from samphan.analytics.summary import day_number
from samphan.analytics.writer import scores_write
from samphan.core.audit import audit_record
from samphan.core.errors import ValidationFailed

logger = logging.getLogger("samphan.analytics")

UNIT_DAYS = {"day": 1.0, "week": 7.0}
DAYS_PER_MONTH = 365.25 / 12  # an average month: 30.44 days, 4.35 weeks
RECOMPUTE_STEPS = ("aggregate", "clv_fit", "clv_predict", "rfm_lifecycle", "write")

Progress = Callable[[int, str], None]


def analytics_rules_get(*, workspace: Any) -> dict[str, dict[str, Any]]:
    stored = AnalyticsSettings.objects.for_workspace(workspace).values_list("rules", flat=True).first()
    return effective_rules(stored)


@transaction.atomic
def analytics_rules_update(*, workspace: Any, changes: dict[str, Any], actor: Any = None,
                           via: str = "system") -> dict[str, dict[str, Any]]:
    """Change some rules of a workspace (validated); returns the effective rules."""
    cleaned = validate_rules(changes)
    settings_row, _ = AnalyticsSettings.objects.select_for_update().get_or_create(workspace=workspace)
    before = dict(settings_row.rules)
    merged = {section: dict(values) for section, values in before.items()}
    for section, values in cleaned.items():
        merged.setdefault(section, {}).update(values)
    settings_row.rules = merged
    settings_row.updated_at = timezone.now()
    settings_row.save(update_fields=["rules", "updated_at"])
    audit_record(workspace=workspace, action="analytics.rules_updated", actor=actor, via=via,
                 target=settings_row, summary="analytics rules changed",
                 changes={"before": before, "after": merged})
    return effective_rules(merged)


def customer_signal_set(*, workspace: Any, customer: Any, social_reach: int | None = None,
                        referrals: int | None = None, engagement: float | None = None,
                        source: str = "") -> CustomerSignal:
    """The hook for the inbox and listening: record a customer's reach, referrals or engagement.

    Only the figures given change. The next recompute reads them (opinion
    leader: reach or referrals; die-hard fan: engagement).
    """
    if customer.workspace_id != getattr(workspace, "pk", workspace):
        raise ValidationFailed("the customer belongs to another workspace")
    for name, value in (("social_reach", social_reach), ("referrals", referrals), ("engagement", engagement)):
        if value is not None and value < 0:
            raise ValidationFailed(f"{name} cannot be negative")
    signal, _ = CustomerSignal.objects.get_or_create(customer=customer, defaults={"workspace_id": customer.workspace_id})
    if social_reach is not None:
        signal.social_reach = social_reach
    if referrals is not None:
        signal.referrals = referrals
    if engagement is not None:
        signal.engagement = engagement
    if source:
        signal.source = source
    signal.updated_at = timezone.now()
    signal.save()
    return signal


# --- recompute ---------------------------------------------------------------------


@dataclass
class ClvResult:
    bgnbd: clv.BGNBDParams | None = None
    gamma_gamma: clv.GammaGammaParams | None = None
    error: str = ""
    p_alive: np.ndarray | None = None
    expected_purchases: np.ndarray | None = None
    expected_spend: np.ndarray | None = None
    value: np.ndarray | None = None
    inputs: tuple[np.ndarray, np.ndarray, clv.Grouped] | None = None  # x, m, unique (x, t_x, T) in units
    seconds: dict[str, float] = field(default_factory=dict)


def clv_inputs(agg: pl.DataFrame, *, as_of_day: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x, t_x days, T days, mean repeat spend) from the aggregated frame; T measured to the as-of day."""
    purchase_days = agg["purchase_days"].to_numpy()
    first = agg["first_day"].to_numpy()
    last = agg["last_day"].to_numpy()
    x = (purchase_days - 1).astype(np.int64)
    total = agg["total_spend"].to_numpy()
    first_value = agg["first_value"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(x > 0, (total - first_value) / np.maximum(x, 1), np.nan)
    return x, (last - first).astype(np.int64), (as_of_day - first).astype(np.int64), m


def clv_fit_for_workspace(*, workspace: Any, calibration_end: date, unit: str) -> ClvResult:
    """Fit the CLV models on a workspace's completed orders up to `calibration_end`; nothing is stored."""
    rules = effective_rules({"clv": {"unit": unit}})
    agg, _ = _read_customers(workspace, as_of=calibration_end, rules=rules, with_ids=False)
    return clv_fit(agg, as_of_day=day_number(calibration_end), rules=rules["clv"])


def clv_fit(agg: pl.DataFrame, *, as_of_day: int, rules: dict[str, Any]) -> ClvResult:
    """Fit BG/NBD and Gamma-Gamma on the workspace's buyers.

    Too little data is not an error here: the result carries the reason and no parameters.
    """
    out = ClvResult()
    unit = UNIT_DAYS[rules["unit"]]
    x, t_days, T_days, m = clv_inputs(agg, as_of_day=as_of_day)
    started = time.perf_counter()
    grouped = clv.group_rows(x, t_days, T_days)
    gx, gt, gT = grouped.columns
    out.inputs = (x, m, clv.Grouped((gx, gt / unit, gT / unit), grouped.counts, grouped.inverse))
    fit_rows = gT > 0  # customers whose first purchase is on the as-of day carry no information yet
    fit_group = clv.Grouped((gx[fit_rows], gt[fit_rows] / unit, gT[fit_rows] / unit), grouped.counts[fit_rows],
                            grouped.inverse)
    try:
        out.bgnbd = clv.bgnbd_fit(*fit_group.columns, grouped=fit_group)
        out.gamma_gamma = clv.gamma_gamma_fit(x, m)
    except clv.FitError as exc:
        out.bgnbd = out.gamma_gamma = None
        out.error = str(exc)
    out.seconds["fit"] = round(time.perf_counter() - started, 3)
    return out


def clv_predict(out: ClvResult, *, rules: dict[str, Any]) -> ClvResult:
    """P(alive), expected purchases, expected spend and CLV per customer, from a fit."""
    if out.bgnbd is None or out.gamma_gamma is None or out.inputs is None:
        return out
    started = time.perf_counter()
    unit = UNIT_DAYS[rules["unit"]]
    bg, gg = out.bgnbd, out.gamma_gamma
    x, m, scaled = out.inputs
    ux, ut, uT = scaled.columns
    horizon = rules["expected_purchases_days"] / unit
    inv = scaled.inverse
    out.p_alive = clv.bgnbd_p_alive(bg, ux, ut, uT)[inv]
    out.expected_purchases = clv.bgnbd_expected_purchases(bg, horizon, ux, ut, uT)[inv]
    out.expected_spend = clv.gamma_gamma_expected_spend(gg, x, m)
    # CLV = Σ monthly increments of expected purchases × expected spend, discounted; the
    # increments depend only on the (x, t_x, T) triple, so they are summed per unique triple.
    periods = DAYS_PER_MONTH / unit
    discounted_purchases = np.zeros_like(ux)
    previous = np.zeros_like(ux)
    for i in range(1, int(rules["months"]) + 1):
        current = clv.bgnbd_expected_purchases(bg, i * periods, ux, ut, uT)
        discounted_purchases += (current - previous) / (1 + rules["monthly_discount"]) ** i
        previous = current
    out.value = discounted_purchases[inv] * out.expected_spend
    out.seconds["predict"] = round(time.perf_counter() - started, 3)
    return out


def _customer_ids(workspace_id: int) -> np.ndarray:
    """Live customers (not merged away, not erased), sorted."""
    from samphan.customers.models import Customer

    ids = (Customer.objects.for_workspace(workspace_id).filter(merged_into__isnull=True, erased_at__isnull=True)
           .order_by("pk").values_list("pk", flat=True))
    sql, params = ids.query.sql_with_params()
    frame = fetch_frame(sql, params, ("id",), {"id": pl.Int64})
    return np.sort(frame["id"].to_numpy()) if frame.height else np.zeros(0, dtype=np.int64)


def _read_customers(workspace: Any, *, as_of: date, rules: dict[str, Any],
                    with_ids: bool = True) -> tuple[pl.DataFrame, np.ndarray | None]:
    """The per-customer aggregates (and the live customer ids), in parallel connections when possible."""
    common = {"workspace_id": workspace.pk, "tz_name": workspace.time_zone, "as_of": as_of,
              "period_days": rules["rfm"]["period_days"], "window_days": rules["lifecycle"]["window_days"]}
    if not can_read_in_parallel():
        return customer_aggregates(**common).frame, _customer_ids(workspace.pk) if with_ids else None
    ranges = customer_id_ranges(workspace.pk, parts=max(2, min(4, os.cpu_count() or 2)))
    tasks: list[Callable[[], Any]] = [partial(customer_aggregates, **common, id_range=r) for r in ranges]
    if with_ids:
        tasks.append(partial(_customer_ids, workspace.pk))
    results = parallel_reads(tasks)
    parts = results[: len(ranges)]
    return pl.concat([p.frame for p in parts]).sort("customer_id"), results[-1] if with_ids else None


def _signals(workspace_id: int, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    reach = np.zeros(len(ids))
    referrals = np.zeros(len(ids))
    engagement = np.zeros(len(ids))
    rows = np.array(list(CustomerSignal.objects.for_workspace(workspace_id)
                         .values_list("customer_id", "social_reach", "referrals", "engagement")), dtype=float)
    if rows.size:
        pos = np.searchsorted(ids, rows[:, 0].astype(np.int64))
        ok = (pos < len(ids)) & (ids[np.minimum(pos, len(ids) - 1)] == rows[:, 0])
        reach[pos[ok]], referrals[pos[ok]], engagement[pos[ok]] = rows[ok, 1], rows[ok, 2], rows[ok, 3]
    return reach, referrals, engagement


def _days_to_dates(days: np.ndarray) -> pl.Series:
    return pl.Series(days).cast(pl.Int32).cast(pl.Date)


def analytics_recompute(*, workspace: Any, as_of: date | None = None, progress: Progress | None = None,
                        actor: Any = None, via: str = "system") -> dict[str, Any]:
    """Recompute RFM, lifecycle stages and CLV for every customer of the workspace.

    Purchases up to the end of `as_of` (the workspace's today by default) count.
    Returns a summary: counts, stage totals, fitted parameters and seconds per step.
    """
    as_of = as_of or workspace_today(workspace)
    as_of_day = day_number(as_of)
    rules = analytics_rules_get(workspace=workspace)
    seconds: dict[str, float] = {}
    tick = time.perf_counter()

    def step(index: int, message: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        seconds[RECOMPUTE_STEPS[index - 1]] = round(now - tick, 3)
        tick = now
        if progress:
            progress(index, message)

    if progress:
        progress(0, "aggregating orders")
    agg, ids = _read_customers(workspace, as_of=as_of, rules=rules)
    assert ids is not None
    # Orders of customers merged away or erased no longer count; the customer list decides.
    agg = agg.filter(pl.col("customer_id").is_in(pl.Series(ids).implode()))
    step(1, "fitting BG/NBD and Gamma-Gamma")

    fit = clv_fit(agg, as_of_day=as_of_day, rules=rules["clv"])
    if fit.error:
        logger.info("analytics: no CLV for workspace %s: %s", workspace.slug, fit.error)
    step(2, "predicting CLV")
    clv_predict(fit, rules=rules["clv"])
    step(3, "scoring RFM and lifecycle")

    n = len(ids)
    pos = np.searchsorted(ids, agg["customer_id"].to_numpy())

    def spread(values: np.ndarray | None, fill: float = np.nan) -> np.ndarray:
        out = np.full(n, fill, dtype=float)
        if values is not None:
            out[pos] = values
        return out

    purchase_days = spread(agg["purchase_days"].to_numpy(), 0)
    first_day = spread(agg["first_day"].to_numpy())
    last_day = spread(agg["last_day"].to_numpy())
    p_alive = spread(fit.p_alive)
    reach, referrals, engagement = _signals(workspace.pk, ids)
    lifecycle = LifecycleInputs(
        purchase_days=purchase_days, first_day=first_day, second_day=spread(agg["second_day"].to_numpy()),
        last_day=last_day, order_count=spread(agg["order_count"].to_numpy(), 0),
        discounted_orders=spread(agg["discounted_orders"].to_numpy(), 0),
        window_purchase_days=spread(agg["window_days"].to_numpy(), 0),
        window_spend=spread(agg["window_spend"].to_numpy(), 0),
        p_alive=p_alive, social_reach=reach, referrals=referrals, engagement=engagement,
    )
    stages = lifecycle_stages(lifecycle, as_of_day=as_of_day, rules=rules["lifecycle"])

    # RFM over customers with a purchase in the period.
    period_days = spread(agg["period_days"].to_numpy(), 0)
    period_spend = spread(agg["period_spend"].to_numpy(), 0)
    in_period = period_days > 0
    recency = as_of_day - last_day
    rfm = rfm_score(recency[in_period], period_days[in_period], period_spend[in_period])
    r_all = np.zeros(n, dtype=np.int16)
    f_all = np.zeros(n, dtype=np.int16)
    m_all = np.zeros(n, dtype=np.int16)
    segment = np.full(n, "", dtype=object)
    r_all[in_period], f_all[in_period], m_all[in_period], segment[in_period] = rfm.r, rfm.f, rfm.m, rfm.segment
    step(4, "writing scores")

    computed_at = timezone.now()
    # A change of stage is dated at the as-of moment, so a recompute "as of" a past date
    # (backfilling history) records the change in that past quarter, not today.
    changed_at = min(computed_at, local_day_start(as_of + timedelta(days=1), workspace.time_zone))
    bought = purchase_days > 0

    def nullable_int(values: np.ndarray, mask: np.ndarray) -> pl.Series:
        ints = pl.Series(np.where(mask, values, 0).astype(np.int64))
        return ints.zip_with(pl.Series(mask), pl.repeat(None, n, dtype=pl.Int64, eager=True))

    def nullable_float(values: np.ndarray) -> pl.Series:
        return pl.Series(values, dtype=pl.Float64).fill_nan(None)

    frame = pl.DataFrame({
        "customer_id": ids,
        "workspace_id": np.full(n, workspace.pk, dtype=np.int64),
        "order_count": spread(agg["order_count"].to_numpy(), 0).astype(np.int64),
        "purchase_days": purchase_days.astype(np.int64),
        "total_spend": np.round(spread(agg["total_spend"].to_numpy(), 0), 2),
        "discounted_orders": spread(agg["discounted_orders"].to_numpy(), 0).astype(np.int64),
        "first_purchase": _days_to_dates(np.where(bought, first_day, 0)),
        "last_purchase": _days_to_dates(np.where(bought, last_day, 0)),
        "recency_days": nullable_int(np.nan_to_num(recency), in_period),
        "period_frequency": period_days.astype(np.int64),
        "period_spend": np.round(period_spend, 2),
        "r": nullable_int(r_all, in_period),
        "f": nullable_int(f_all, in_period),
        "m": nullable_int(m_all, in_period),
        "rfm_segment": pl.Series(segment.astype(str)),
        "stage": pl.Series(stages.astype(str)),
        "p_alive": nullable_float(p_alive),
        "expected_purchases_90d": nullable_float(spread(fit.expected_purchases)),
        "expected_spend": nullable_float(spread(fit.expected_spend)),
        "clv": nullable_float(spread(fit.value)),
    }).with_columns(
        pl.when(pl.Series(bought)).then(pl.col("first_purchase")).otherwise(None).alias("first_purchase"),
        pl.when(pl.Series(bought)).then(pl.col("last_purchase")).otherwise(None).alias("last_purchase"),
    )
    with transaction.atomic():
        _lock_workspace(workspace.pk)
        written = scores_write(frame, workspace_id=workspace.pk, changed_at=changed_at, computed_at=computed_at)
        run = ModelRun.objects.create(
            workspace=workspace, computed_at=computed_at, as_of=as_of, customers=n, buyers=int(bought.sum()),
            bgnbd={**fit.bgnbd.as_dict(), "unit": rules["clv"]["unit"]} if fit.bgnbd else {},
            gamma_gamma=fit.gamma_gamma.as_dict() if fit.gamma_gamma else {},
            fit_error=fit.error[:255], rules=rules,
        )
        step(5, "done")
        run.seconds = dict(seconds)
        run.save(update_fields=["seconds"])
        audit_record(workspace=workspace, action="analytics.recomputed", actor=actor, via=via, target=run,
                     summary=f"analytics recomputed for {n} customers as of {as_of}",
                     changes={"stage_changes": written["stage_changes"]})
    stage_totals = frame["stage"].value_counts()
    return {
        "workspace": workspace.slug,
        "as_of": as_of.isoformat(),
        "customers": n,
        "buyers": int(bought.sum()),
        "stage_changes": written["stage_changes"],
        "scores_rewritten": written["rewritten"],
        "stages": dict(zip(stage_totals["stage"].to_list(), stage_totals["count"].to_list(), strict=True)),
        "bgnbd": run.bgnbd or None,
        "gamma_gamma": run.gamma_gamma or None,
        "clv_error": fit.error or None,
        "seconds": run.seconds,
        "run_id": run.pk,
    }


def _lock_workspace(workspace_id: int) -> None:
    """Two recomputes of one workspace wait for each other (PostgreSQL advisory lock).

    SQLite needs nothing: its write transactions are already serialised.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [0x5A4E, workspace_id])

