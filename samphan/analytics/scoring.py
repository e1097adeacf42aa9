"""RFM scores and segments, lifecycle stages and the Pareto curve — vectorised NumPy, no Django.

Each function takes one array per figure (one element per customer) so the
recompute scores a million customers in a few array operations, and tests
can check the rules on five hand-made customers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from samphan.analytics.models import RfmSegment, Stage

# --- RFM ---------------------------------------------------------------------------


def quintile_scores(values: np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Scores 1–5 by quintile, ties kept together.

    score = 1 + ⌊5 · (customers strictly worse) / n⌋: the share of customers a
    value beats decides its quintile, so equal values always get equal scores
    (with many one-time buyers, every one of them scores F = 1 rather than
    being split arbitrarily across F = 1 and F = 2).
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return np.zeros(0, dtype=np.int16)
    key = v if higher_is_better else -v
    worse = np.searchsorted(np.sort(key), key, side="left")
    return (1 + (5 * worse) // v.size).astype(np.int16)


S = RfmSegment
# Rows: R = 5 … 1; columns: FM = 1 … 5, where FM = ⌈(F + M) / 2⌉. docs/analytics.md shows the same grid.
RFM_GRID: dict[int, tuple[str, str, str, str, str]] = {
    5: (S.NEW, S.POTENTIAL_LOYALIST, S.POTENTIAL_LOYALIST, S.CHAMPIONS, S.CHAMPIONS),
    4: (S.PROMISING, S.POTENTIAL_LOYALIST, S.POTENTIAL_LOYALIST, S.LOYAL, S.LOYAL),
    3: (S.ABOUT_TO_SLEEP, S.ABOUT_TO_SLEEP, S.NEED_ATTENTION, S.LOYAL, S.LOYAL),
    2: (S.HIBERNATING, S.HIBERNATING, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
    1: (S.LOST, S.LOST, S.AT_RISK, S.AT_RISK, S.CANT_LOSE),
}
_GRID = np.array([[""] * 5] + [list(map(str, RFM_GRID[r])) for r in range(1, 6)], dtype=object)


def rfm_segments(r: np.ndarray, f: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Segment code per customer from the R × FM grid."""
    r = np.asarray(r, dtype=np.int64)
    fm = (np.asarray(f, dtype=np.int64) + np.asarray(m, dtype=np.int64) + 1) // 2
    return _GRID[r, fm - 1]


@dataclass(frozen=True)
class RfmResult:
    r: np.ndarray
    f: np.ndarray
    m: np.ndarray
    segment: np.ndarray


def rfm_score(recency_days: np.ndarray, frequency: np.ndarray, monetary: np.ndarray) -> RfmResult:
    """R from days since the last purchase (fewer is better), F from purchase days, M from spend."""
    r = quintile_scores(recency_days, higher_is_better=False)
    f = quintile_scores(frequency)
    m = quintile_scores(monetary)
    return RfmResult(r=r, f=f, m=m, segment=rfm_segments(r, f, m) if len(r) else np.zeros(0, dtype=object))


# --- lifecycle ---------------------------------------------------------------------


@dataclass
class LifecycleInputs:
    """Per customer; day numbers are integers (days since 1970-01-01), NaN/‑1 where absent."""

    purchase_days: np.ndarray  # distinct purchase days, all time up to as-of (0 = prospect)
    first_day: np.ndarray
    second_day: np.ndarray  # day of the second distinct purchase day; NaN if none
    last_day: np.ndarray
    order_count: np.ndarray
    discounted_orders: np.ndarray
    window_purchase_days: np.ndarray  # distinct purchase days within the lifecycle window
    window_spend: np.ndarray
    p_alive: np.ndarray  # NaN when no CLV fit
    social_reach: np.ndarray
    referrals: np.ndarray
    engagement: np.ndarray


def top_share_mask(values: np.ndarray, share: float, eligible: np.ndarray) -> np.ndarray:
    """Customers whose value is in the top `share` of the eligible ones (ties kept together)."""
    mask = np.zeros(len(values), dtype=bool)
    idx = np.flatnonzero(eligible)
    if idx.size == 0 or share <= 0:
        return mask
    v = np.asarray(values, dtype=float)[idx]
    ordered = np.sort(v)
    better = idx.size - np.searchsorted(ordered, v, side="right")  # strictly greater
    mask[idx] = better < share * idx.size
    return mask


