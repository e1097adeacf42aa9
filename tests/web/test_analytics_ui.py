"""The analytics dashboard: computed data, empty state, recompute with progress, roles,
workspace isolation, Thai, and a pinned query count."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from samphan.analytics.dashboard import _nice_edges, pareto_from_scores
from samphan.analytics.services import analytics_recompute
from samphan.commerce.models import Order
from samphan.core.models import Job
from samphan.customers.models import Customer
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

URL = "/w/alpha/analytics/"
AS_OF = date(2026, 6, 30)


def _order(workspace, customer, day: date, total: float, n: list[int]) -> None:
    n[0] += 1
    at = datetime(day.year, day.month, day.day, 5, tzinfo=UTC)
    Order.objects.create(workspace=workspace, customer=customer, external_id=f"O{n[0]}", ordered_at=at,
                         total=Decimal(str(total)), status="completed")


def build_shop(workspace, prefix: str = "") -> dict[str, Customer]:
    """Twenty-four buyers with varied habits and a prospect; enough repeat purchases for a CLV fit."""
    n = [0]
    people = {}
    for i in range(24):
        c = Customer.objects.create(workspace=workspace, external_id=f"{prefix}c{i}",
                                    display_name=f"{prefix}ลูกค้า {i}")
        people[f"c{i}"] = c
        visits = 1 + (i % 5)
        gap = 20 + 7 * i
        last = AS_OF - timedelta(days=3 + 25 * (i % 6))
        for k in range(visits):
            _order(workspace, c, last - timedelta(days=gap * k), 150 + 90 * i, n)
    # A big spender who has not bought for a long time: the churn list must show them.
    whale = Customer.objects.create(workspace=workspace, external_id=f"{prefix}whale",
                                    display_name=f"{prefix}Whale Wong")
    for k in range(8):
        _order(workspace, whale, AS_OF - timedelta(days=300 + 12 * k), 5000, n)
    people["whale"] = whale
    people["prospect"] = Customer.objects.create(workspace=workspace, external_id=f"{prefix}p",
                                                 display_name=f"{prefix}Prospect")
    return people


@pytest.fixture
def computed(workspace):
    people = build_shop(workspace)
    analytics_recompute(workspace=workspace, as_of=AS_OF)
    return people


def test_empty_state_offers_recompute(owner_client):
    body = owner_client.get(URL).content.decode()
    assert 'data-testid="analytics-empty"' in body
    assert 'data-testid="recompute"' in body
    assert "/w/alpha/segments/" in body  # the link to the segments list


def test_page_renders_computed_data(owner_client, computed):
    response = owner_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    for part in ("stages", "segments-revenue", "pareto", "pareto-table", "clv", "moves", "churn", "computed-at"):
        assert f'data-testid="{part}"' in body, part
    assert "analytics-empty" not in body
    assert "<svg class=\"chart\"" in body and "<polyline" in body
    assert 'data-testid="clv-table"' in body  # enough buyers for a CLV fit
    assert "Top 20 %" in body
    # The whale is valuable and slipping away, and links to their 360 page.
    assert "Whale Wong" in body
    assert f"/w/alpha/customers/{computed['whale'].pk}/" in body
    assert 'href="/w/alpha/segments/"' in body
    assert 'href="/w/alpha/analytics/"' in body  # the sidebar points here, no longer "soon"
    assert "/w/alpha/area/analytics/" not in body


def test_pareto_matches_exact_report(workspace, computed):
    got = pareto_from_scores(workspace=workspace)
    spends = sorted((float(s) for s in Customer.objects.filter(workspace=workspace)
                     .values_list("analytics_score__total_spend", flat=True) if s), reverse=True)
    assert got["customers"] == len(spends) == 25
    half = next(t for t in got["top"] if t["share"] == 50)["revenue_share"]
    # 50 % of 25 buyers is 12.5: the 13th counts half.
    expected = (sum(spends[:12]) + 0.5 * spends[12]) / sum(spends)
    assert half == pytest.approx(expected)


def test_clv_histogram_has_no_empty_leading_bars(workspace, computed):
    from samphan.analytics.dashboard import clv_histogram

    hist = clv_histogram(workspace=workspace)
    assert hist["buckets"][0]["customers"] > 0
    assert sum(b["customers"] for b in hist["buckets"]) == hist["customers"]


def test_nice_edges_cover_the_maximum():
    edges = _nice_edges(12_345)
    assert edges[0] == 0 and edges[-1] > 12_345 and len(edges) <= 11
    assert edges[-3:] == [5000, 10000, 20000]


def test_recompute_button_starts_job_and_polls(owner_client, workspace, django_capture_on_commit_callbacks):
    build_shop(workspace)
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/w/alpha/analytics/recompute/", headers={"HX-Request": "true"})
    assert response.status_code == 200
    job = Job.objects.get(workspace=workspace, kind="analytics_recompute")
    assert 'data-testid="recompute-job"' in response.content.decode()
    job.refresh_from_db()
    assert job.status == "succeeded"  # eager Celery in tests
    poll = owner_client.get(f"/w/alpha/analytics/jobs/{job.pk}/")
    assert 'data-status="succeeded"' in poll.content.decode()
    assert 'data-testid="analytics-empty"' not in owner_client.get(URL).content.decode()


def test_running_job_is_polled(owner_client, workspace):
    job = Job.objects.create(workspace=workspace, kind="analytics_recompute", status="running", total=5, progress=2)
    body = owner_client.get(URL).content.decode()
    assert f'hx-get="/w/alpha/analytics/jobs/{job.pk}/"' in body and 'hx-trigger="every 1s"' in body


def test_staff_gets_the_forbidden_page(workspace, computed):
    client = Client()
    client.force_login(MembershipFactory(workspace=workspace, role="staff").user)
    assert client.get(URL).status_code == 403
    assert client.post("/w/alpha/analytics/recompute/").status_code == 403
    assert not Job.objects.filter(kind="analytics_recompute").exists()


def test_other_workspace_never_shows(owner_client, workspace, other_workspace, computed):
    build_shop(other_workspace, prefix="BETA-")
    analytics_recompute(workspace=other_workspace, as_of=AS_OF)
    body = owner_client.get(URL).content.decode()
    assert "BETA-" not in body
    other_job = Job.objects.create(workspace=other_workspace, kind="analytics_recompute")
    assert owner_client.get(f"/w/alpha/analytics/jobs/{other_job.pk}/").status_code == 404
    assert owner_client.get("/w/beta/analytics/").status_code == 404
    # The totals count only alpha's 25 buyers.
    assert pareto_from_scores(workspace=workspace)["customers"] == 25


def test_thai_rendering(owner_client, computed):
    owner_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "th"
    body = owner_client.get(URL).content.decode()
    assert '<html lang="th"' in body
    assert "Lifecycle stages" not in body and "Movement between stages" not in body
    assert "ลูกค้า" in body


def test_query_count_is_pinned(owner_client, computed):
    owner_client.get(URL)  # warm the session
    with CaptureQueriesContext(connection) as ctx:
        assert owner_client.get(URL).status_code == 200
    assert len(ctx.captured_queries) <= 13, [q["sql"][:120] for q in ctx.captured_queries]
