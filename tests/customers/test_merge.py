from __future__ import annotations

from decimal import Decimal

import pytest

from samphan.core.errors import Conflict
from samphan.core.models import AuditEvent
from samphan.customers.duplicates import (
    duplicate_candidates,
    duplicate_dismiss,
    duplicates_scan,
    name_key,
)
from samphan.customers.merge import customer_merge, customer_merge_undo
from samphan.customers.models import Consent, Customer, DuplicateCandidate
from samphan.customers.services import (
    consent_set,
    customer_create,
    insight_add,
    membership_set,
    tag_add,
)
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(workspace, owner):
    survivor = customer_create(workspace=workspace, first_name="สมชาย", last_name="ใจดี",
                               identities={"email": "somchai@example.com"})
    merged = customer_create(workspace=workspace, first_name="Somchai", last_name="Jaidee", city="เชียงใหม่",
                             identities={"line": "U" + "b" * 32, "phone": "0812345678"})
    OrderFactory(customer=survivor, total=Decimal("100"))
    OrderFactory(customer=merged, total=Decimal("250"))
    OrderFactory(customer=merged, total=Decimal("50"))
    insight_add(customer=merged, kind="motive", text="ซื้อเสื้อขาวไปทำบุญ")
    tag_add(customer=survivor, name="VIP")
    tag_add(customer=merged, name="VIP")
    tag_add(customer=merged, name="ลูกค้าประจำ")
    consent_set(customer=survivor, purpose="sms", status="granted", source="shop form")
    consent_set(customer=merged, purpose="sms", status="withdrawn", source="LINE chat")
    consent_set(customer=merged, purpose="line", status="granted", source="LINE follow")
    membership_set(customer=merged, member_number="M-0042")
    return survivor, merged


def test_merge_moves_everything_and_keeps_most_restrictive_consent(pair, owner):
    survivor, merged = pair
    record = customer_merge(survivor=survivor, merged=merged, actor=owner, via="web")
    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert merged.merged_into_id == survivor.pk
    assert survivor.orders.count() == 3
    assert set(survivor.identities.values_list("kind", flat=True)) == {"email", "line", "phone"}
    assert survivor.insights.get().text == "ซื้อเสื้อขาวไปทำบุญ"
    assert sorted(survivor.tags.values_list("name", flat=True)) == ["VIP", "ลูกค้าประจำ"]
    consent = {c.purpose: c.status for c in Consent.objects.filter(customer=survivor)}
    assert consent == {"sms": "withdrawn", "line": "granted"}
    assert survivor.city == "เชียงใหม่"  # blank filled from the merged record
    assert survivor.first_name == "สมชาย"  # the survivor's own values win
    assert survivor.membership.member_number == "M-0042"
    assert "m-0042" in survivor.search_text
    event = AuditEvent.objects.get(action="customer.merged")
    assert event.changes["merge_id"] == record.pk and event.actor == owner


def test_undo_restores_exactly(pair, owner):
    survivor, merged = pair
    before = {
        "survivor_orders": set(survivor.orders.values_list("pk", flat=True)),
        "merged_orders": set(merged.orders.values_list("pk", flat=True)),
        "merged_identities": set(merged.identities.values_list("value", flat=True)),
    }
    record = customer_merge(survivor=survivor, merged=merged, actor=owner)
    customer_merge_undo(record=record, actor=owner)
    survivor.refresh_from_db()
    merged.refresh_from_db()
    assert merged.merged_into_id is None
    assert set(survivor.orders.values_list("pk", flat=True)) == before["survivor_orders"]
    assert set(merged.orders.values_list("pk", flat=True)) == before["merged_orders"]
    assert set(merged.identities.values_list("value", flat=True)) == before["merged_identities"]
    assert {c.purpose: c.status for c in Consent.objects.filter(customer=survivor)} == {"sms": "granted"}
    assert {c.purpose: c.status for c in Consent.objects.filter(customer=merged)} == {"sms": "withdrawn",
                                                                                    "line": "granted"}
    assert sorted(merged.tags.values_list("name", flat=True)) == ["VIP", "ลูกค้าประจำ"]
    assert survivor.city == ""
    assert merged.membership.member_number == "M-0042"
    assert AuditEvent.objects.filter(action="customer.merge_undone").exists()
    with pytest.raises(Conflict, match="already been undone"):
        customer_merge_undo(record=record, actor=owner)


def test_merge_refuses_twice_and_across_workspaces(pair, owner, other_workspace):
    survivor, merged = pair
    customer_merge(survivor=survivor, merged=merged, actor=owner)
    with pytest.raises(Conflict, match="already merged"):
        customer_merge(survivor=survivor, merged=merged, actor=owner)
    stranger = customer_create(workspace=other_workspace, first_name="X")
    with pytest.raises(Exception, match="different workspaces"):
        customer_merge(survivor=survivor, merged=stranger, actor=owner)


def test_name_key_romanises_thai_and_drops_titles():
    assert name_key("นายสมชาย ใจดี") != ""
    assert name_key("คุณ สมชาย") == name_key("Khun Somchai") == "somchai"


def test_scan_finds_candidates_and_never_merges(workspace, other_workspace):
    a = customer_create(workspace=workspace, first_name="สมชาย", last_name="ใจดี")
    b = customer_create(workspace=workspace, first_name="Somchai", last_name="Jaidee")
    c = Customer.objects.create(workspace=workspace, first_name="Anna", email="Anna.Smith+shop@gmail.com")
    d = Customer.objects.create(workspace=workspace, first_name="A.", email="annasmith@gmail.com")
    e = Customer.objects.create(workspace=workspace, first_name="Mali", phone="081 234 5678")
    f = Customer.objects.create(workspace=workspace, first_name="Malee", phone="+66812345678")
    Customer.objects.create(workspace=other_workspace, first_name="Somchai", last_name="Jaidee")
    customer_create(workspace=workspace, first_name="Wipa", last_name="Srisuk")
    assert duplicates_scan(workspace=workspace) == 3
    pairs = {(x.customer_a_id, x.customer_b_id): x.reasons for x in duplicate_candidates(workspace=workspace)}
    assert pairs == {
        (a.pk, b.pk): ["similar_name"],
        (c.pk, d.pk): ["same_email_other_form"],
        (e.pk, f.pk): ["same_phone_other_format", "similar_name"],  # Mali ~ Malee too
    }
    assert Customer.objects.filter(merged_into__isnull=False).count() == 0
    assert duplicates_scan(workspace=workspace) == 0  # idempotent


def test_dismissed_pair_is_not_proposed_again(workspace, owner):
    customer_create(workspace=workspace, first_name="Somchai", last_name="Jaidee")
    customer_create(workspace=workspace, first_name="Somchai", last_name="Jaide")
    duplicates_scan(workspace=workspace)
    candidate = DuplicateCandidate.objects.get()
    duplicate_dismiss(candidate=candidate, actor=owner)
    assert duplicates_scan(workspace=workspace) == 0
    assert not duplicate_candidates(workspace=workspace).exists()