def lifecycle_rule_masks(data: LifecycleInputs, *, as_of_day: int, rules: dict[str, Any]) -> dict[str, np.ndarray]:
    """Each stage's own rule as a boolean mask, before precedence (customers may match several)."""
    lc = rules
    bought = data.purchase_days > 0
    since_last = as_of_day - data.last_day
    since_first = as_of_day - data.first_day
    p_alive = np.asarray(data.p_alive, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        discount_share = np.where(data.order_count > 0, data.discounted_orders / np.maximum(data.order_count, 1), 0)
    came_back_after = np.where(np.isfinite(data.second_day), data.second_day - data.first_day, np.inf)
    return {
        Stage.PROSPECT: ~bought,
        Stage.LAPSED: bought & ((since_last > lc["lapsed_days"])
                                | (np.isfinite(p_alive) & (p_alive < lc["lapsed_p_alive"]))),
        Stage.DIE_HARD_FAN: bought
        & top_share_mask(data.window_spend, lc["fan_top_share"], data.window_spend > 0)
        & (data.window_purchase_days >= lc["fan_min_purchase_days"])
        & (since_last <= lc["fan_recent_days"])
        & (data.engagement >= lc["fan_min_engagement"]),
        Stage.OPINION_LEADER: bought & ((data.social_reach >= lc["leader_min_reach"])
                                        | (data.referrals >= lc["leader_min_referrals"])),
        Stage.BARGAIN_HUNTER: bought & (data.order_count >= lc["bargain_min_orders"])
        & (discount_share >= lc["bargain_min_share"]),
        Stage.NEW: bought & (data.purchase_days == 1) & (since_first <= lc["new_days"]),
        Stage.HOOKED: bought & (came_back_after <= lc["hooked_within_days"])
        & (since_first <= lc["hooked_window_days"]),
        Stage.REGULAR: bought & (data.window_purchase_days >= lc["regular_min_purchase_days"]),
        Stage.INFREQUENT: bought,
    }


# The order of Stage's members is the precedence: the first matching rule wins.
PRECEDENCE: tuple[str, ...] = tuple(Stage.values)


def lifecycle_stages(data: LifecycleInputs, *, as_of_day: int, rules: dict[str, Any]) -> np.ndarray:
    """Exactly one stage per customer: the first stage in PRECEDENCE whose rule matches."""
    masks = lifecycle_rule_masks(data, as_of_day=as_of_day, rules=rules)
    stages = np.full(len(data.purchase_days), "", dtype=object)
    unassigned = np.ones(len(stages), dtype=bool)
    for stage in PRECEDENCE:
        hit = masks[stage] & unassigned
        stages[hit] = stage
        unassigned &= ~hit
    return stages


# --- Pareto ------------------------------------------------------------------------

TOP_SHARES = (1, 5, 10, 20, 50)


def pareto(spend: np.ndarray, *, shares: tuple[int, ...] = TOP_SHARES, curve_points: int = 100) -> dict[str, Any]:
    """Share of revenue from the top x % of customers by spend.

    The Lorenz curve of customers sorted by spend, highest first, interpolated
    linearly between customers: with N customers the top x % is N·x/100
    customers, and when that is not a whole number the next customer counts
    for the fraction (exact whenever N·x/100 is whole). Customers with no
    spend are not counted.
    """
    v = np.sort(np.asarray(spend, dtype=float)[np.asarray(spend, dtype=float) > 0])[::-1]
    n = int(v.size)
    revenue = float(v.sum())
    if n == 0 or revenue <= 0:
        return {"customers": 0, "revenue": 0.0, "top_share": {str(s): None for s in shares},
                "curve": []}
    cum = np.concatenate([[0.0], np.cumsum(v)]) / revenue  # cum[k] = share of the top k customers

    def share_at(percent: np.ndarray) -> np.ndarray:
        k = np.asarray(percent, dtype=float) / 100 * n
        return np.interp(k, np.arange(n + 1), cum)

    top = share_at(np.array(shares))
    pct = np.linspace(0, 100, curve_points + 1)
    return {
        "customers": n,
        "revenue": round(revenue, 2),
        "top_share": {str(s): round(float(t), 6) for s, t in zip(shares, top, strict=True)},
        "curve": [[round(float(p), 2), round(float(c), 6)] for p, c in zip(pct, share_at(pct), strict=True)],
    }
