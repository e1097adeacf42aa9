from __future__ import annotations

import pytest
from django.test import Client

from samphan.web.templatetags.samphan_ui import initials, money, phone_display
from tests.factories import CustomerFactory, MembershipFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_workspace_client(owner, other_workspace):
    MembershipFactory(workspace=other_workspace, user=owner, role="staff")
    client = Client()
    client.force_login(owner)
    return client


def test_switcher_keeps_the_section(two_workspace_client):
    response = two_workspace_client.get("/", {"ws": "beta", "section": "customers"})
    assert response.status_code == 302
    assert response["Location"] == "/w/beta/customers/"


def test_switcher_falls_back_to_dashboard_when_role_cannot_see_section(two_workspace_client):
    # Staff may not read the audit log: the switch lands on the dashboard instead of a 403.
    response = two_workspace_client.get("/", {"ws": "beta", "section": "audit"})
    assert response["Location"] == "/w/beta/"


def test_switcher_refuses_a_workspace_the_user_is_not_in(owner_client, other_workspace):
    assert owner_client.get("/", {"ws": "beta"}).status_code == 404


def test_forbidden_page_keeps_navigation(two_workspace_client):
    response = two_workspace_client.get("/w/beta/audit/")
    assert response.status_code == 403
    body = response.content.decode()
    assert 'data-testid="nav-customers"' in body
    assert 'data-testid="workspace-switcher"' in body


def test_dashboard_without_orders_shows_dashes(owner_client):
    body = owner_client.get("/w/alpha/").content.decode()
    assert "No orders yet." in body
    assert "฿<" not in body  # no currency sign without an amount


def test_dashboard_and_customer_pages_render_data(owner_client, workspace):
    customer = CustomerFactory(workspace=workspace, first_name="วิภา", last_name="ศรีสุข", phone="+66812345678")
    OrderFactory(customer=customer, external_id="ORD-1")
    body = owner_client.get("/w/alpha/").content.decode()
    assert "ORD-1" in body
    assert "วิภา ศรีสุข" in body
    body = owner_client.get("/w/alpha/customers/").content.decode()
    assert "081 234 5678" in body
    body = owner_client.get(f"/w/alpha/customers/{customer.pk}/").content.decode()
    assert "250.00" in body
    assert "ORD-1" in body


def test_customer_search_partial_and_empty_state(owner_client, workspace):
    CustomerFactory(workspace=workspace, first_name="Anna", last_name="Smith")
    partial = owner_client.get("/w/alpha/customers/", {"q": "zzz"}, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert "<html" not in body
    assert 'data-testid="customers-empty"' in body


def test_initials_skip_leading_thai_vowels():
    assert initials("เกศินี ศรีสุข") == "ก"
    assert initials("Anna Smith") == "AS"
    assert initials("") == "?"


def test_phone_and_money_display():
    assert phone_display("+66812345678") == "081 234 5678"
    assert phone_display("not a phone") == "not a phone"
    assert money(None) == "—"
    assert money("1234567.5") == "1,234,568"
