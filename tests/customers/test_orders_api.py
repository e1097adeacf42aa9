from __future__ import annotations

import json
from decimal import Decimal

import pytest

from samphan.commerce.models import Order
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def post(api, data):
    return api.post("/api/orders", data=json.dumps(data), content_type="application/json")


def test_create_order_with_lines(api, workspace):
    customer = CustomerFactory(workspace=workspace)
    r = post(api, {"order_id": "INV-1", "customer_id": customer.pk, "ordered_at": "2026-11-01T10:00:00+07:00",
                   "channel": "LINE", "lines": [{"sku": "LATTE", "name": "ลาเต้เย็น", "quantity": 2, "unit_price": 65},
                                                {"sku": "CAKE", "unit_price": 90, "discount": 10}]})
    assert r.status_code == 201, r.content
    assert Decimal(r.json()["total"]) == Decimal("210.00")
    detail = api.get(f"/api/orders/{r.json()['id']}").json()
    assert [line["sku"] for line in detail["lines"]] == ["LATTE", "CAKE"]


def test_order_bad_input(api, workspace, other_workspace):
    stranger = CustomerFactory(workspace=other_workspace)
    assert post(api, {"order_id": "X", "customer_id": stranger.pk, "ordered_at": "2026-11-01T10:00:00Z",
                      "total": 5}).status_code == 404
    r = post(api, {"order_id": "X", "ordered_at": "2026-11-01T10:00:00Z", "total": 5,
                   "lines": [{"unit_price": 3}]})
    assert r.status_code == 422 and "differs" in r.json()["message"]
    assert post(api, {"order_id": "X", "ordered_at": "not a date", "total": 5}).status_code == 422
    assert post(api, {"order_id": "Y", "ordered_at": "2026-11-01T10:00:00Z", "total": 5}).status_code == 201
    assert post(api, {"order_id": "Y", "ordered_at": "2026-11-01T10:00:00Z", "total": 5}).status_code == 409
    assert Order.objects.count() == 1
