from __future__ import annotations

import pytest
from django.test import Client

from samphan.accounts.models import ApiToken
from samphan.accounts.services import api_token_create, api_token_revoke
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def test_me_with_token(api, owner, workspace):
    body = api.get("/api/me").json()
    assert body["email"] == owner.email
    assert body["authenticated_by"] == "token"
    assert body["current_workspace"] == "alpha"
    assert body["workspaces"] == [{"slug": "alpha", "name": "Alpha Coffee", "role": "owner"}]


def test_me_with_session_lists_every_workspace(owner_client, owner, other_workspace):
    MembershipFactory(workspace=other_workspace, user=owner, role="agent")
    body = owner_client.get("/api/me").json()
    assert body["authenticated_by"] == "session"
    assert {(w["slug"], w["role"]) for w in body["workspaces"]} == {("alpha", "owner"), ("beta", "agent")}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer smp_forged", "Basic abc", "Bearer "])
def test_bad_or_missing_token_is_401_json(db, header):
    client = Client(headers={"Authorization": header} if header else {})
    response = client.get("/api/me")
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "missing or invalid credentials"}


def test_revoked_token_is_401(owner, workspace):
    token, raw = api_token_create(user=owner, workspace=workspace)
    api_token_revoke(token=token)
    assert Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/me").status_code == 401


def test_token_is_stored_hashed(owner, workspace):
    token, raw = api_token_create(user=owner, workspace=workspace)
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.digest, stored.prefix)
    assert stored.digest == ApiToken.digest_of(raw)


def test_token_of_removed_member_stops_working(owner, workspace, owner_token):
    owner.memberships.all().delete()
    assert Client(headers={"Authorization": f"Bearer {owner_token}"}).get("/api/me").status_code == 401


def test_unknown_route_is_json_404(api):
    response = api.get("/api/no-such-thing")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_validation_error_is_json_with_fields(api, workspace):
    response = api.get("/api/customers/not-a-number")
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"][0]["field"] == "customer_id"


def test_unexpected_error_is_json_500_without_trace(api, monkeypatch):
    def boom(**kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("samphan.customers.api.customer_list", boom)
    response = api.get("/api/customers")
    assert response.status_code == 500
    assert response.json() == {"code": "internal_error", "message": "internal error"}
    assert b"secret internals" not in response.content


def test_openapi_and_docs(db):
    client = Client()
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert "/api/me" in spec.json()["paths"]
    assert client.get("/api/docs").status_code == 200


def test_role_without_capability_is_403(workspace):
    staff = MembershipFactory(workspace=workspace, role="staff").user
    _, raw = api_token_create(user=staff, workspace=workspace)
    response = Client(headers={"Authorization": f"Bearer {raw}"}).get("/api/audit")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_session_write_requires_csrf(owner, workspace):
    from tests.factories import CustomerFactory

    customer = CustomerFactory(workspace=workspace)
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.patch(f"/api/customers/{customer.pk}", data='{"first_name": "X"}',
                            content_type="application/json", headers={"X-Workspace": "alpha"})
    assert response.status_code == 401


def test_patch_customer_is_audited(api, workspace):
    from samphan.core.models import AuditEvent
    from tests.factories import CustomerFactory

    customer = CustomerFactory(workspace=workspace, first_name="สมชาย")
    response = api.patch(f"/api/customers/{customer.pk}", data='{"first_name": "สมศักดิ์"}',
                         content_type="application/json")
    assert response.status_code == 200
    assert response.json()["first_name"] == "สมศักดิ์"
    event = AuditEvent.objects.get(action="customer.updated")
    assert event.via == "api"
    assert event.changes == {"first_name": ["สมชาย", "สมศักดิ์"]}
