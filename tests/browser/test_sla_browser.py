"""SLA settings and the response-time report in a real browser: inline errors without a reload, a policy
added, the report's range changed by htmx; and the badge counting down."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def _shot(page, name: str) -> None:
    folder = os.environ.get("SAMPHAN_SCREENSHOTS")
    if folder:
        page.screenshot(path=f"{folder}/{name}.png", full_page=True)


def test_settings_errors_inline_then_saved(live_server, page, owner, workspace, sign_in):
    page.set_default_navigation_timeout(60_000)  # the live server's first page may be slow on a loaded machine
    sign_in(page, owner)
    page.goto(f"{live_server.url}/w/{workspace.slug}/inbox/sla/")
    page.get_by_test_id("week-mon").fill("18:00-09:00")
    page.get_by_test_id("sla-hours-save").click()
    expect(page.get_by_test_id("sla-hours-error")).to_contain_text("mon interval 1: 18:00–09:00 ends before it starts")
    expect(page.get_by_test_id("week-mon")).to_have_value("18:00-09:00")
    for day in ("mon", "tue", "wed", "thu", "fri"):
        page.get_by_test_id(f"week-{day}").fill("09:00-12:00, 13:00-18:00")
    page.get_by_test_id("sla-hours-save").click()
    expect(page.get_by_test_id("sla-hours")).to_contain_text("Business hours saved.")

    page.get_by_test_id("policy-add").click()  # no name: the browser asks for it first
    page.get_by_test_id("policy-name").fill("มาตรฐาน Standard")
    page.get_by_test_id("policy-add").click()
    expect(page.get_by_test_id("sla-policy-error")).to_contain_text("at least one target")
    page.get_by_test_id("policy-name").fill("มาตรฐาน Standard")
    page.get_by_test_id("target-first_response").fill("30")
    page.get_by_test_id("policy-add").click()
    expect(page.get_by_test_id("policy-row")).to_contain_text("30 min")
    page.get_by_test_id("holiday-import").click()
    expect(page.get_by_test_id("sla-holidays")).to_contain_text("Songkran")
    _shot(page, "sla-settings")

    page.get_by_test_id("sla-report-link").click()
    expect(page.get_by_test_id("kpi-first_response")).to_contain_text("Nothing measured")
    page.get_by_test_id("report-start").fill("2026-01-01")
    page.get_by_test_id("report-start").dispatch_event("change")
    expect(page).to_have_url(f"{live_server.url}/w/{workspace.slug}/inbox/reports/?start=2026-01-01&end="
                             f"{page.get_by_test_id('report-end').input_value()}&clock=business")
    _shot(page, "sla-report")


def test_settings_fit_a_phone(live_server, phone_page, owner, workspace, sign_in):
    sign_in(phone_page, owner)
    phone_page.goto(f"{live_server.url}/w/{workspace.slug}/inbox/sla/")
    expect(phone_page.get_by_test_id("sla-hours")).to_be_visible()
    assert phone_page.evaluate(NO_OVERFLOW)
    phone_page.goto(f"{live_server.url}/w/{workspace.slug}/inbox/reports/")
    expect(phone_page.get_by_test_id("report-agent")).to_be_visible()
    _shot(phone_page, "sla-report-phone")
