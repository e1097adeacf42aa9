"""RFM quintiles and segments, lifecycle rules and precedence, Pareto — on hand-checked arrays."""

from __future__ import annotations

import numpy as np
import pytest

from samphan.analytics.models import Stage
from samphan.analytics.rules import DEFAULT_RULES
from samphan.analytics.scoring import (
    PRECEDENCE,
    RFM_GRID,
    LifecycleInputs,
    lifecycle_rule_masks,
    lifecycle_stages,
    pareto,
    quintile_scores,
    rfm_score,
)

# --- RFM ---------------------------------------------------------------------------

RECENCY = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
FREQUENCY = [1, 1, 1, 1, 2, 2, 3, 3, 4, 10]
MONETARY = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]


def test_quintiles_of_ten_distinct_values():
    assert quintile_scores(MONETARY).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # fewer days since the last purchase is better
    assert quintile_scores(RECENCY, higher_is_better=False).tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_quintiles_keep_ties_together():
    # four customers share the lowest value: none of them beats anyone, all score 1;
    # "2" beats 4 of 10 → 1 + ⌊5·4/10⌋ = 3; "3" beats 6 → 4; "4" beats 8 → 5; "10" beats 9 → 5
    assert quintile_scores(FREQUENCY).tolist() == [1, 1, 1, 1, 3, 3, 4, 4, 5, 5]
    assert quintile_scores([7, 7, 7]).tolist() == [1, 1, 1]
    assert quintile_scores([]).tolist() == []


def test_rfm_segments_from_the_grid():
    result = rfm_score(np.array(RECENCY), np.array(FREQUENCY), np.array(MONETARY))
    assert result.r.tolist() == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]
    # FM = ⌈(F+M)/2⌉ = 1, 1, 2, 2, 3, 3, 4, 4, 5, 5
    assert result.segment.tolist() == [
        "new", "new", "potential_loyalist", "potential_loyalist", "need_attention", "need_attention",
        "at_risk", "at_risk", "cant_lose", "cant_lose",
    ]


def test_grid_uses_all_eleven_segments():
    used = {str(s) for row in RFM_GRID.values() for s in row}
    assert used == {"champions", "loyal", "potential_loyalist", "new", "promising", "need_attention",
                    "about_to_sleep", "at_risk", "cant_lose", "hibernating", "lost"}
    assert RFM_GRID[5][4] == "champions" and RFM_GRID[1][0] == "lost"


# --- lifecycle ---------------------------------------------------------------------

AS_OF = 20_000  # a day number
RULES = DEFAULT_RULES["lifecycle"]


def customers(*rows: dict) -> LifecycleInputs:
    """One dict per customer; anything not given is a plain infrequent buyer's value."""
    base = {"purchase_days": 2, "first_day": AS_OF - 300, "second_day": AS_OF - 100, "last_day": AS_OF - 100,
            "order_count": 2, "discounted_orders": 0, "window_purchase_days": 2, "window_spend": 100.0,
            "p_alive": np.nan, "social_reach": 0, "referrals": 0, "engagement": 0}
    merged = [{**base, **r} for r in rows]
    return LifecycleInputs(**{k: np.array([m[k] for m in merged], dtype=float) for k in base})


PROSPECT = {"purchase_days": 0, "first_day": np.nan, "second_day": np.nan, "last_day": np.nan, "order_count": 0,
            "window_purchase_days": 0, "window_spend": 0}
LAPSED = {"last_day": AS_OF - 181, "second_day": AS_OF - 181}
LAPSED_BY_P_ALIVE = {"p_alive": 0.1}
NEW = {"purchase_days": 1, "first_day": AS_OF - 10, "second_day": np.nan, "last_day": AS_OF - 10, "order_count": 1,
       "window_purchase_days": 1}
HOOKED = {"purchase_days": 2, "first_day": AS_OF - 100, "second_day": AS_OF - 75, "last_day": AS_OF - 75}
REGULAR = {"purchase_days": 5, "window_purchase_days": 3, "order_count": 5}
BARGAIN = {"order_count": 5, "discounted_orders": 3}
LEADER_REACH = {"social_reach": 5000}
LEADER_REFERRALS = {"referrals": 3}
INFREQUENT: dict = {}


def fan(**extra) -> dict:
    return {"purchase_days": 8, "window_purchase_days": 4, "last_day": AS_OF - 90, "window_spend": 10_000, **extra}


def stage_of(row: dict, *others: dict, rules: dict | None = None) -> str:
    """The stage of `row` among `others` (the fan rule is relative to the other customers)."""
    data = customers(row, *(others or [INFREQUENT] * 10))
    return str(lifecycle_stages(data, as_of_day=AS_OF, rules=rules or RULES)[0])


@pytest.mark.parametrize(("row", "expected"), [
    (PROSPECT, Stage.PROSPECT),
    (LAPSED, Stage.LAPSED),
    (LAPSED_BY_P_ALIVE, Stage.LAPSED),
    (fan(), Stage.DIE_HARD_FAN),
    (LEADER_REACH, Stage.OPINION_LEADER),
    (LEADER_REFERRALS, Stage.OPINION_LEADER),
    (BARGAIN, Stage.BARGAIN_HUNTER),
    (NEW, Stage.NEW),
    (HOOKED, Stage.HOOKED),
    (REGULAR, Stage.REGULAR),
    (INFREQUENT, Stage.INFREQUENT),
])
def test_each_rule(row, expected):
    assert stage_of(row) == expected


