"""SLA pages: settings with inline errors (htmx), the response-time report and its CSV, the badge partial."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from samphan.inbox.models import ReportingEvent
from samphan.inbox.services import conversation_reply
from samphan.sla.models import BusinessHours, Holiday, SlaPolicy
from samphan.sla.selectors import sla_state
from samphan.sla.services import business_hours_set, sla_policy_create
from tests.channels.conftest import _clean_fake_outbox, fake_account  # noqa: F401
from tests.factories import MembershipFactory
from tests.sla.conftest import OFFICE, bkk, customer_says

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_settings_page_and_inline_errors(owner_client, workspace):
    url = f"/w/{workspace.slug}/inbox/sla/"
    page = owner_client.get(url)
    assert page.status_code == 200 and b"every hour of every day counts" in page.content
    bad = owner_client.post(url + "hours/", {"time_zone": "Asia/Bangkok", "week_mon": "18:00-09:00"}, **HX)
    assert bad.status_code == 200 and "mon interval 1: 18:00–09:00 ends before it starts" in bad.content.decode()
    assert 'value="18:00-09:00"' in bad.content.decode()  # what was typed stays in the field
    ok = owner_client.post(url + "hours/", {"time_zone": "Asia/Bangkok", "week_mon": "09:00–12:00, 13:00-18:00",
                                            "week_fri": "09:00-18:00"}, **HX)
    assert b"Business hours saved." in ok.content
    assert BusinessHours.objects.get().week[0] == [[540, 720], [780, 1080]]

    owner_client.post(url + "holidays/", {"date": "2026-04-13", "name": "วันสงกรานต์"}, **HX)
    dup = owner_client.post(url + "holidays/", {"date": "2026-04-13"}, **HX)
    assert "2026-04-13 is already a holiday" in dup.content.decode()
    imported = owner_client.post(url + "holidays/", {"import_year": "2026"}, HTTP_ACCEPT_LANGUAGE="th", **HX)
    # Asked in Thai: the notice and the holidays' names are Thai.
    assert "เพิ่มวันหยุดราชการแล้ว" in imported.content.decode() and Holiday.objects.count() > 15
    assert Holiday.objects.get(date="2026-01-01").name == "วันขึ้นปีใหม่"
    holiday = Holiday.objects.get(date="2026-04-13")
    owner_client.post(url + f"holidays/{holiday.pk}/delete/", **HX)
    assert not Holiday.objects.filter(date="2026-04-13").exists()

    none = owner_client.post(url + "policies/", {"name": "Standard"}, **HX)
    assert "a policy needs at least one target" in none.content.decode()
    typo = owner_client.post(url + "policies/", {"name": "Standard", "first_response_value": "half"}, **HX)
    assert "half is not a number" in typo.content.decode()
    owner_client.post(url + "policies/", {"name": "Standard", "first_response_value": "30",
                                          "first_response_unit": "minutes", "resolution_value": "1.5",
                                          "resolution_unit": "days", "clock": "business", "priority": "high"}, **HX)
    policy = SlaPolicy.objects.get()
    assert (policy.first_response_seconds, policy.resolution_seconds, policy.priority) == (1800, 129600, "high")
    listed = owner_client.get(url).content.decode()
    assert "30 min" in listed and "1 d 12 h" in listed
    owner_client.post(url + f"policies/{policy.pk}/", {"action": "pause"}, **HX)
    assert SlaPolicy.objects.get().is_active is False
    owner_client.post(url + f"policies/{policy.pk}/", {"action": "delete"}, **HX)
    assert not SlaPolicy.objects.exists()


def test_settings_page_in_thai(owner_client, workspace):
    owner_client.cookies["django_language"] = "th"
    page = owner_client.get(f"/w/{workspace.slug}/inbox/sla/").content.decode()
    assert "เวลาทำการ" in page and "วันจันทร์" in page


def test_staff_see_but_cannot_change(workspace):
    staff = MembershipFactory(workspace=workspace, role="staff").user
    client = Client()
    client.force_login(staff)
    page = client.get(f"/w/{workspace.slug}/inbox/sla/")
    assert page.status_code == 200 and b'data-testid="policy-add"' not in page.content
    assert client.post(f"/w/{workspace.slug}/inbox/sla/policies/", {"name": "x"}).status_code == 403
    assert client.get(f"/w/{workspace.slug}/inbox/reports/").status_code == 403


def test_report_page_and_csv(owner_client, workspace, other_workspace, fake_account, owner):  # noqa: F811
    business_hours_set(workspace=workspace, time_zone="Asia/Bangkok", week=OFFICE)
    sla_policy_create(workspace=workspace, name="Standard", first_response_seconds=1800)
    conv = customer_says(fake_account, bkk(2026, 5, 8, 17, 55))
    with time_machine.travel(bkk(2026, 5, 11, 9, 10), tick=False):
        conversation_reply(conversation=conv, actor=owner, text="สวัสดีค่ะ")
    url = f"/w/{workspace.slug}/inbox/reports/"
    page = owner_client.get(url, {"start": "2026-05-01", "end": "2026-05-31"}).content.decode()
    assert 'data-testid="kpi-first_response"' in page
    assert "15 min" in page and "100%" in page  # business time by default
    wall = owner_client.get(url, {"start": "2026-05-01", "end": "2026-05-31", "clock": "wall"}, **HX)
    assert "2 d 15 h" in wall.content.decode() and b"<html" not in wall.content
    bad = owner_client.get(url, {"start": "2026-05-31", "end": "2026-05-01"}).content.decode()
    assert "start 2026-05-31 is after end 2026-05-01" in bad
    csv_response = owner_client.get(url + "conversations.csv", {"start": "2026-05-01", "end": "2026-05-31"})
    body = b"".join(csv_response.streaming_content).decode("utf-8-sig").splitlines()
    assert body[0].startswith("conversation_id,customer,channel") and len(body) == 2
    assert ",900.0,yes," in body[1]
    # Another workspace's report is not there for this user.
    assert owner_client.get(f"/w/{other_workspace.slug}/inbox/reports/").status_code == 404
    assert ReportingEvent.objects.count() == 1


@pytest.mark.parametrize(("minutes", "state", "text"), [
    (-20, "breached", "Overdue 20 min"), (25, "due_soon", "Due in 25 min"), (200, "on_track", "Due in 3 h 20 min")])
def test_badge_partial(minutes, state, text):
    now = timezone.now()
    sla = sla_state({"sla_policy_id": 1, "first_response_due_at": now + timedelta(minutes=minutes),
                     "next_response_due_at": None, "resolution_due_at": None, "sla_breaches": 0}, now=now)
    html = render_to_string("web/inbox/_sla_badge.html", {"sla": sla})
    assert f'data-sla-state="{state}"' in html and text in html and "First response" in html
    missed = sla_state({"sla_policy_id": 1, "first_response_due_at": None, "next_response_due_at": None,
                        "resolution_due_at": None, "sla_breaches": 1}, now=now)
    assert "SLA missed" in render_to_string("web/inbox/_sla_badge.html", {"sla": missed})
    assert render_to_string("web/inbox/_sla_badge.html", {"sla": None}).strip() == ""
