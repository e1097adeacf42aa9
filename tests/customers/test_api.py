from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from samphan.core.models import AuditEvent
from samphan.customers.models import Customer
from samphan.customers.services import (
    consent_set,
    customer_create,
    insight_add,
    membership_set,
    tag_add,
)
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def post(client, url, data, method="post"):
    return getattr(client, method)(url, data=json.dumps(data), content_type="application/json")


@pytest.fixture
def somchai(workspace):
    c = customer_create(workspace=workspace, external_id="C001", first_name="สมชาย", last_name="ใจดี",
                        identities={"phone": "081-234-5678", "email": "Somchai@Example.com",
                                    "line": "U" + "c" * 32})
    membership_set(customer=c, member_number="M-7788", card_number="CARD-1")
    consent_set(customer=c, purpose="line", status="granted", source="LINE follow")
    tag_add(customer=c, name="ลูกค้าประจำ")
    insight_add(customer=c, kind="need", text="ต้องการเสื้อขาวใส่ทำบุญ")
    for total in ("120.00", "80.00", "300.00"):
        OrderFactory(customer=c, total=Decimal(total))
    return c


def test_customer_360(api, somchai):
    body = api.get(f"/api/customers/{somchai.pk}").json()
    assert body["customer"]["first_name"] == "สมชาย"
    assert body["customer"]["phone"] == "+66812345678"
    assert {i["kind"] for i in body["identities"]} == {"phone", "email", "line"}
    assert body["membership"]["member_number"] == "M-7788"
    assert body["consents"][0]["status"] == "granted"
    assert body["tags"] == ["ลูกค้าประจำ"]
    assert body["insights"][0]["kind"] == "need"
    summary = body["purchase_summary"]
    assert summary["order_count"] == 3
    assert Decimal(summary["total_spend"]) == Decimal("500.00")
    assert Decimal(summary["average_order"]).quantize(Decimal("0.01")) == Decimal("166.67")
    assert len(body["recent_orders"]) == 3
    assert "sections" in body


def test_customer_360_query_count_is_pinned(api, somchai):
    api.get("/api/me")  # the token's first use stamps last_used_at once; not part of the page
    with CaptureQueriesContext(connection) as ctx:
        assert api.get(f"/api/customers/{somchai.pk}").status_code == 200
    # auth (token + membership) 2, customer + 4 prefetches 5, orders 1, summary 1,
    # and exactly one per section later apps register (analytics, conversations, …)
    from samphan.customers.selectors import CUSTOMER_360_SECTIONS

    assert set(CUSTOMER_360_SECTIONS) >= {"analytics", "conversations"}
    assert len(ctx.captured_queries) == 9 + len(CUSTOMER_360_SECTIONS), [q["sql"][:80] for q in ctx.captured_queries]


def test_customer_list_query_count_is_pinned(api, workspace):
    for i in range(30):
        customer_create(workspace=workspace, first_name=f"ลูกค้า{i}")
    api.get("/api/me")
    with CaptureQueriesContext(connection) as ctx:
        body = api.get("/api/customers?limit=25").json()
    assert len(body["items"]) == 25 and body["count"] == 30
    # auth 2, count 1, page 1 — independent of the page size
    assert len(ctx.captured_queries) == 4, [q["sql"][:80] for q in ctx.captured_queries]


def test_search_pages_newest_first_and_counts_in_one_scan(api, workspace):
    made = [customer_create(workspace=workspace, first_name=f"สมหญิง{i}", last_name="Walker") for i in range(7)]
    customer_create(workspace=workspace, first_name="Other")
    api.get("/api/me")
    with CaptureQueriesContext(connection) as ctx:
        body = api.get("/api/customers", {"q": "walker", "limit": 3, "offset": 2}).json()
    # auth 2, matches + window count 1, the page's rows 1
    assert len(ctx.captured_queries) == 4, [q["sql"][:80] for q in ctx.captured_queries]
    newest_first = [c.pk for c in sorted(made, key=lambda c: (c.created_at, c.pk), reverse=True)]
    assert body["count"] == 7 and [c["id"] for c in body["items"]] == newest_first[2:5]
    past_the_end = api.get("/api/customers", {"q": "walker", "limit": 3, "offset": 30}).json()
    assert past_the_end == {"items": [], "count": 7}


@pytest.mark.parametrize("q", ["สมชาย", "ใจดี", "somchai@example", "SOMCHAI@EXAMPLE.COM", "081-234-5678",
                               "0812345678", "+66 81 234 5678", "812345678", "M-7788", "m-7788", "C001"])
def test_search_finds_by_any_form(api, somchai, workspace, q):
    customer_create(workspace=workspace, first_name="Anna", last_name="Smith", identities={"phone": "0898765432"})
    ids = [c["id"] for c in api.get("/api/customers", {"q": q}).json()["items"]]
    assert ids == [somchai.pk]


def test_search_short_query_and_no_match(api, somchai):
    assert api.get("/api/customers", {"q": "สม"}).json()["count"] == 1
    assert api.get("/api/customers", {"q": "zzzz"}).json()["count"] == 0


def test_search_index_follows_updates(api, somchai):
    post(api, f"/api/customers/{somchai.pk}", {"first_name": "สมศักดิ์"}, method="patch")
    assert api.get("/api/customers", {"q": "สมศักดิ์"}).json()["count"] == 1
    assert api.get("/api/customers", {"q": "สมชาย"}).json()["count"] == 0


