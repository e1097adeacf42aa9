"""The web flow: upload → preview → confirm → background run → result with a downloadable error report."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from samphan.commerce.models import Order
from samphan.core.models import Job
from samphan.customers.models import Customer
from samphan.imports.models import ImportRun
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ORDERS = ("order_id,customer_id,ordered_at,amount,sku\n"
          "O1,C1,2568-01-31,\"1,234.50\",LATTE\n"
          "O2,C2,31/01/2025,oops,\n"
          "O3,C2,20250201,฿99,MOCHA\n")


def upload(client, kind="orders", content=ORDERS, name="orders.csv"):
    return client.post("/w/alpha/import/", {"kind": kind,
                                             "file": SimpleUploadedFile(name, content.encode("utf-8"), "text/csv")})


def test_upload_preview_confirm_result(owner_client, workspace, django_capture_on_commit_callbacks):
    page = owner_client.get("/w/alpha/import/")
    assert page.status_code == 200 and b'data-testid="upload-form"' in page.content

    response = upload(owner_client)
    assert response.status_code == 302
    run = ImportRun.objects.get(workspace=workspace)
    assert response["Location"] == f"/w/alpha/import/{run.pk}/"
    assert run.status == "uploaded" and run.original_name == "orders.csv"

    preview = owner_client.get(response["Location"])
    html = preview.content.decode()
    assert preview.status_code == 200
    for column in ("order_id", "customer_id", "ordered_at", "amount", "sku"):
        assert f">{column}<" in html
    assert "1,234.50" in html  # first rows shown
    assert "not an amount" in html and 'data-testid="error-table"' in html  # first validation errors
    assert not Order.objects.exists() and not Customer.objects.exists()  # the check wrote nothing

    with django_capture_on_commit_callbacks(execute=True):
        confirm = owner_client.post(f"/w/alpha/import/{run.pk}/confirm/")
    assert confirm.status_code == 302
    run.refresh_from_db()
    assert run.status == "succeeded", run.message
    assert run.job.kind == "imports.run" and run.job.status == Job.Status.SUCCEEDED
    assert run.job.progress == run.job.total == 3
    assert Order.objects.filter(workspace=workspace).count() == 2

    result = owner_client.get(f"/w/alpha/import/{run.pk}/").content.decode()
    assert 'data-testid="count-imported">2<' in result
    assert 'data-testid="count-rejected">1<' in result
    assert 'data-testid="count-customers-created">2<' in result
    assert "download-errors" in result

    report = owner_client.get(f"/w/alpha/import/{run.pk}/errors.csv")
    assert report.status_code == 200
    assert report["Content-Disposition"].startswith('attachment; filename="orders-errors.csv"')
    body = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert body[0] == "row,field,reason" and body[1].startswith("3,amount,\"not an amount")

    progress = owner_client.get(f"/w/alpha/import/{run.pk}/progress/", headers={"HX-Request": "true"})
    assert progress.status_code == 204 and progress["HX-Redirect"] == f"/w/alpha/import/{run.pk}/"

    listing = owner_client.get("/w/alpha/import/").content.decode()
    assert "orders.csv" in listing
    assert owner_client.post(f"/w/alpha/import/{run.pk}/confirm/").status_code == 302  # a second confirm is refused
    assert Job.objects.filter(kind="imports.run").count() == 1


def test_progress_fragment_polls_while_running(owner_client, workspace):
    upload(owner_client)
    run = ImportRun.objects.get()
    run.status = ImportRun.Status.RUNNING
    run.job = Job.objects.create(workspace=workspace, kind="imports.run", status="running", progress=1, total=4)
    run.save()
    fragment = owner_client.get(f"/w/alpha/import/{run.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in fragment and "1 of 4 rows" in fragment
    assert 'data-testid="import-progress"' in owner_client.get(f"/w/alpha/import/{run.pk}/").content.decode()


def test_preview_names_missing_columns_and_offers_no_confirm(owner_client):
    upload(owner_client, kind="customers", content="id,email\n1,a@example.com\n")
    run = ImportRun.objects.get()
    html = owner_client.get(f"/w/alpha/import/{run.pk}/").content.decode()
    assert "missing required column: customer_id" in html
    assert "confirm-import" not in html


def test_customers_import_through_the_ui(owner_client, workspace, django_capture_on_commit_callbacks):
    content = "customer_id,first_name,email\nC1,สมหญิง,Som@Example.com\n"
    upload(owner_client, kind="customers", content=content, name="ลูกค้า.csv")
    run = ImportRun.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(f"/w/alpha/import/{run.pk}/confirm/")
    run.refresh_from_db()
    assert run.status == "succeeded" and run.original_name == "ลูกค้า.csv"
    assert Customer.objects.get(workspace=workspace, external_id="C1").email == "som@example.com"
    html = owner_client.get(f"/w/alpha/import/{run.pk}/").content.decode()
    assert "import-no-errors" in html
    assert owner_client.get(f"/w/alpha/import/{run.pk}/errors.csv").status_code == 404


def test_xlsx_upload_and_a_bad_file(owner_client):
    response = upload(owner_client, content="x", name="orders.pdf")
    assert response.status_code == 422 and b"use a .csv or .xlsx file" in response.content
    upload(owner_client, content="not a spreadsheet", name="orders.xlsx")
    run = ImportRun.objects.get()
    assert "cannot be read as XLSX" in owner_client.get(f"/w/alpha/import/{run.pk}/").content.decode()


def test_role_and_workspace_checks(workspace, other_workspace, owner_client):
    staff = MembershipFactory(workspace=workspace, role="staff").user
    client = Client()
    client.force_login(staff)
    assert client.get("/w/alpha/import/").status_code == 403
    assert upload(client).status_code == 403
    assert not ImportRun.objects.exists()

    marketer = MembershipFactory(workspace=workspace, role="marketer").user
    client.force_login(marketer)
    assert client.get("/w/alpha/import/").status_code == 200

    upload(owner_client)
    run = ImportRun.objects.get()
    outsider = MembershipFactory(workspace=other_workspace, role="owner").user
    client.force_login(outsider)
    assert client.get(f"/w/alpha/import/{run.pk}/").status_code == 404
    assert client.get(f"/w/beta/import/{run.pk}/").status_code == 404
    assert client.get(f"/w/beta/import/{run.pk}/errors.csv").status_code == 404
    assert client.post(f"/w/beta/import/{run.pk}/confirm/").status_code == 404
