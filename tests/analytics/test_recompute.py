"""The recompute end to end on the database: SQL aggregation, RFM, lifecycle, history, storage."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from samphan.analytics.models import CustomerScore, ModelRun, StageChange
from samphan.analytics.selectors import customer_analytics_section, stage_moves
from samphan.analytics.services import (
    analytics_recompute,
    analytics_rules_update,
    customer_signal_set,
)
from samphan.core.errors import ValidationFailed

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


def score(customer) -> CustomerScore:
    return CustomerScore.objects.get(customer=customer)


def test_rfm_on_ten_hand_checked_customers(shop, workspace):
    """Recency 1…10 days, purchase days 1,1,1,1,2,2,3,3,4,10, spend 10…100 (see test_scoring)."""
    frequency = [1, 1, 1, 1, 2, 2, 3, 3, 4, 10]
    people = []
    for i in range(10):
        c = shop.customer()
        people.append(c)
        recency = i + 1
        spend = 10 * (i + 1)
        days = frequency[i]
        for k in range(days):  # the last purchase is `recency` days before the as-of date
            shop.order(c, AS_OF - timedelta(days=recency + 20 * k), spend / days)
    # outside the period (more than 365 days ago) and not completed: ignored by RFM
    shop.order(people[0], AS_OF - timedelta(days=400), 5000)
    shop.order(people[0], AS_OF - timedelta(days=3), 5000, status="refunded")
    prospect = shop.customer()

    analytics_recompute(workspace=workspace, as_of=AS_OF)
    got = [(score(c).r, score(c).f, score(c).m, score(c).rfm_segment) for c in people]
    assert got == [
        (5, 1, 1, "new"), (5, 1, 1, "new"), (4, 1, 2, "potential_loyalist"), (4, 1, 2, "potential_loyalist"),
        (3, 3, 3, "need_attention"), (3, 3, 3, "need_attention"), (2, 4, 4, "at_risk"), (2, 4, 4, "at_risk"),
        (1, 5, 5, "cant_lose"), (1, 5, 5, "cant_lose"),
    ]
    first = score(people[0])
    assert first.recency_days == 1 and first.period_frequency == 1 and float(first.period_spend) == 10
    assert first.order_count == 2 and float(first.total_spend) == 5010  # lifetime, completed only
    assert score(prospect).r is None and score(prospect).rfm_segment == "" and score(prospect).stage == "prospect"


def test_orders_of_one_local_day_are_one_purchase(shop, workspace):
    c = shop.customer()
    day = AS_OF - timedelta(days=5)
    shop.order(c, day, 100, hour=0)  # 00:xx in Bangkok is the previous day in UTC
    shop.order(c, day, 50, hour=23)
    shop.order(c, day - timedelta(days=1), 10, hour=23)
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    s = score(c)
    assert (s.order_count, s.purchase_days) == (3, 2)
    assert (s.first_purchase, s.last_purchase) == (day - timedelta(days=1), day)


def test_orders_after_the_as_of_date_do_not_count(shop, workspace):
    c = shop.customer()
    shop.order(c, AS_OF, 100, hour=23)
    shop.order(c, AS_OF + timedelta(days=1), 100, hour=0)
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    assert score(c).order_count == 1


def _regular(shop, workspace, *, last: date):
    c = shop.customer("regular")
    for k in range(4):
        shop.order(c, last - timedelta(days=40 * k), 200)
    return c


def test_stage_history_and_the_regular_to_lapsed_query(shop, workspace):
    first_as_of = date(2026, 1, 31)
    # two customers only: keep them out of the "top 10 % of spenders" fan rule
    analytics_rules_update(workspace=workspace, changes={"lifecycle": {"fan_top_share": 0}})
    c = _regular(shop, workspace, last=date(2026, 1, 20))
    stays = _regular(shop, workspace, last=date(2026, 1, 20))
    shop.order(stays, date(2026, 5, 1), 300)  # keeps buying

    analytics_recompute(workspace=workspace, as_of=first_as_of)
    assert score(c).stage == "regular"
    stage_since = score(c).stage_since
    analytics_recompute(workspace=workspace, as_of=first_as_of)  # no change, no new history
    assert StageChange.objects.filter(customer=c).count() == 1
    assert score(c).stage_since == stage_since

    second_as_of = date(2026, 7, 31)  # 192 days after the last purchase
    analytics_recompute(workspace=workspace, as_of=second_as_of)
    assert score(c).stage == "lapsed"
    assert score(stays).stage == "regular"
    history = list(StageChange.objects.filter(customer=c).order_by("changed_at").values_list("from_stage", "to_stage"))
    assert history == [("", "regular"), ("regular", "lapsed")]

    # "who moved from regular to lapsed this quarter" (Q3 2026) is one query
    from samphan.analytics.selectors import local_midnight, quarter_start

    since = local_midnight(quarter_start(second_as_of), workspace.time_zone)
    moved = stage_moves(workspace=workspace, from_stage="regular", to_stage="lapsed", since=since)
    assert list(moved.values_list("customer_id", flat=True)) == [c.pk]
    assert str(moved.query).count("SELECT") == 1
    # the change is dated at the as-of moment, not at the time the recompute ran
    assert moved.get().changed_at.date() == second_as_of
    with pytest.raises(ValidationFailed):
        stage_moves(workspace=workspace, from_stage="sleepy")


def test_lifecycle_stages_from_orders_and_signals(shop, workspace):
    d = AS_OF
    new = shop.customer("new")
    shop.order(new, d - timedelta(days=3))
    hooked = shop.customer("hooked")
    shop.order(hooked, d - timedelta(days=60))
    shop.order(hooked, d - timedelta(days=50))
    bargain = shop.customer("bargain")
    for k in range(4):
        shop.order(bargain, d - timedelta(days=100 + 30 * k), 100, discount=10 if k < 3 else 0)
    leader = shop.customer("leader")
    shop.order(leader, d - timedelta(days=300))
    shop.order(leader, d - timedelta(days=100))
    customer_signal_set(workspace=workspace, customer=leader, social_reach=12_000, source="listening")
    lapsed = shop.customer("lapsed")
    shop.order(lapsed, d - timedelta(days=400))
    infrequent = shop.customer("infrequent")
    shop.order(infrequent, d - timedelta(days=300))
    shop.order(infrequent, d - timedelta(days=120))
    prospect = shop.customer("prospect")
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    stages = {c: score(c).stage for c in (new, hooked, bargain, leader, lapsed, infrequent, prospect)}
    assert stages == {new: "new", hooked: "hooked", bargain: "bargain_hunter", leader: "opinion_leader",
                      lapsed: "lapsed", infrequent: "infrequent", prospect: "prospect"}

    # tuning a rule changes the outcome at the next recompute
    analytics_rules_update(workspace=workspace, changes={"lifecycle": {"lapsed_days": 100}})
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    assert score(infrequent).stage == "lapsed"
    assert score(leader).stage == "opinion_leader"  # bought 100 days ago: not more than 100


def test_clv_columns_and_the_360_section(shop, workspace, other_workspace):
    import random

    rng = random.Random(7)
    people = []
    for i in range(60):
        c = shop.customer()
        people.append(c)
        first = AS_OF - timedelta(days=rng.randint(60, 500))
        shop.order(c, first, rng.randint(100, 900))
        day = first
        for _ in range(i % 6):
            day += timedelta(days=rng.randint(5, 60))
            if day <= AS_OF:
                shop.order(c, day, rng.randint(100, 900))
    summary = analytics_recompute(workspace=workspace, as_of=AS_OF)
    assert summary["clv_error"] is None
    assert set(summary["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    s = score(people[5])
    assert 0 < s.p_alive <= 1 and s.expected_purchases_90d > 0 and s.expected_spend > 0 and s.clv > 0
    one_timer = score(people[0])
    assert one_timer.p_alive == pytest.approx(1.0)  # BG/NBD: no repeat purchase, no evidence of leaving
    run = ModelRun.objects.get(workspace=workspace)
    assert run.customers == 60 and run.bgnbd["unit"] == "week"

    section = customer_analytics_section(workspace, people[5])
    assert section["stage"] == s.stage and section["clv"] == pytest.approx(s.clv)
    assert customer_analytics_section(other_workspace, people[5]) is None


def test_too_little_data_scores_without_clv(shop, workspace):
    c = shop.customer()
    shop.order(c, AS_OF - timedelta(days=10))
    summary = analytics_recompute(workspace=workspace, as_of=AS_OF)
    assert "needs at least" in summary["clv_error"]
    assert score(c).stage == "new" and score(c).p_alive is None and score(c).clv is None


def test_merged_and_erased_customers_leave_the_scores(shop, workspace):
    a, b = shop.customer(), shop.customer()
    shop.order(a, AS_OF - timedelta(days=3))
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    assert CustomerScore.objects.filter(workspace=workspace).count() == 2
    b.merged_into = a
    b.save()
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    assert list(CustomerScore.objects.filter(workspace=workspace).values_list("customer_id", flat=True)) == [a.pk]


def test_workspaces_do_not_mix(shop, workspace, other_workspace):
    from tests.analytics.conftest import Shop

    mine = shop.customer()
    shop.order(mine, AS_OF - timedelta(days=3), 100)
    theirs_shop = Shop(other_workspace)
    theirs = theirs_shop.customer()
    theirs_shop.order(theirs, AS_OF - timedelta(days=3), 100)
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    assert not CustomerScore.objects.filter(workspace=other_workspace).exists()
    analytics_recompute(workspace=other_workspace, as_of=AS_OF)
    analytics_recompute(workspace=workspace, as_of=AS_OF)  # must not delete the other workspace's rows
    assert CustomerScore.objects.filter(workspace=other_workspace).count() == 1
    assert score(mine).order_count == 1


def test_rules_are_validated(workspace):
    with pytest.raises(ValidationFailed) as err:
        analytics_rules_update(workspace=workspace, changes={"lifecycle": {"lapsed_days": -1, "colour": 3},
                                                             "clv": {"unit": "fortnight"}})
    fields = {d["field"] for d in err.value.details}
    assert fields == {"lifecycle.lapsed_days", "lifecycle.colour", "clv.unit"}


def test_deleting_a_customer_deletes_its_scores_and_history(shop, workspace):
    """The derived tables have no database foreign keys; the ORM cascade must still clean up."""
    c = shop.customer()
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    assert CustomerScore.objects.filter(customer_id=c.pk).exists()
    assert StageChange.objects.filter(customer_id=c.pk).exists()
    c.delete()
    assert not CustomerScore.objects.filter(customer_id=c.pk).exists()
    assert not StageChange.objects.filter(customer_id=c.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_parallel_reads_give_the_same_scores(workspace, monkeypatch):
    """Outside a transaction PostgreSQL reads in parallel connections (id ranges); same result."""
    from samphan.analytics.aggregate import can_read_in_parallel
    from tests.analytics.conftest import Shop

    shop = Shop(workspace)
    people = [shop.customer() for _ in range(30)]
    for i, c in enumerate(people[:25]):
        for k in range(1 + i % 4):
            shop.order(c, AS_OF - timedelta(days=5 + 37 * k + i), 50 + 10 * i)
    first = analytics_recompute(workspace=workspace, as_of=AS_OF)
    rows = list(CustomerScore.objects.order_by("customer_id").values_list("customer_id", "purchase_days", "stage"))
    assert len(rows) == 30 and first["buyers"] == 25
    from django.db import connection

    in_memory = "memory" in str(connection.settings_dict["NAME"])
    assert can_read_in_parallel() == (connection.vendor == "postgresql" or not in_memory)
    monkeypatch.setattr("samphan.analytics.services.can_read_in_parallel", lambda: False)
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    again = list(CustomerScore.objects.order_by("customer_id").values_list("customer_id", "purchase_days", "stage"))
    assert again == rows


def test_a_repeat_rewrites_only_what_changed(shop, workspace):
    a, b = shop.customer(), shop.customer()
    shop.order(a, AS_OF - timedelta(days=3))
    shop.order(b, AS_OF - timedelta(days=30))
    assert analytics_recompute(workspace=workspace, as_of=AS_OF)["scores_rewritten"] == 2
    stamp = score(a).computed_at
    assert analytics_recompute(workspace=workspace, as_of=AS_OF)["scores_rewritten"] == 0
    assert score(a).computed_at == stamp
    shop.order(b, AS_OF - timedelta(days=30))  # same day: more spend, nothing else moves for a
    assert analytics_recompute(workspace=workspace, as_of=AS_OF)["scores_rewritten"] == 1
    assert score(b).order_count == 2 and score(a).computed_at == stamp


def test_p_alive_trend_and_the_churn_list(shop, workspace):
    """A regular who stops buying: P(alive) falls from one recompute to the next, the previous
    value is kept beside it, and the dashboard's churn list shows the customer as falling."""
    import random

    from samphan.analytics.dashboard import CHURN_FALL, churn_risk

    rng = random.Random(11)
    people = []
    for i in range(40):  # enough repeat buyers for a BG/NBD fit
        c = shop.customer()
        people.append(c)
        day = AS_OF - timedelta(days=rng.randint(200, 400))
        for _ in range(1 + i % 5):
            if day <= AS_OF:
                shop.order(c, day, rng.randint(100, 900))
            day += timedelta(days=rng.randint(7, 40))
    regular = shop.customer()
    for k in range(12):  # every two weeks until AS_OF, big spender
        shop.order(regular, AS_OF - timedelta(days=14 * k), 5000)

    analytics_recompute(workspace=workspace, as_of=AS_OF)
    first = score(regular)
    assert first.p_alive > 0.5 and first.p_alive_previous is None  # bought today: not at risk
    assert regular.pk not in {s.customer_id for s in churn_risk(workspace=workspace)}

    later = AS_OF + timedelta(days=120)  # four months of silence from someone who bought fortnightly
    analytics_recompute(workspace=workspace, as_of=later)
    second = score(regular)
    assert second.p_alive_previous == pytest.approx(first.p_alive)
    assert second.p_alive <= first.p_alive - CHURN_FALL
    risk = churn_risk(workspace=workspace)
    assert risk[0].customer_id == regular.pk  # the biggest spender slipping away comes first

    analytics_recompute(workspace=workspace, as_of=later)  # same inputs: the trend is kept, not reset
    assert score(regular).p_alive_previous == pytest.approx(first.p_alive)
