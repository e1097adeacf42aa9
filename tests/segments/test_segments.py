from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from samphan.commerce.services import order_create
from samphan.core.errors import ValidationFailed
from samphan.customers.models import Organisation
from samphan.customers.services import consent_set, customer_create, membership_set, tag_add
from samphan.segments.models import SegmentEvent, SegmentMember
from samphan.segments.rules import compile_rule
from samphan.segments.services import (
    segment_count,
    segment_refresh,
    segment_save,
    segments_refresh_all,
    segments_refresh_customer,
)
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(workspace):
    shop = Organisation.objects.create(workspace=workspace, name="ร้านป้าแดง", kind="shop")
    a = customer_create(workspace=workspace, first_name="สมชาย", city="เชียงใหม่")
    b = customer_create(workspace=workspace, first_name="Anna", city="Bangkok")
    c = customer_create(workspace=workspace, first_name="วิภา", city="เชียงใหม่")
    c.organisation = shop
    c.save()
    tag_add(customer=a, name="VIP")
    tag_add(customer=b, name="VIP")
    consent_set(customer=a, purpose="line", status="granted", source="LINE follow")
    consent_set(customer=b, purpose="line", status="withdrawn", source="LINE chat")
    membership_set(customer=b, member_number="M1")
    ProductFactory(workspace=workspace, sku="LATTE", category="coffee")
    # Through the service, which keeps the purchase facts the product rules read.
    order_create(workspace=workspace, customer=a, external_id="O-A1", ordered_at=timezone.now(),
                 lines=[{"sku": "LATTE", "unit_price": Decimal("65")}])
    a.attributes = {"favourite_drink": "latte", "cups_per_week": 9}
    a.save()
    return {"a": a, "b": b, "c": c}


def ids(workspace, rule):
    from samphan.segments.rules import segment_queryset

    return set(segment_queryset(rule, workspace=workspace).values_list("id", flat=True))


def cond(field, operator, value):
    return {"field": field, "operator": operator, "value": value}


def test_each_field(workspace, people):
    a, b, c = people["a"].pk, people["b"].pk, people["c"].pk
    assert ids(workspace, {"conditions": [cond("tag", "in", ["VIP"])]}) == {a, b}
    assert ids(workspace, {"conditions": [cond("tag", "not_in", ["VIP"])]}) == {c}
    assert ids(workspace, {"conditions": [cond("consent", "in", ["line"])]}) == {a}
    assert ids(workspace, {"conditions": [cond("organisation_kind", "in", ["shop"])]}) == {c}
    assert ids(workspace, {"conditions": [cond("is_member", "is", True)]}) == {b}
    assert ids(workspace, {"conditions": [cond("city", "eq", "เชียงใหม่")]}) == {a, c}
    assert ids(workspace, {"conditions": [cond("product_bought", "in", ["LATTE"])]}) == {a}
    assert ids(workspace, {"conditions": [cond("category_bought", "in", ["coffee"])]}) == {a}
    assert ids(workspace, {"conditions": [cond("attribute", "eq", {"key": "favourite_drink", "value": "latte"})]}) == {a}
    assert ids(workspace, {"conditions": [cond("attribute", "gt", {"key": "cups_per_week", "value": 5})]}) == {a}
    assert ids(workspace, {"conditions": [cond("customer_since", "within_days", 30)]}) == {a, b, c}


def test_and_or_groups_and_negation(workspace, people):
    a, b, c = people["a"].pk, people["b"].pk, people["c"].pk
    rule = {"op": "or", "conditions": [
        {"op": "and", "conditions": [cond("tag", "in", ["VIP"]), cond("city", "eq", "Bangkok")]},
        cond("organisation_kind", "in", ["shop"]),
    ]}
    assert ids(workspace, rule) == {b, c}
    assert ids(workspace, {**rule, "negate": True}) == {a}


def test_nested_segment_reads_materialised_membership(workspace, people):
    vip = segment_save(workspace=workspace, name="VIP", rule={"conditions": [cond("tag", "in", ["VIP"])]})
    outer = segment_save(workspace=workspace, name="VIP in Chiang Mai", rule={"conditions": [
        cond("segment", "in", vip.pk), cond("city", "eq", "เชียงใหม่")]})
    segments_refresh_all(workspace=workspace)  # dependency order: VIP first
    assert set(SegmentMember.objects.filter(segment=outer).values_list("customer_id", flat=True)) == {people["a"].pk}


def test_cycles_and_bad_rules_are_clear_errors(workspace, people, other_workspace):
    s1 = segment_save(workspace=workspace, name="one", rule={"conditions": [cond("tag", "in", ["VIP"])]})
    s2 = segment_save(workspace=workspace, name="two", rule={"conditions": [cond("segment", "in", s1.pk)]})
    with pytest.raises(ValidationFailed, match="contain each other"):
        segment_save(workspace=workspace, segment=s1, name="one", rule={"conditions": [cond("segment", "in", s2.pk)]})
    with pytest.raises(ValidationFailed, match="cannot contain itself"):
        segment_save(workspace=workspace, segment=s1, name="one", rule={"conditions": [cond("segment", "in", s1.pk)]})
    foreign = segment_save(workspace=other_workspace, name="theirs", rule={"conditions": []})
    with pytest.raises(ValidationFailed, match="no segment"):
        compile_rule({"conditions": [cond("segment", "in", foreign.pk)]}, workspace=workspace)
    with pytest.raises(ValidationFailed, match=r"rule.conditions\[0\].field: unknown field 'shoe_size'"):
        compile_rule({"conditions": [cond("shoe_size", "eq", 42)]}, workspace=workspace)
    with pytest.raises(ValidationFailed, match=r"conditions\[0\].operator"):
        compile_rule({"conditions": [cond("tag", "gt", 1)]}, workspace=workspace)
    with pytest.raises(ValidationFailed, match="not a number"):
        compile_rule({"conditions": [cond("customer_since", "within_days", "soon")]}, workspace=workspace)
    # Decimal reads these, and int() or timedelta() then raised (a 500 from the API).
    for bad in ("NaN", "Infinity", "-Infinity", "sNaN"):
        with pytest.raises(ValidationFailed, match="not a number"):
            compile_rule({"conditions": [cond("customer_since", "within_days", bad)]}, workspace=workspace)
        with pytest.raises(ValidationFailed, match="not a number"):
            compile_rule({"conditions": [cond("total_spend", "gt", bad)]}, workspace=workspace)
    for bad in (-1, 1.5, "10000000000", 36_501):
        with pytest.raises(ValidationFailed, match="whole number of days from 0 to 36500"):
            compile_rule({"conditions": [cond("customer_since", "within_days", bad)]}, workspace=workspace)
    compile_rule({"conditions": [cond("customer_since", "within_days", "30")]}, workspace=workspace)


