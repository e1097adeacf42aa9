from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_login_and_land_on_workspace(owner, password):
    client = Client()
    response = client.post("/login/", {"email": owner.email.upper(), "password": password})
    assert response.status_code == 302
    response = client.get("/", follow=True)
    assert response.redirect_chain[-1][0] == "/w/alpha/"


def test_wrong_password_clear_message(owner):
    response = Client().post("/login/", {"email": owner.email, "password": "wrong"})
    assert response.status_code == 401
    assert "do not match" in response.content.decode()


def test_repeated_failures_are_throttled(owner, password, settings):
    settings.LOGIN_THROTTLE_FAILURES = 3
    client = Client()
    for _ in range(3):
        client.post("/login/", {"email": owner.email, "password": "wrong"})
    # Even the right password waits until the window passes.
    response = client.post("/login/", {"email": owner.email, "password": password})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()


def test_thai_login_page(db):
    client = Client(headers={"Accept-Language": "th"})
    assert "เข้าสู่ระบบ" in client.get("/login/").content.decode()


def test_pages_require_login(db):
    response = Client().get("/w/alpha/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_logout_is_post_only(owner_client):
    assert owner_client.get("/logout/").status_code == 405
    assert owner_client.post("/logout/").status_code == 302
    assert owner_client.get("/w/alpha/").status_code == 302
