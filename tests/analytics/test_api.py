"""/api/analytics: workspace isolation, recompute as a job with progress, reads, rules, permissions."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.test import Client

from samphan.accounts.services import api_token_create
from samphan.analytics.models import CustomerScore
from samphan.analytics.services import analytics_recompute
from samphan.core.models import Job
from tests.analytics.conftest import Shop
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 6, 30)


@pytest.fixture
def two_shops(shop, workspace, other_workspace):
    mine = [shop.customer(f"mine{i}") for i in range(3)]
    for i, c in enumerate(mine):
        shop.order(c, AS_OF - timedelta(days=10 + i), 100 * (i + 1))
    theirs_shop = Shop(other_workspace)
    theirs = [theirs_shop.customer(f"theirs{i}") for i in range(2)]
    for c in theirs:
        theirs_shop.order(c, AS_OF - timedelta(days=5), 5000)
        theirs_shop.order(c, AS_OF - timedelta(days=50), 5000)
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    analytics_recompute(workspace=other_workspace, as_of=AS_OF)
    return mine, theirs


def test_scores_never_show_another_workspace(api, two_shops):
    mine, theirs = two_shops
    body = api.get("/api/analytics/scores?limit=100").json()
    assert {row["customer_id"] for row in body["items"]} == {c.pk for c in mine}
    assert api.get(f"/api/analytics/scores/{theirs[0].pk}").status_code == 404
    assert api.get(f"/api/analytics/scores/{mine[0].pk}").json()["stage"] == "new"
    assert api.get("/api/analytics/stages").json()["customers"] == 3
    assert api.get("/api/analytics/rfm").json()["customers"] == 3
    pareto = api.get("/api/analytics/pareto").json()
    assert pareto["customers"] == 3 and pareto["revenue"] == 600
    assert len(pareto["curve"]) == 101
    moves = api.get("/api/analytics/stage-changes?to_stage=new").json()
    assert {m["customer_id"] for m in moves["items"]} == {c.pk for c in mine}
    assert CustomerScore.objects.count() == 5  # the other workspace's rows exist, unseen


def test_360_has_the_analytics_section(api, two_shops):
    mine, theirs = two_shops
    body = api.get(f"/api/customers/{mine[2].pk}").json()
    section = body["sections"]["analytics"]
    assert section["stage"] == "new" and section["order_count"] == 1 and section["rfm_segment"]
    assert api.get(f"/api/customers/{theirs[0].pk}").status_code == 404


def test_recompute_is_a_job_with_progress(api, shop, workspace, django_capture_on_commit_callbacks, monkeypatch):
    c = shop.customer()
    shop.order(c, AS_OF - timedelta(days=2))
    seen: list[tuple[int, str]] = []
    from samphan.core import jobs

    real = jobs.job_progress

    def spy(job, *, progress, message=""):
        seen.append((progress, message))
        real(job, progress=progress, message=message)

    monkeypatch.setattr("samphan.analytics.tasks.job_progress", spy)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/analytics/recompute?as_of=2026-06-30")
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued" and Job.objects.get(pk=job["id"]).kind == "analytics_recompute"
    assert len(callbacks) == 1
    callbacks[0]()
    done = api.get(f"/api/jobs/{job['id']}").json()
    assert done["status"] == "succeeded" and done["percent"] == 100
    assert done["total"] == 5 and done["progress"] == 5
    assert [p for p, _ in seen] == [0, 1, 2, 3, 4, 5]
    assert done["result"]["customers"] == 1 and done["result"]["as_of"] == "2026-06-30"
    assert CustomerScore.objects.get(customer=c).stage == "new"


def test_rules_need_a_manager_and_analytics_needs_a_marketer(workspace, api):
    assert api.patch("/api/analytics/rules", data=json.dumps({"lifecycle": {"new_days": 30}}),
                     content_type="application/json").json()["lifecycle"]["new_days"] == 30
    bad = api.patch("/api/analytics/rules", data=json.dumps({"lifecycle": {"new_days": "soon"}}),
                    content_type="application/json")
    assert bad.status_code == 422 and bad.json()["details"][0]["field"] == "lifecycle.new_days"

    def client_for(role: str) -> Client:
        user = MembershipFactory(workspace=workspace, role=role).user
        _, raw = api_token_create(user=user, workspace=workspace)
        return Client(headers={"Authorization": f"Bearer {raw}"})

    marketer = client_for("marketer")
    assert marketer.get("/api/analytics/stages").status_code == 200
    assert marketer.patch("/api/analytics/rules", data="{}", content_type="application/json").status_code == 403
    staff = client_for("staff")
    assert staff.get("/api/analytics/stages").status_code == 403
    assert staff.post("/api/analytics/recompute").status_code == 403


def test_unknown_stage_is_a_validation_error(api, workspace):
    response = api.get("/api/analytics/stage-changes?from_stage=sleepy")
    assert response.status_code == 422 and "unknown stage" in response.json()["message"]


def test_segment_rule_on_lifecycle_stage(two_shops, workspace):
    from samphan.customers.models import Customer
    from samphan.segments.rules import compile_rule

    mine, _ = two_shops
    q = compile_rule({"op": "and", "conditions": [
        {"field": "stage", "operator": "in", "value": ["new"]},
        {"field": "total_spend", "operator": "gte", "value": 200},
    ]}, workspace=workspace)
    found = set(Customer.objects.for_workspace(workspace).filter(q).values_list("pk", flat=True))
    assert found == {mine[1].pk, mine[2].pk}


def test_churn_risk_lists_this_workspace_only_with_the_trend(api, two_shops):
    mine, _theirs = two_shops
    CustomerScore.objects.update(rfm_segment="at_risk")  # everyone, in both workspaces, at risk
    CustomerScore.objects.filter(customer=mine[0]).update(p_alive=0.3, p_alive_previous=0.9)
    body = api.get("/api/analytics/churn-risk?limit=10").json()
    assert [row["customer_id"] for row in body] == [mine[2].pk, mine[1].pk, mine[0].pk]  # most spend first
    assert body[2]["p_alive_previous"] == 0.9 and body[2]["p_alive"] == 0.3
