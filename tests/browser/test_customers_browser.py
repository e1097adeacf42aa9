"""The customer 360, merge with undo and the segment builder, driven in a real browser."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from samphan.customers.models import Customer, MergeRecord
from samphan.customers.services import customer_create, tag_add
from samphan.segments.models import Segment
from tests.factories import OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def test_add_an_insight_in_thai(live_server, page, owner, workspace, sign_in):
    customer = customer_create(workspace=workspace, first_name="วิภา", last_name="ศรีสุข",
                               identities={"phone": "0812345678"})
    sign_in(page, owner)
    page.goto(f"{live_server.url}/w/alpha/customers/{customer.pk}/")
    expect(page.get_by_test_id("customer-name")).to_have_text("วิภา ศรีสุข")

    page.get_by_test_id("insight-text").fill("ซื้อเสื้อขาวไปทำบุญ ไม่ชอบผ้าที่เปื้อนง่าย")
    page.get_by_test_id("insight-kind").select_option("motive")
    page.get_by_test_id("insight-add").click()
    # htmx swaps the card in place: no page load, the note is there with its kind.
    expect(page.get_by_test_id("insight-list")).to_contain_text("ซื้อเสื้อขาวไปทำบุญ ไม่ชอบผ้าที่เปื้อนง่าย")
    expect(page.get_by_test_id("insight-list")).to_contain_text("Motive")
    expect(page.get_by_test_id("insight-text")).to_have_value("")
    assert customer.insights.get().author_id == owner.pk

    # A tag, and a phone that belongs to someone else: the error names them with a link.
    other = customer_create(workspace=workspace, first_name="Anna", identities={"phone": "0898765432"})
    page.get_by_test_id("tag-input").fill("ลูกค้าประจำ")
    page.get_by_test_id("tag-add").click()
    expect(page.get_by_test_id("tag-list")).to_contain_text("ลูกค้าประจำ")
    page.get_by_test_id("identity-kind").select_option("phone")
    page.get_by_test_id("identity-value").fill("+66 89 876 5432")
    page.get_by_test_id("identity-add").click()
    expect(page.get_by_test_id("identity-error")).to_contain_text("already belongs to another customer")
    page.get_by_test_id("identity-owner").click()
    expect(page).to_have_url(f"{live_server.url}/w/alpha/customers/{other.pk}/")


def test_merge_choosing_the_survivor_then_undo(live_server, page, owner, workspace, sign_in):
    older = customer_create(workspace=workspace, first_name="สมชาย", last_name="ใจดี",
                            identities={"email": "somchai@example.com"})
    newer = customer_create(workspace=workspace, first_name="Somchai", last_name="Jaidee",
                            identities={"email": "Somchai+line@example.com", "phone": "0812345678"})
    OrderFactory(customer=older, external_id="ORD-OLD", total=Decimal("500"))
    OrderFactory(customer=older, external_id="ORD-OLD-2", total=Decimal("700"))
    OrderFactory(customer=newer, external_id="ORD-NEW", total=Decimal("90"))
    tag_add(customer=newer, name="LINE")
    sign_in(page, owner)

    page.goto(f"{live_server.url}/w/alpha/customers/duplicates/")
    page.get_by_test_id("scan-now").click()
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "succeeded", timeout=20_000)
    page.get_by_test_id("job-reload").click()
    page.locator("[data-testid^=review-]").first.click()
    expect(page).to_have_url(re.compile(r"/customers/compare/\?candidate=\d+$"))

    # The record with more orders is proposed; keep the newer one instead.
    expect(page.get_by_test_id(f"survivor-{older.pk}")).to_be_checked()
    page.get_by_test_id(f"survivor-{newer.pk}").check()
    expect(page.get_by_test_id(f"compare-{newer.pk}").locator(".keep-tag")).to_be_visible()
    expect(page.get_by_test_id(f"compare-{older.pk}").locator(".merge-tag")).to_be_visible()
    page.get_by_test_id("merge-submit").click()

    expect(page).to_have_url(re.compile(rf"/customers/{newer.pk}/\?merged=\d+$"))
    expect(page.get_by_test_id("merge-banner")).to_be_visible()
    expect(page.get_by_test_id("kpi-orders")).to_have_text("3")
    older.refresh_from_db()
    assert older.merged_into_id == newer.pk

    page.get_by_test_id("undo-merge").click()
    expect(page.get_by_role("status").first).to_contain_text("Merge undone")
    expect(page.get_by_test_id("kpi-orders")).to_have_text("1")
    older.refresh_from_db()
    assert older.merged_into_id is None
    assert MergeRecord.objects.get().undone_at is not None
    assert Customer.objects.get(pk=older.pk).orders.count() == 2


HTMX_TRACKER = """
window.__htmxPending = 0;
document.addEventListener("htmx:beforeRequest", () => { window.__htmxPending += 1; });
for (const done of ["htmx:afterSettle", "htmx:responseError", "htmx:sendError", "htmx:swapError"]) {
  document.addEventListener(done, () => { window.__htmxPending = Math.max(0, window.__htmxPending - 1); });
}
"""


def settled(page):
    """Wait until htmx has drawn and wired up everything it asked for.

    A person takes longer than htmx's swap-and-settle step; a test clicking at once
    does not, and would change a select before htmx listens to it.
    """
    page.wait_for_function("window.__htmxPending === 0 && !document.querySelector('.htmx-request')")
    page.wait_for_timeout(50)
    return page


def test_segment_builder_live_count_and_save(live_server, page, owner, workspace, sign_in):
    for i in range(3):
        tag_add(customer=customer_create(workspace=workspace, first_name=f"VIP {i}", city="เชียงใหม่"), name="VIP")
    customer_create(workspace=workspace, first_name="Other", city="Bangkok")
    sign_in(page, owner)
    page.add_init_script(HTMX_TRACKER)
    page.goto(f"{live_server.url}/w/alpha/segments/new/")
    count = page.get_by_test_id("preview-count")
    expect(count).to_have_attribute("data-count", "4")

    page.get_by_test_id("add-cond-r").click()
    settled(page)
    page.get_by_test_id("field-r-0").select_option("tag")
    settled(page)
    page.get_by_test_id("choices-r-0").get_by_text("VIP").click()
    expect(count).to_have_attribute("data-count", "3")

    # A nested OR group, two levels deep: VIP and (Chiang Mai or Bangkok).
    page.get_by_test_id("add-group-r").click()
    settled(page)
    page.get_by_test_id("op-r-1").select_option("or")
    settled(page)
    page.get_by_test_id("field-r-1-0").select_option("city")
    settled(page)
    page.get_by_test_id("value-r-1-0").fill("Bangkok")
    expect(count).to_have_attribute("data-count", "0")
    page.get_by_test_id("add-cond-r-1").click()
    settled(page)
    page.get_by_test_id("field-r-1-1").select_option("city")
    settled(page)
    page.get_by_test_id("value-r-1-1").fill("เชียงใหม่")
    expect(count).to_have_attribute("data-count", "3")

    page.get_by_test_id("segment-name").fill("VIP ภาคเหนือ")
    page.get_by_test_id("segment-save").click()
    expect(page.get_by_test_id("segment-title")).to_have_text("VIP ภาคเหนือ")
    segment = Segment.objects.get()
    assert segment.rule["conditions"][1]["op"] == "or"
    assert [c["value"] for c in segment.rule["conditions"][1]["conditions"]] == ["Bangkok", "เชียงใหม่"]
    expect(page.get_by_test_id("job")).to_have_attribute("data-status", "succeeded", timeout=20_000)


def test_360_and_builder_on_a_phone(live_server, phone_page, owner, workspace, sign_in):
    page = phone_page
    customer = customer_create(workspace=workspace, first_name="กมลชนก", last_name="รัตนพันธ์",
                               identities={"email": "a-very-long-address.for-testing@example-company.co.th"})
    sign_in(page, owner)
    page.add_init_script(HTMX_TRACKER)
    page.goto(f"{live_server.url}/w/alpha/customers/{customer.pk}/")
    expect(page.get_by_test_id("customer-name")).to_be_visible()
    assert page.evaluate(NO_OVERFLOW)
    page.goto(f"{live_server.url}/w/alpha/segments/new/")
    page.get_by_test_id("add-group-r").click()
    settled(page)
    expect(page.get_by_test_id("field-r-0-0")).to_be_visible()
    assert page.evaluate(NO_OVERFLOW)
    # The live count stays on screen while editing.
    expect(page.get_by_test_id("live-count")).to_be_in_viewport()