@pytest.mark.parametrize(("row", "expected"), [
    ({**LAPSED, "last_day": AS_OF - 180, "second_day": AS_OF - 180}, Stage.INFREQUENT),  # exactly 180 days: not yet
    ({**NEW, "first_day": AS_OF - 91, "last_day": AS_OF - 91}, Stage.INFREQUENT),  # 91 days ago: no longer new
    ({**HOOKED, "first_day": AS_OF - 200, "second_day": AS_OF - 175, "last_day": AS_OF - 175},
     Stage.INFREQUENT),  # first purchase more than 180 days ago
    ({**REGULAR, "window_purchase_days": 2}, Stage.INFREQUENT),
    ({**BARGAIN, "discounted_orders": 2}, Stage.INFREQUENT),  # 40 % < 60 %
    ({**BARGAIN, "order_count": 2, "discounted_orders": 2}, Stage.INFREQUENT),  # too few orders
    (fan(window_purchase_days=3), Stage.REGULAR),  # not often enough for a fan, still a regular
    (fan(last_day=AS_OF - 91), Stage.REGULAR),  # not recently enough for a fan
    ({**LEADER_REACH, "social_reach": 4999}, Stage.INFREQUENT),
])
def test_rule_thresholds(row, expected):
    assert stage_of(row) == expected


def test_hooked_needs_a_return_within_30_days():
    # first purchase 100 days ago; back 30 days later → hooked, 31 days later → not
    assert stage_of({**HOOKED, "second_day": AS_OF - 70, "last_day": AS_OF - 70}) == Stage.HOOKED
    assert stage_of({**HOOKED, "second_day": AS_OF - 69, "last_day": AS_OF - 69}) == Stage.INFREQUENT


def test_fan_is_the_top_share_of_spenders():
    # ten buyers; only the top 10 % (one customer) by spend in the window can be a fan
    rows = [fan(window_spend=1000 - i) for i in range(10)]
    stages = lifecycle_stages(customers(*rows), as_of_day=AS_OF, rules=RULES).tolist()
    assert stages[0] == Stage.DIE_HARD_FAN
    assert stages[1:] == [Stage.REGULAR] * 9  # 4 purchase days in the window


def test_engagement_hook_for_fans():
    rules = {**RULES, "fan_min_engagement": 50}
    assert stage_of(fan(engagement=10), rules=rules) == Stage.REGULAR
    assert stage_of(fan(engagement=60), rules=rules) == Stage.DIE_HARD_FAN


def test_precedence():
    assert PRECEDENCE == ("prospect", "lapsed", "die_hard_fan", "opinion_leader", "bargain_hunter", "new",
                          "hooked", "regular", "infrequent")
    # lapsed beats everything a customer once was
    assert stage_of({**fan(), **LAPSED, **LEADER_REACH, **BARGAIN}) == Stage.LAPSED
    # a fan who is also an opinion leader and a bargain hunter is a fan
    assert stage_of(fan(**LEADER_REACH, **BARGAIN)) == Stage.DIE_HARD_FAN
    # an opinion leader who buys on discount is an opinion leader
    assert stage_of({**LEADER_REFERRALS, **BARGAIN}) == Stage.OPINION_LEADER
    # a bargain hunter who buys regularly is a bargain hunter
    assert stage_of({**REGULAR, **BARGAIN}) == Stage.BARGAIN_HUNTER
    # hooked (early in life) comes before regular
    assert stage_of({**HOOKED, "window_purchase_days": 3, "purchase_days": 3}) == Stage.HOOKED


def test_exactly_one_stage_each():
    rows = [PROSPECT, LAPSED, fan(), LEADER_REACH, BARGAIN, NEW, HOOKED, REGULAR, INFREQUENT]
    data = customers(*rows)
    masks = lifecycle_rule_masks(data, as_of_day=AS_OF, rules=RULES)
    assert sum(m.astype(int) for m in masks.values()).min() >= 1  # infrequent catches every buyer
    stages = lifecycle_stages(data, as_of_day=AS_OF, rules=RULES)
    assert stages.tolist() == list(PRECEDENCE)


# --- Pareto ------------------------------------------------------------------------


def test_pareto_hand_checked():
    # five customers, revenue 100; the top 20 % is one customer (50), the top 50 % is
    # 2.5 customers: 50 + 30 + half of 10 = 85
    report = pareto(np.array([5, 30, 0, 50, 10, 5]))  # the zero-spend customer is not counted
    assert report["customers"] == 5
    assert report["revenue"] == 100
    assert report["top_share"] == {"1": 0.025, "5": 0.125, "10": 0.25, "20": 0.5, "50": 0.85}
    assert report["curve"][0] == [0.0, 0.0] and report["curve"][-1] == [100.0, 1.0]
    assert report["curve"][40] == [40.0, 0.8]


def test_pareto_of_nothing():
    report = pareto(np.array([]))
    assert report["customers"] == 0 and report["top_share"]["20"] is None
