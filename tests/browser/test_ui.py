"""The web UI as a person uses it: sign in, switch language and workspace, sign out, on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.factories import CustomerFactory, MembershipFactory, WorkspaceFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def test_sign_in_wrong_password_then_right(live_server, page, owner, password):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=email]", owner.email)
    page.fill("input[name=password]", "not-the-password")
    page.get_by_test_id("login-submit").click()
    expect(page.get_by_test_id("login-error")).to_contain_text("do not match")
    expect(page.locator("input[name=email]")).to_have_value(owner.email)

    page.fill("input[name=password]", password)
    page.get_by_test_id("login-submit").click()
    expect(page).to_have_url(f"{live_server.url}/w/alpha/")
    expect(page.get_by_test_id("workspace-name")).to_have_text("Alpha Coffee")
    expect(page.get_by_test_id("nav-customers")).to_be_visible()


def test_switch_to_thai_and_back(live_server, page, owner, sign_in):
    sign_in(page, owner)
    page.goto(f"{live_server.url}/w/alpha/customers/")
    page.get_by_test_id("lang-th").click()
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.get_by_test_id("nav-customers")).to_have_text("ลูกค้า")
    expect(page.get_by_test_id("nav-inbox")).to_contain_text("กล่องข้อความ")
    # The switch keeps you on the page you were reading.
    expect(page).to_have_url(f"{live_server.url}/w/alpha/customers/")

    page.get_by_test_id("lang-en").click()
    expect(page.get_by_test_id("nav-customers")).to_have_text("Customers")


def test_login_page_in_thai(live_server, page):
    page.goto(f"{live_server.url}/login/")
    page.get_by_test_id("lang-th").click()
    expect(page.locator("h1")).to_have_text("เข้าสู่ระบบ")


def test_workspace_switcher(live_server, page, owner, sign_in):
    beta = WorkspaceFactory(slug="beta", name="Beta Silk")
    MembershipFactory(workspace=beta, user=owner, role="manager")
    CustomerFactory(workspace=beta, first_name="Somsri", last_name="Beta")
    sign_in(page, owner)

    page.goto(f"{live_server.url}/w/alpha/")
    page.get_by_test_id("workspace-switcher").select_option("beta")
    expect(page).to_have_url(f"{live_server.url}/w/beta/")
    expect(page.get_by_test_id("workspace-name")).to_have_text("Beta Silk")

    # From a section, the switch lands on the same section of the other workspace.
    page.get_by_test_id("nav-customers").click()
    expect(page.get_by_test_id("customer-table")).to_contain_text("Somsri Beta")
    page.get_by_test_id("workspace-switcher").select_option("alpha")
    expect(page).to_have_url(f"{live_server.url}/w/alpha/customers/")
    expect(page.get_by_test_id("customers-empty")).to_be_visible()


def test_customer_search_as_you_type(live_server, page, owner, workspace, sign_in):
    CustomerFactory(workspace=workspace, first_name="วิภา", last_name="ศรีสุข", search_text="วิภา ศรีสุข")
    CustomerFactory(workspace=workspace, first_name="John", last_name="Doe", search_text="john doe")
    sign_in(page, owner)
    page.goto(f"{live_server.url}/w/alpha/customers/")
    table = page.get_by_test_id("customer-table")
    expect(table).to_contain_text("John Doe")
    page.get_by_test_id("customer-search").fill("วิภา")
    expect(table).not_to_contain_text("John Doe")
    expect(table).to_contain_text("วิภา ศรีสุข")


def test_sign_out_lands_on_login(live_server, page, owner, sign_in):
    sign_in(page, owner)
    page.goto(f"{live_server.url}/w/alpha/")
    page.get_by_test_id("user-menu").click()
    page.get_by_test_id("logout").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("status")).to_contain_text("You have signed out.")
    # The session is gone: the workspace now asks for a login again.
    page.goto(f"{live_server.url}/w/alpha/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/w/alpha/$"))


def test_phone_layout_has_no_horizontal_scroll_and_reachable_navigation(
    live_server, phone_page, owner, workspace, sign_in
):
    page = phone_page
    customer = CustomerFactory(workspace=workspace, first_name="กมลชนก", last_name="รัตนพันธ์",
                               email="a-very-long-address.for-testing@example-company.co.th")
    page.goto(f"{live_server.url}/login/")
    assert page.evaluate(NO_OVERFLOW)

    sign_in(page, owner)
    page.goto(f"{live_server.url}/w/alpha/")
    assert page.evaluate(NO_OVERFLOW)
    nav_link = page.get_by_test_id("nav-customers")
    expect(nav_link).to_be_hidden()  # folded away behind the menu button

    page.get_by_test_id("nav-toggle").click()
    expect(nav_link).to_be_visible()
    nav_link.click()
    expect(page).to_have_url(f"{live_server.url}/w/alpha/customers/")
    assert page.evaluate(NO_OVERFLOW)

    page.goto(f"{live_server.url}/w/alpha/customers/{customer.pk}/")
    expect(page.get_by_test_id("customer-name")).to_have_text("กมลชนก รัตนพันธ์")
    assert page.evaluate(NO_OVERFLOW)
    # The workspace switcher and the language switch stay on screen.
    expect(page.get_by_test_id("workspace-switcher")).to_be_visible()
    expect(page.get_by_test_id("lang-th")).to_be_visible()
