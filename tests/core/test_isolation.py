"""A user of workspace A can neither read nor change anything of workspace B,
through the UI or the API, even with B's real object ids."""

from __future__ import annotations

import json

import pytest

from samphan.accounts.services import api_token_create
from samphan.core.jobs import job_enqueue
from samphan.core.models import Job
from samphan.core.tasks import workspace_census
from tests.factories import CustomerFactory, MembershipFactory, OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def b_data(other_workspace):
    """Workspace B with its own owner, a customer, an order and a job."""
    b_owner = MembershipFactory(workspace=other_workspace, role="owner").user
    customer = CustomerFactory(workspace=other_workspace, first_name="ลับ", last_name="เฉพาะ")
    OrderFactory(customer=customer)
    job = Job.objects.create(workspace=other_workspace, kind="census")
    return {"owner": b_owner, "customer": customer, "job": job}


def test_api_cannot_read_other_workspace_customer(api, b_data):
    response = api.get(f"/api/customers/{b_data['customer'].pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_api_cannot_change_other_workspace_customer(api, b_data):
    customer = b_data["customer"]
    response = api.patch(f"/api/customers/{customer.pk}", data=json.dumps({"first_name": "Hacked"}),
                         content_type="application/json")
    assert response.status_code == 404
    customer.refresh_from_db()
    assert customer.first_name == "ลับ"


def test_api_list_shows_only_own_workspace(api, workspace, b_data):
    own = CustomerFactory(workspace=workspace)
    ids = [row["id"] for row in api.get("/api/customers").json()["items"]]
    assert ids == [own.pk]


def test_api_search_does_not_leak_other_workspace(api, b_data):
    assert api.get("/api/customers", {"q": "ลับ"}).json()["count"] == 0


def test_api_cannot_read_other_workspace_job(api, b_data):
    assert api.get(f"/api/jobs/{b_data['job'].pk}").status_code == 404


def test_api_token_cannot_switch_workspace_by_header(api, b_data):
    """A token speaks for its own workspace; X-Workspace does not widen it."""
    response = api.get(f"/api/customers/{b_data['customer'].pk}", headers={"X-Workspace": "beta"})
    assert response.status_code == 404


def test_session_api_cannot_use_workspace_user_is_not_in(owner_client, b_data):
    response = owner_client.get(f"/api/customers/{b_data['customer'].pk}", headers={"X-Workspace": "beta"})
    assert response.status_code == 400
    assert response.json()["code"] == "workspace_required"


def test_audit_log_is_scoped(api, workspace, b_data, owner):
    # B has an audit entry from its token creation; A's log must not show it.
    api_token_create(user=b_data["owner"], workspace=b_data["customer"].workspace)
    actions = api.get("/api/audit").json()
    assert actions, "A's own token creation is audited"
    assert all(a["actor"] != b_data["owner"].email for a in actions)


def test_ui_cannot_open_other_workspace(owner_client, b_data):
    assert owner_client.get("/w/beta/").status_code == 404
    assert owner_client.get("/w/beta/customers/").status_code == 404


def test_ui_cannot_open_other_workspace_customer_via_own_slug(owner_client, b_data):
    response = owner_client.get(f"/w/alpha/customers/{b_data['customer'].pk}/")
    assert response.status_code == 404


def test_ui_customer_search_does_not_leak(owner_client, b_data):
    response = owner_client.get("/w/alpha/customers/", {"q": "ลับ"})
    assert response.status_code == 200
    assert "เฉพาะ" not in response.content.decode()


def test_census_job_counts_only_its_workspace(workspace, owner, b_data):
    CustomerFactory(workspace=workspace)
    job = job_enqueue(workspace=workspace, kind="census", task=workspace_census, actor=owner)
    # job_enqueue sends after commit; in a test transaction run the task directly.
    workspace_census(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"
    assert job.result["counts"]["customers.customer"] == 1
    assert job.result["counts"]["commerce.order"] == 0
