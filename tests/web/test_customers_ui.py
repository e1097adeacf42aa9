"""The customer pages as a person uses them: list and filters, the 360 and its edits,
duplicates and merge with undo, PDPA export and erasure, roles and workspace isolation."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from samphan.core.models import AuditEvent, Job
from samphan.customers import selectors
from samphan.customers.merge import customer_merge
from samphan.customers.models import Consent, Customer, DuplicateCandidate, Identity, MergeRecord
from samphan.customers.services import (
    consent_set,
    customer_create,
    insight_add,
    membership_set,
    organisation_create,
    tag_add,
)
from tests.factories import MembershipFactory, OrderFactory

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


@pytest.fixture
def somchai(workspace, owner):
    c = customer_create(workspace=workspace, first_name="สมชาย", last_name="ใจดี", city="กรุงเทพมหานคร",
                        language="th", identities={"email": "somchai@example.com", "phone": "081-234-5678"})
    OrderFactory(customer=c, external_id="ORD-1", total=Decimal("1200"))
    OrderFactory(customer=c, external_id="ORD-2", total=Decimal("300"))
    tag_add(customer=c, name="VIP")
    consent_set(customer=c, purpose="sms", status="granted", source="shop form")
    insight_add(customer=c, kind="motive", text="ซื้อเสื้อขาวไปทำบุญ", actor=owner)
    membership_set(customer=c, member_number="M-7788", tier="Gold")
    return c


@pytest.fixture
def anna(workspace):
    return customer_create(workspace=workspace, first_name="Anna", last_name="Smith",
                           identities={"email": "anna@example.com", "phone": "0898765432"})


@pytest.fixture
def staff_client(workspace):
    user = MembershipFactory(workspace=workspace, role="staff").user
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def outsider(other_workspace):
    """A customer, candidate, merge and job of another workspace the owner is not in."""
    a = customer_create(workspace=other_workspace, first_name="Beta", last_name="One")
    b = customer_create(workspace=other_workspace, first_name="Beta", last_name="Two")
    c = customer_create(workspace=other_workspace, first_name="Beta", last_name="Three")
    cand = DuplicateCandidate.objects.create(workspace=other_workspace, customer_a=a, customer_b=b,
                                             reasons=["similar_name"], score=90)
    record = customer_merge(survivor=a, merged=c)
    job = Job.objects.create(workspace=other_workspace, kind="duplicates_scan")
    return {"customer": a, "other": b, "candidate": cand, "merge": record, "job": job}


def url(path: str) -> str:
    return f"/w/alpha/{path}"


# --- list, filters, exports ------------------------------------------------------------------------

def test_list_filters(owner_client, workspace, somchai, anna):
    org = organisation_create(workspace=workspace, name="ร้านกาแฟสยาม", kind="shop")
    anna.organisation = org
    anna.save()
    body = owner_client.get(url("customers/")).content.decode()
    assert "สมชาย ใจดี" in body and "Anna Smith" in body
    assert 'data-testid="customer-filters"' in body
    cases = {
        "tag=VIP": "สมชาย", "member=yes": "สมชาย", "member=no": "Anna", "consent=sms": "สมชาย",
        "city=กรุงเทพมหานคร": "สมชาย", "language=th": "สมชาย", "organisation_kind=shop": "Anna",
        "q=0898765432": "Anna",
    }
    for query, who in cases.items():
        body = owner_client.get(url(f"customers/?{query}"), headers=HX).content.decode()
        assert "<html" not in body
        shown = {name for name in ("สมชาย", "Anna") if name in body}
        assert shown == {who}, (query, shown)


def test_list_created_range_and_bad_date(owner_client, somchai, anna):
    Customer.objects.filter(pk=anna.pk).update(created_at=timezone.now() - timedelta(days=400))
    today = timezone.localdate().isoformat()
    body = owner_client.get(url(f"customers/?created_from={today}")).content.decode()
    assert "สมชาย" in body and "Anna Smith" not in body
    body = owner_client.get(url("customers/?created_to=2001-01-01")).content.decode()
    assert 'data-testid="customers-empty"' in body and "No customers match these filters." in body
    # A date that is not a date is ignored with a note, the other filters still apply.
    response = owner_client.get(url("customers/?created_from=31/31/2024&tag=VIP"))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="filter-error"' in body
    assert "สมชาย" in body and "Anna Smith" not in body


def test_list_pagination_keeps_filters(owner_client, workspace):
    for i in range(30):
        c = customer_create(workspace=workspace, first_name=f"ลูกค้า{i}")
        tag_add(customer=c, name="ประจำ")
    body = owner_client.get(url("customers/?tag=ประจำ")).content.decode()
    assert "1–25 of 30 customers" in body
    assert "?tag=%E0%B8%9B%E0%B8%A3%E0%B8%B0%E0%B8%88%E0%B8%B3&amp;page=2" in body
    body = owner_client.get(url("customers/?tag=ประจำ&page=2")).content.decode()
    assert "26–30 of 30 customers" in body


def test_list_query_count_is_pinned(owner_client, workspace):
    for i in range(30):
        customer_create(workspace=workspace, first_name=f"ลูกค้า{i}", identities={"phone": f"08123456{i:02d}"})
    tag_add(customer=Customer.objects.first(), name="VIP")
    owner_client.get(url("customers/"))  # the session's first use writes the current workspace once
    with CaptureQueriesContext(connection) as ctx:
        response = owner_client.get(url("customers/?member=no&tag="))
    assert response.status_code == 200
    # session 1, user 1, membership 1, memberships for the switcher 1, count 1, page 1, tag choices 1
    assert len(ctx.captured_queries) == 7, [q["sql"][:90] for q in ctx.captured_queries]
    with CaptureQueriesContext(connection) as ctx:
        owner_client.get(url("customers/?q=ลูกค้า"), headers=HX)
    # the htmx partial: no tag choices (the shell's context processor still lists the memberships)
    assert len(ctx.captured_queries) == 6, [q["sql"][:90] for q in ctx.captured_queries]


def test_csv_exports(owner_client, somchai):
    response = owner_client.get(url("customers/export.csv"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="customers-alpha.csv"'
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeffid,customer_id,first_name")
    assert "สมชาย" in text and "M-7788" in text
    response = owner_client.get(url("orders/export.csv"))
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufefforder_id,") and "ORD-1" in text


# --- the 360 page ----------------------------------------------------------------------------------

def test_360_shows_every_section(owner_client, workspace, somchai, anna, monkeypatch):
    monkeypatch.setitem(selectors.CUSTOMER_360_SECTIONS, "loyalty_points", lambda ws, c: {
        "balance": 1250, "expires_on": "2026-12-31",
        "history": [{"points": 50, "reason": "ซื้อกาแฟ"}, {"points": -20, "reason": "แลกคูปอง", "coupon": "C-1"}]})
    DuplicateCandidate.objects.create(workspace=workspace, customer_a=somchai, customer_b=anna,
                                      reasons=["same_phone_other_format"], score=95)
    response = owner_client.get(url(f"customers/{somchai.pk}/"))
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("สมชาย ใจดี", "081 234 5678", "somchai@example.com", "M-7788", "Gold", "VIP",
                 "ซื้อเสื้อขาวไปทำบุญ", "shop form", "ORD-1", "1,500", "Possible duplicates",
                 "Same phone in another format", "Loyalty points", "1250", "แลกคูปอง", "<th>Coupon</th>",
                 "Export all data (JSON)",
                 "Erase personal data", 'data-testid="profile-card"', 'data-testid="consent-sms"'):
        assert text in body, text
    assert f"?candidate={DuplicateCandidate.objects.get().pk}" in body


def test_360_analytics_section(owner_client, somchai, monkeypatch):
    monkeypatch.setitem(selectors.CUSTOMER_360_SECTIONS, "analytics", lambda ws, c: {
        "stage": "regular", "stage_label": "Regular", "rfm_segment": "champions", "rfm_segment_label": "Champions",
        "r": 5, "f": 4, "m": 5, "clv": Decimal("12345.6"), "p_alive": 0.87, "expected_purchases_90d": 1.42,
        "expected_spend": Decimal("640"), "computed_at": timezone.now(), "stage_since": timezone.now().date()})
    body = owner_client.get(url(f"customers/{somchai.pk}/")).content.decode()
    assert 'data-testid="analytics-card"' in body
    for text in ("Regular", "Champions", "12,346", "87%", "1.4"):
        assert text in body, text
    monkeypatch.setitem(selectors.CUSTOMER_360_SECTIONS, "analytics", lambda ws, c: None)
    body = owner_client.get(url(f"customers/{somchai.pk}/")).content.decode()
    assert "appear after the next analytics run" in body


def test_360_query_count_is_pinned(owner_client, workspace, somchai, anna, monkeypatch):
    DuplicateCandidate.objects.create(workspace=workspace, customer_a=somchai, customer_b=anna,
                                      reasons=["similar_name"], score=90)
    for i in range(5):
        insight_add(customer=somchai, kind="need", text=f"note {i}")
        tag_add(customer=somchai, name=f"tag {i}")
    # The page pins its own queries plus the analytics section it draws; each other app's
    # section brings (and pins) its own.
    monkeypatch.setattr(selectors, "CUSTOMER_360_SECTIONS",
                        {"analytics": selectors.CUSTOMER_360_SECTIONS["analytics"]})
    owner_client.get(url(f"customers/{somchai.pk}/"))
    with CaptureQueriesContext(connection) as ctx:
        assert owner_client.get(url(f"customers/{somchai.pk}/")).status_code == 200
    # session, user, membership 3; customer_360: customer + 4 prefetches, orders, summary 7, analytics 1;
    # segments, duplicate candidates, merge history 3; workspace switcher 1
    assert len(ctx.captured_queries) == 15, [q["sql"][:90] for q in ctx.captured_queries]


def test_profile_edit(owner_client, somchai):
    response = owner_client.post(url(f"customers/{somchai.pk}/profile/"), {
        "first_name": "สมชาย", "last_name": "ใจงาม", "display_name": "", "language": "en", "city": "เชียงใหม่",
        "gender": "male", "birth_date": "1990-04-13"})
    assert response.status_code == 302
    somchai.refresh_from_db()
    assert (somchai.last_name, somchai.city, somchai.gender, str(somchai.birth_date)) == (
        "ใจงาม", "เชียงใหม่", "male", "1990-04-13")
    event = AuditEvent.objects.get(action="customer.updated")
    assert event.via == "web" and event.changes["last_name"] == ["ใจดี", "ใจงาม"]
    # htmx gets the card back, with the saved note
    response = owner_client.post(url(f"customers/{somchai.pk}/profile/"), {"first_name": "Somchai",
                                 "last_name": "ใจงาม", "city": "เชียงใหม่"}, headers=HX)
    body = response.content.decode()
    assert body.startswith('<section class="card" id="profile"') and "Profile saved." in body


def test_profile_bad_birth_date(owner_client, somchai):
    response = owner_client.post(url(f"customers/{somchai.pk}/profile/"), {"first_name": "X", "birth_date": "31.02"})
    assert response.status_code == 422
    assert "Enter a valid date." in response.content.decode()
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = owner_client.post(url(f"customers/{somchai.pk}/profile/"), {"first_name": "X", "birth_date": future},
                                 headers=HX)
    assert response.status_code == 200 and "cannot be in the future" in response.content.decode()
    somchai.refresh_from_db()
    assert somchai.first_name == "สมชาย"


def test_identity_add_and_errors(owner_client, somchai, anna):
    endpoint = url(f"customers/{anna.pk}/identities/")
    response = owner_client.post(endpoint, {"kind": "line", "value": "U" + "a" * 32}, headers=HX)
    assert response.status_code == 200 and "Contact point added." in response.content.decode()
    assert anna.identities.filter(kind="line").exists()
    # The phone of another customer, in another format: a conflict with a link to that customer.
    response = owner_client.post(endpoint, {"kind": "phone", "value": "+66 81 234 5678"})
    body = response.content.decode()
    assert response.status_code == 422
    assert "This Phone already belongs to another customer." in body
    assert f'href="/w/alpha/customers/{somchai.pk}/" data-testid="identity-owner"' in body
    assert f"?a={anna.pk}&amp;b={somchai.pk}" in body
    # A bad phone number.
    response = owner_client.post(endpoint, {"kind": "phone", "value": "12345"}, headers=HX)
    body = response.content.decode()
    assert 'data-testid="identity-error"' in body and "not a phone number we recognise" in body
    assert 'value="12345"' in body  # what was typed stays in the box
    assert not anna.identities.filter(value__contains="12345").exists()


def test_membership_set_and_conflict(owner_client, somchai, anna):
    endpoint = url(f"customers/{anna.pk}/membership/")
    response = owner_client.post(endpoint, {"member_number": "M-0001", "card_number": "4000", "tier": "Silver"},
                                 headers=HX)
    assert "Membership saved." in response.content.decode()
    assert anna.membership.tier == "Silver"
    response = owner_client.post(endpoint, {"member_number": "M-7788"}, headers=HX)
    assert "Member number M-7788 already belongs to another customer." in response.content.decode()
    response = owner_client.post(endpoint, {"member_number": ""})
    assert response.status_code == 422 and "A member number is required." in response.content.decode()


def test_consent_needs_a_source(owner_client, somchai):
    endpoint = url(f"customers/{somchai.pk}/consent/")
    response = owner_client.post(endpoint, {"purpose": "sms", "status": "withdrawn", "source": "  "})
    assert response.status_code == 422
    assert 'data-testid="consent-error"' in response.content.decode()
    assert Consent.objects.get(customer=somchai, purpose="sms").status == "granted"
    response = owner_client.post(endpoint, {"purpose": "sms", "status": "withdrawn", "source": "โทรแจ้ง call"},
                                 headers=HX)
    assert "Consent recorded." in response.content.decode()
    consent = Consent.objects.get(customer=somchai, purpose="sms")
    assert (consent.status, consent.source) == ("withdrawn", "โทรแจ้ง call")
    assert AuditEvent.objects.filter(action="consent.set", via="web").exists()
    response = owner_client.post(endpoint, {"purpose": "pigeon", "status": "granted", "source": "x"}, headers=HX)
    assert "Choose a purpose and a status." in response.content.decode()


def test_tags_add_and_remove_with_htmx(owner_client, somchai):
    response = owner_client.post(url(f"customers/{somchai.pk}/tags/"), {"name": "ลูกค้าประจำ"}, headers=HX)
    body = response.content.decode()
    assert body.startswith('<section class="card" id="tags"') and "ลูกค้าประจำ" in body
    response = owner_client.post(url(f"customers/{somchai.pk}/tags/remove/"), {"name": "VIP"}, headers=HX)
    assert "VIP" not in response.content.decode().split("</form>", 1)[0]
    assert sorted(somchai.tags.values_list("name", flat=True)) == ["ลูกค้าประจำ"]
    response = owner_client.post(url(f"customers/{somchai.pk}/tags/"), {"name": "x" * 65}, headers=HX)
    assert "A tag has 1 to 64 characters." in response.content.decode()


def test_staff_adds_an_insight_but_cannot_edit(staff_client, somchai):
    response = staff_client.post(url(f"customers/{somchai.pk}/insights/"),
                                 {"kind": "emotion", "text": "กังวลเรื่องเสื้อขาวเปื้อนง่าย"}, headers=HX)
    body = response.content.decode()
    assert response.status_code == 200 and "กังวลเรื่องเสื้อขาวเปื้อนง่าย" in body
    assert somchai.insights.filter(kind="emotion").exists()
    response = staff_client.post(url(f"customers/{somchai.pk}/insights/"), {"kind": "emotion", "text": " "},
                                 headers=HX)
    assert "Write what you learned." in response.content.decode()
    assert staff_client.post(url(f"customers/{somchai.pk}/tags/"), {"name": "x"}).status_code == 403
    assert staff_client.post(url(f"customers/{somchai.pk}/consent/"),
                             {"purpose": "sms", "status": "granted", "source": "x"}).status_code == 403


def test_staff_sees_no_merge_erase_or_export(staff_client, somchai, anna, workspace):
    cand = DuplicateCandidate.objects.create(workspace=workspace, customer_a=somchai, customer_b=anna,
                                             reasons=["similar_name"], score=90)
    body = staff_client.get(url(f"customers/{somchai.pk}/")).content.decode()
    for hidden in ('data-testid="export-json"', 'data-testid="erase-link"', 'data-testid="edit-profile"',
                   'data-testid="identity-form"', 'data-testid="tag-input"'):
        assert hidden not in body, hidden
    assert 'data-testid="insight-form"' in body
    assert 'data-testid="export-menu"' not in staff_client.get(url("customers/")).content.decode()
    assert 'data-testid="scan-now"' not in staff_client.get(url("customers/duplicates/")).content.decode()
    body = staff_client.get(url(f"customers/compare/?candidate={cand.pk}")).content.decode()
    assert 'data-testid="merge-submit"' not in body and "Only owners, managers and agents" in body
    forbidden = [
        ("post", "customers/compare/", {"a": somchai.pk, "b": anna.pk, "survivor": somchai.pk}),
        ("post", f"customers/duplicates/{cand.pk}/dismiss/", {}),
        ("post", "customers/duplicates/scan/", {}),
        ("post", f"customers/{somchai.pk}/export/", {}),
        ("get", f"customers/{somchai.pk}/erase/", {}),
        ("post", f"customers/{somchai.pk}/erase/", {"confirm": "ERASE", "reason": "x"}),
        ("get", "customers/export.csv", {}),
        ("get", "orders/export.csv", {}),
    ]
    for method, path, data in forbidden:
        assert getattr(staff_client, method)(url(path), data).status_code == 403, path
    assert not MergeRecord.objects.exists()
    assert Customer.objects.filter(erased_at__isnull=False).count() == 0


# --- duplicates and merge -------------------------------------------------------------------------------

def test_duplicates_page_and_scan_job(owner_client, workspace, somchai, django_capture_on_commit_callbacks):
    customer_create(workspace=workspace, first_name="Somchai", last_name="Jaidee",
                    identities={"email": "SomChai@Example.com.th"})
    customer_create(workspace=workspace, first_name="สมชาย", last_name="ใจดี", identities={"phone": "+66812345679"})
    body = owner_client.get(url("customers/duplicates/")).content.decode()
    assert 'data-testid="duplicates-empty"' in body
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(url("customers/duplicates/scan/"), headers=HX)
    job = Job.objects.get(kind="duplicates_scan")
    assert f'id="job-{job.pk}"' in response.content.decode()
    body = owner_client.get(url(f"jobs/{job.pk}/"), headers=HX).content.decode()
    assert 'data-status="succeeded"' in body and "new possible duplicate" in body
    assert "hx-trigger" not in body  # finished: the poll stops
    body = owner_client.get(url("customers/duplicates/")).content.decode()
    assert 'data-testid="duplicates-table"' in body and "Similar name" in body


def test_job_progress_polls_while_running(owner_client, workspace):
    job = Job.objects.create(workspace=workspace, kind="segments_refresh", status="running", progress=3, total=10)
    body = owner_client.get(url(f"jobs/{job.pk}/"), headers=HX).content.decode()
    assert 'hx-trigger="every 1s"' in body and "3 / 10" in body


def test_compare_merge_undo(owner_client, workspace, somchai, anna):
    consent_set(customer=anna, purpose="sms", status="withdrawn", source="LINE chat")
    cand = DuplicateCandidate.objects.create(workspace=workspace, customer_a=somchai, customer_b=anna,
                                             reasons=["similar_name", "same_phone_other_format"], score=97)
    body = owner_client.get(url(f"customers/compare/?candidate={cand.pk}")).content.decode()
    assert "Similar name" in body and "Same phone in another format" in body
    assert f'data-testid="survivor-{somchai.pk}"' in body and f'data-testid="survivor-{anna.pk}"' in body
    assert "(most restrictive)" in body  # granted vs withdrawn SMS
    assert f'data-testid="orders-{somchai.pk}">2' in body

    # Keep Anna (not the default): Somchai's orders, tags and insight move to her.
    response = owner_client.post(url("customers/compare/"), {"a": somchai.pk, "b": anna.pk, "candidate": cand.pk,
                                                              "survivor": anna.pk})
    record = MergeRecord.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/w/alpha/customers/{anna.pk}/?merged={record.pk}"
    assert (record.survivor_id, record.merged_id) == (anna.pk, somchai.pk)
    body = owner_client.get(response["Location"]).content.decode()
    assert 'data-testid="merge-banner"' in body and 'data-testid="undo-merge"' in body
    assert "ORD-1" in body and "ซื้อเสื้อขาวไปทำบุญ" in body
    assert Consent.objects.get(customer=anna, purpose="sms").status == "withdrawn"

    # The merged-away record's page says where it went.
    body = owner_client.get(url(f"customers/{somchai.pk}/")).content.decode()
    assert "This customer was merged into Anna Smith" in body
    assert f'href="/w/alpha/customers/{anna.pk}/" data-testid="merged-into-link"' in body

    response = owner_client.post(url(f"customers/merges/{record.pk}/undo/"))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.undone_at is not None
    somchai.refresh_from_db()
    assert somchai.merged_into_id is None and somchai.orders.count() == 2
    body = owner_client.get(url(f"customers/{anna.pk}/"), follow=True).content.decode()
    assert "Merge undone" in body
    assert 'data-testid="merge-history"' in body and "Undone" in body
    # Undoing twice is refused with a message, not an error page.
    response = owner_client.post(url(f"customers/merges/{record.pk}/undo/"), follow=True)
    assert "already been undone" in response.content.decode()


def test_merge_into_itself_is_refused(owner_client, somchai):
    body = owner_client.get(url(f"customers/compare/?a={somchai.pk}&b={somchai.pk}")).content.decode()
    assert "cannot be merged into itself" in body and 'data-testid="merge-submit"' not in body
    response = owner_client.post(url("customers/compare/"), {"a": somchai.pk, "b": somchai.pk,
                                                              "survivor": somchai.pk})
    assert response.status_code == 422
    assert "cannot be merged into itself" in response.content.decode()
    assert not MergeRecord.objects.exists()


def test_merge_needs_a_chosen_survivor(owner_client, somchai, anna):
    response = owner_client.post(url("customers/compare/"), {"a": somchai.pk, "b": anna.pk})
    assert response.status_code == 422 and "Choose which record to keep." in response.content.decode()


def test_not_the_same_person(owner_client, workspace, somchai, anna):
    cand = DuplicateCandidate.objects.create(workspace=workspace, customer_a=somchai, customer_b=anna,
                                             reasons=["similar_name"], score=90)
    response = owner_client.post(url(f"customers/duplicates/{cand.pk}/dismiss/"), follow=True)
    cand.refresh_from_db()
    assert cand.status == "dismissed"
    assert "as different people" in response.content.decode()
    assert AuditEvent.objects.filter(action="customer.duplicate_dismissed", via="web").exists()


# --- PDPA -------------------------------------------------------------------------------------------------

def test_export_all_data_json(owner_client, somchai):
    response = owner_client.post(url(f"customers/{somchai.pk}/export/"))
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="customer-{somchai.pk}.json"'
    data = json.loads(response.content)
    assert data["customer"]["first_name"] == "สมชาย" and len(data["orders"]) == 2
    assert "สมชาย".encode() in response.content  # UTF-8, not \u escapes
    assert AuditEvent.objects.filter(action="customer.exported", via="web", target_id=str(somchai.pk)).exists()


def test_erase_needs_the_name_or_erase_and_a_reason(owner_client, somchai):
    page = url(f"customers/{somchai.pk}/erase/")
    assert "Erase สมชาย ใจดี?" in owner_client.get(page).content.decode()
    response = owner_client.post(page, {"confirm": "Somchai", "reason": "asked by e-mail"})
    assert response.status_code == 422 and 'data-testid="erase-error"' in response.content.decode()
    response = owner_client.post(page, {"confirm": "erase", "reason": ""})
    assert response.status_code == 422 and "Give a reason" in response.content.decode()
    somchai.refresh_from_db()
    assert somchai.erased_at is None

    response = owner_client.post(page, {"confirm": "สมชาย ใจดี", "reason": "ลูกค้าขอลบข้อมูลทางอีเมล"}, follow=True)
    assert "was erased" in response.content.decode()
    somchai.refresh_from_db()
    assert somchai.erased_at is not None and somchai.first_name == ""
    event = AuditEvent.objects.get(action="customer.erased")
    assert event.via == "web" and event.changes["reason"] == "ลูกค้าขอลบข้อมูลทางอีเมล"
    response = owner_client.get(url(f"customers/{somchai.pk}/"))
    assert response.status_code == 410 and "was erased" in response.content.decode()
    assert owner_client.get(page).status_code == 404


# --- isolation ---------------------------------------------------------------------------------------------

def test_another_workspace_ids_are_not_found(owner_client, somchai, outsider):
    c, other = outsider["customer"], outsider["other"]
    cand, merge, job = outsider["candidate"], outsider["merge"], outsider["job"]
    gets = [f"customers/{c.pk}/", f"customers/{c.pk}/erase/", f"customers/compare/?a={c.pk}&b={other.pk}",
            f"customers/compare/?a={somchai.pk}&b={c.pk}", f"customers/compare/?candidate={cand.pk}",
            f"jobs/{job.pk}/", f"customers/{merge.merged_id}/"]
    for path in gets:
        assert owner_client.get(url(path)).status_code == 404, path
    posts = [
        (f"customers/{c.pk}/profile/", {"first_name": "x"}),
        (f"customers/{c.pk}/identities/", {"kind": "email", "value": "x@example.com"}),
        (f"customers/{c.pk}/membership/", {"member_number": "1"}),
        (f"customers/{c.pk}/consent/", {"purpose": "sms", "status": "granted", "source": "x"}),
        (f"customers/{c.pk}/tags/", {"name": "x"}),
        (f"customers/{c.pk}/tags/remove/", {"name": "x"}),
        (f"customers/{c.pk}/insights/", {"kind": "need", "text": "x"}),
        (f"customers/{c.pk}/export/", {}),
        (f"customers/{c.pk}/erase/", {"confirm": "ERASE", "reason": "x"}),
        (f"customers/duplicates/{cand.pk}/dismiss/", {}),
        (f"customers/merges/{merge.pk}/undo/", {}),
        ("customers/compare/", {"a": somchai.pk, "b": c.pk, "survivor": somchai.pk}),
    ]
    for path, data in posts:
        assert owner_client.post(url(path), data).status_code == 404, path
    c.refresh_from_db()
    cand.refresh_from_db()
    merge.refresh_from_db()
    assert c.first_name == "Beta" and c.erased_at is None and cand.status == "open" and merge.undone_at is None
    assert not Identity.objects.filter(value="x@example.com").exists()
    # Their data never shows in this workspace's list or exports.
    assert "Beta" not in owner_client.get(url("customers/")).content.decode()
    text = b"".join(owner_client.get(url("customers/export.csv")).streaming_content).decode()
    assert "Beta" not in text