def test_filters(api, somchai, workspace):
    customer_create(workspace=workspace, first_name="Anna")
    assert api.get("/api/customers", {"tag": "ลูกค้าประจำ"}).json()["count"] == 1
    assert api.get("/api/customers", {"is_member": "true"}).json()["count"] == 1
    assert api.get("/api/customers", {"is_member": "false"}).json()["count"] == 1
    assert api.get("/api/customers", {"consent_purpose": "line", "consent_status": "granted"}).json()["count"] == 1


def test_create_customer_and_bad_input(api):
    created = post(api, "/api/customers", {"first_name": "Wipa", "phone": "+66 89 876 5432"})
    assert created.status_code == 201
    assert created.json()["phone"] == "+66898765432"
    bad = post(api, "/api/customers", {"first_name": "X", "phone": "12"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "validation_error"
    dup = post(api, "/api/customers", {"first_name": "Y", "phone": "0898765432"})
    assert dup.status_code == 409
    assert "already belongs" in dup.json()["message"]
    assert Customer.objects.count() == 1  # the failed create left nothing behind


def test_consent_bad_input(api, somchai):
    r = post(api, f"/api/customers/{somchai.pk}/consent/telepathy", {"status": "granted", "source": "x"}, "put")
    assert r.status_code == 422 and "unknown consent purpose" in r.json()["message"]
    r = post(api, f"/api/customers/{somchai.pk}/consent/sms", {"status": "granted", "source": " "}, "put")
    assert r.status_code == 422


def test_merge_and_undo_via_api(api, somchai, workspace):
    other = customer_create(workspace=workspace, first_name="Somchai", last_name="Jaidee")
    OrderFactory(customer=other, total=Decimal("10"))
    r = post(api, "/api/customers/merge", {"survivor_id": other.pk, "merged_id": somchai.pk})
    assert r.status_code == 201
    merge_id = r.json()["id"]
    gone = api.get(f"/api/customers/{somchai.pk}")  # merged away: says where to
    assert gone.status_code == 404 and gone.json()["details"] == {"merged_into": other.pk}
    assert api.get(f"/api/customers/{other.pk}").json()["purchase_summary"]["order_count"] == 4
    r = api.post(f"/api/customers/merges/{merge_id}/undo")
    assert r.status_code == 200 and r.json()["undone_at"]
    assert api.get(f"/api/customers/{somchai.pk}").json()["purchase_summary"]["order_count"] == 3
    again = api.post(f"/api/customers/merges/{merge_id}/undo")
    assert again.status_code == 409


def test_duplicates_scan_job_and_list(api, workspace, django_capture_on_commit_callbacks):
    customer_create(workspace=workspace, first_name="สมชาย", last_name="ใจดี")
    customer_create(workspace=workspace, first_name="Somchai", last_name="Jaidee")
    with django_capture_on_commit_callbacks(execute=True):
        job = api.post("/api/customers/duplicates/scan")
    assert job.status_code == 202
    assert api.get(f"/api/jobs/{job.json()['id']}").json()["result"] == {"new_candidates": 1}
    items = api.get("/api/customers/duplicates").json()["items"]
    assert len(items) == 1 and items[0]["reasons"] == ["similar_name"]
    dismissed = api.post(f"/api/customers/duplicates/{items[0]['id']}/dismiss")
    assert dismissed.json()["status"] == "dismissed"


def test_pdpa_export_and_erase(api, somchai, workspace):
    data = api.get(f"/api/customers/{somchai.pk}/export").json()
    assert data["customer"]["first_name"] == "สมชาย"
    assert len(data["orders"]) == 3 and data["membership"]["member_number"] == "M-7788"
    r = post(api, f"/api/customers/{somchai.pk}/erase", {"reason": "customer request 2026-11-25"})
    assert r.status_code == 200
    somchai.refresh_from_db()
    assert somchai.erased_at and somchai.first_name == "" and somchai.phone == "" and not somchai.identities.exists()
    from samphan.commerce.models import Order

    orders = Order.objects.for_workspace(workspace)
    assert orders.count() == 3 and not orders.filter(customer__isnull=False).exists()
    assert sum(o.total for o in orders) == Decimal("500.00")  # totals kept for reports
    assert api.get("/api/customers", {"q": "สมชาย"}).json()["count"] == 0
    assert api.get(f"/api/customers/{somchai.pk}").status_code == 404
    assert AuditEvent.objects.filter(action="customer.erased", target_id=str(somchai.pk)).exists()
    assert not AuditEvent.objects.filter(summary__contains="สมชาย").exists()


def test_csv_exports(api, somchai):
    r = api.get("/api/customers/export.csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "customer_id", "first_name"]
    assert rows[1][2] == "สมชาย" and rows[1][10] == "M-7788"
    r = api.get("/api/orders/export.csv")
    rows = list(csv.reader(io.StringIO(b"".join(r.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 4 and rows[1][1] == "C001"


def test_staff_cannot_export_or_erase(workspace, somchai):
    from django.test import Client

    from samphan.accounts.services import api_token_create
    from tests.factories import MembershipFactory

    staff = MembershipFactory(workspace=workspace, role="staff").user
    _, raw = api_token_create(user=staff, workspace=workspace)
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    assert client.get(f"/api/customers/{somchai.pk}").status_code == 200
    assert client.get("/api/customers/export.csv").status_code == 403
    assert client.post(f"/api/customers/{somchai.pk}/erase", data="{}", content_type="application/json").status_code == 403
    assert client.post(f"/api/customers/{somchai.pk}/insights", data=json.dumps({"kind": "emotion", "text": "ดีใจมาก"}),
                       content_type="application/json").status_code == 201