def test_refresh_records_joins_and_leaves(workspace, people):
    seg = segment_save(workspace=workspace, name="VIP", rule={"conditions": [cond("tag", "in", ["VIP"])]})
    assert segment_refresh(segment=seg) == {"joined": 2, "left": 0, "members": 2}
    assert segment_refresh(segment=seg) == {"joined": 0, "left": 0, "members": 2}  # idempotent
    from samphan.customers.services import tag_remove

    tag_remove(customer=people["b"], name="VIP")
    tag_add(customer=people["c"], name="VIP")
    assert segment_refresh(segment=seg) == {"joined": 1, "left": 1, "members": 2}
    left = SegmentEvent.objects.get(segment=seg, kind="left")
    assert left.customer_id == people["b"].pk
    seg.refresh_from_db()
    assert seg.member_count == 2


def test_new_order_refreshes_membership_after_commit(workspace, people, api, django_capture_on_commit_callbacks):
    seg = segment_save(workspace=workspace, name="Latte lovers",
                       rule={"conditions": [cond("product_bought", "in", ["LATTE"])]})
    segment_refresh(segment=seg)
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("/api/orders", data=json.dumps({
            "order_id": "N1", "customer_id": people["c"].pk, "ordered_at": timezone.now().isoformat(),
            "lines": [{"sku": "LATTE", "unit_price": 65}]}), content_type="application/json")
    assert r.status_code == 201
    assert SegmentMember.objects.filter(segment=seg, customer=people["c"]).exists()
    assert segments_refresh_customer(workspace=workspace, customer_id=people["c"].pk) == {}


def test_segment_api_and_isolation(api, workspace, people, other_workspace, django_capture_on_commit_callbacks):
    rule = {"op": "and", "conditions": [cond("tag", "in", ["VIP"])]}
    assert api.post("/api/segments/preview", data=json.dumps({"rule": rule}),
                    content_type="application/json").json() == {"count": 2}
    with django_capture_on_commit_callbacks(execute=True):
        r = api.post("/api/segments", data=json.dumps({"name": "VIP", "rule": rule}), content_type="application/json")
    assert r.status_code == 201
    seg_id = r.json()["segment"]["id"]
    assert api.get(f"/api/segments/{seg_id}").json()["member_count"] == 2
    assert api.get(f"/api/segments/{seg_id}/members").json()["count"] == 2
    assert api.get(f"/api/segments/{seg_id}/events", {"kind": "joined"}).json()["count"] == 2
    bad = api.post("/api/segments", data=json.dumps({"name": "x", "rule": {"conditions": [cond("nope", "eq", 1)]}}),
                   content_type="application/json")
    assert bad.status_code == 422 and "unknown field" in bad.json()["message"]
    theirs = segment_save(workspace=other_workspace, name="theirs", rule=rule)
    assert api.get(f"/api/segments/{theirs.pk}").status_code == 404
    assert api.get(f"/api/segments/{theirs.pk}/members").status_code == 404
    assert api.delete(f"/api/segments/{theirs.pk}").status_code == 404
    fields = {f["name"] for f in api.get("/api/segments/fields").json()}
    assert {"tag", "consent", "segment", "product_bought"} <= fields


def test_a_field_name_that_is_not_a_string_is_a_clear_error(api, workspace):
    # A JSON list or object as the field name used to reach the field registry's dict lookup
    # and fail there with TypeError (unhashable type): a 500 instead of a 422.
    for name in (["tag"], {"name": "tag"}):
        r = api.post("/api/segments/preview", data=json.dumps({"rule": {"conditions": [cond(name, "in", ["VIP"])]}}),
                     content_type="application/json")
        assert r.status_code == 422 and "unknown field" in r.json()["message"]


def test_merged_customers_leave_segments(workspace, people):
    from samphan.customers.merge import customer_merge

    seg = segment_save(workspace=workspace, name="VIP", rule={"conditions": [cond("tag", "in", ["VIP"])]})
    segment_refresh(segment=seg)
    customer_merge(survivor=people["a"], merged=people["b"])  # both members: the move must not collide
    assert segment_refresh(segment=seg)["members"] == 1


def test_count_matches_refresh(workspace, people):
    rule = {"conditions": [cond("city", "eq", "เชียงใหม่")]}
    seg = segment_save(workspace=workspace, name="CNX", rule=rule)
    assert segment_count(workspace=workspace, rule=rule) == segment_refresh(segment=seg)["members"] == 2
    for p in people.values():
        p.created_at = timezone.now() - timedelta(days=400)
        p.save()
    assert segment_count(workspace=workspace, rule={"conditions": [cond("customer_since", "within_days", 30)]}) == 0
