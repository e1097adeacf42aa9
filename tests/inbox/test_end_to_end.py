"""A message sent as LINE would send it appears in the inbox of the right workspace, linked to the right
customer, and an agent's reply goes back through the adapter once — to a local server standing in for LINE."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from samphan.accounts.services import api_token_create
from samphan.channels.services import channel_account_create
from samphan.customers.services import customer_create
from samphan.inbox.models import Conversation, ReportingEvent
from tests.channels.helpers import (
    FB_APP_SECRET,
    FB_PAGE_ID,
    FB_PAGE_TOKEN,
    FB_VERIFY_TOKEN,
    LINE_SECRET,
    LINE_TOKEN,
    LINE_USER,
    fixture,
    line_fresh,
    post_facebook,
    post_line,
)
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def line_api(httpserver):
    """Records what Samphan sends to LINE; answers like LINE does."""
    httpserver.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(
        {"sentMessages": [{"id": "481156297690701001", "quoteToken": "q"}]})
    httpserver.expect_request("/v2/bot/message/push", method="POST").respond_with_json(
        {"sentMessages": [{"id": "481156297690701002", "quoteToken": "q"}]})
    return httpserver


def _staff_client(workspace) -> tuple[Client, object]:
    staff = MembershipFactory(workspace=workspace, role="staff").user
    _, token = api_token_create(user=staff, workspace=workspace)
    return Client(headers={"Authorization": f"Bearer {token}"}), staff


def test_line_message_to_inbox_and_reply_back_once(workspace, other_workspace, provider_client, line_api,
                                                   run_on_commit):
    account = channel_account_create(workspace=workspace, provider="line", name="Baan Suan LINE",
                                     secrets={"channel_secret": LINE_SECRET, "access_token": LINE_TOKEN},
                                     config={"api_base_url": line_api.url_for("")})
    # The same LINE OA is not connected elsewhere, but the other workspace knows the same LINE user id:
    # its customer must not be touched.
    stranger = customer_create(workspace=other_workspace, first_name="Other", identities={"line": LINE_USER})
    known = customer_create(workspace=workspace, first_name="สมหญิง", last_name="รักดี",
                            identities={"line": LINE_USER, "phone": "081-234-5678"})
    staff_api, staff = _staff_client(workspace)

    with run_on_commit():
        response = post_line(provider_client, account, line_fresh(fixture("line", "message_text")))
    assert response.status_code == 200

    page = staff_api.get("/api/inbox/conversations").json()
    [row] = page["items"]
    assert row["customer"] == {"id": known.pk, "name": "สมหญิง รักดี"}
    assert row["channel"] == {"id": account.pk, "name": "Baan Suan LINE", "provider": "line"}
    assert (row["status"], row["message_count"]) == ("open", 1)
    assert row["last_message_preview"] == "สวัสดีค่ะ สั่งกาแฟเย็นได้ไหมคะ"
    assert Conversation.objects.filter(customer=stranger).count() == 0

    detail = staff_api.get(f"/api/inbox/conversations/{row['id']}").json()
    assert [m["text"] for m in detail["messages"]] == ["สวัสดีค่ะ สั่งกาแฟเย็นได้ไหมคะ"]

    # Staff may answer (capability inbox.reply). The reply leaves after commit, through LINE's reply API.
    with run_on_commit():
        sent = staff_api.post(f"/api/inbox/conversations/{row['id']}/reply",
                              data={"text": "ได้ค่ะ รับกี่แก้วคะ", "idempotency_key": "click-1"},
                              content_type="application/json")
        again = staff_api.post(f"/api/inbox/conversations/{row['id']}/reply",
                               data={"text": "ได้ค่ะ รับกี่แก้วคะ", "idempotency_key": "click-1"},
                               content_type="application/json")  # a double click
    assert sent.status_code == 202 and again.json()["id"] == sent.json()["id"]
    calls = [(r.path, json.loads(r.data)) for r, _ in line_api.log]
    assert calls == [("/v2/bot/message/reply", {
        "replyToken": "b60d432864f44d079f6d8efe86cf404b",
        "messages": [{"type": "text", "text": "ได้ค่ะ รับกี่แก้วคะ"}]})]
    assert line_api.log[0][0].headers["Authorization"] == f"Bearer {LINE_TOKEN}"

    detail = staff_api.get(f"/api/inbox/conversations/{row['id']}").json()
    out = detail["messages"][-1]
    assert out["direction"] == "out" and out["author"]["id"] == staff.pk
    assert out["delivery"]["status"] == "sent" and out["delivery"]["method"] == "reply"
    assert out["delivery"]["provider_message_id"] == "481156297690701001"
    assert detail["assignee"]["id"] == staff.pk  # whoever answers an unassigned conversation takes it
    first = ReportingEvent.objects.get()
    assert first.kind == "first_response" and first.agent_id == staff.pk and 0 <= first.value_seconds < 60

    # The reply token works once: the next reply is pushed, with a retry key.
    with run_on_commit():
        staff_api.post(f"/api/inbox/conversations/{row['id']}/reply", data={"text": "รอสักครู่นะคะ"},
                       content_type="application/json")
    assert [r.path for r, _ in line_api.log] == ["/v2/bot/message/reply", "/v2/bot/message/push"]
    push = line_api.log[1][0]
    assert json.loads(push.data)["to"] == LINE_USER and push.headers["X-Line-Retry-Key"]

    # The other workspace sees nothing of it.
    other_api, _ = _staff_client(other_workspace)
    assert other_api.get("/api/inbox/conversations").json()["items"] == []
    assert other_api.get(f"/api/inbox/conversations/{row['id']}").status_code == 404


def test_new_line_user_becomes_a_new_customer(workspace, provider_client, run_on_commit, api):
    account = channel_account_create(workspace=workspace, provider="line", name="OA",
                                     secrets={"channel_secret": LINE_SECRET, "access_token": LINE_TOKEN})
    with run_on_commit():
        post_line(provider_client, account, fixture("line", "follow"))
        post_line(provider_client, account, fixture("line", "message_text"))
    [row] = api.get("/api/inbox/conversations").json()["items"]
    customer = api.get(f"/api/customers/{row['customer']['id']}").json()
    assert [(i["kind"], i["value"]) for i in customer["identities"]] == [("line", LINE_USER)]
    assert customer["sections"]["conversations"]["recent"][0]["id"] == row["id"]


def test_facebook_message_to_inbox_and_reply_back_once(workspace, provider_client, httpserver, run_on_commit):
    httpserver.expect_request("/v21.0/me/messages", method="POST").respond_with_json(
        {"recipient_id": "6998871234567890", "message_id": "m_reply_1"})
    httpserver.expect_request("/v21.0/881234567890123_1122334455667788/comments", method="POST").respond_with_json(
        {"id": "881234567890123_2"})
    account = channel_account_create(workspace=workspace, provider="facebook", name="Page",
                                     secrets={"app_secret": FB_APP_SECRET, "page_access_token": FB_PAGE_TOKEN,
                                              "verify_token": FB_VERIFY_TOKEN},
                                     config={"page_id": FB_PAGE_ID, "graph_base_url": httpserver.url_for("/v21.0")})
    staff_api, _ = _staff_client(workspace)
    with run_on_commit():
        post_facebook(provider_client, account, fixture("facebook", "messenger_text"))
        post_facebook(provider_client, account, fixture("facebook", "feed_comment"))
    rows = {r["last_message_preview"][:5]: r for r in staff_api.get("/api/inbox/conversations").json()["items"]}
    with run_on_commit():
        for row in rows.values():
            staff_api.post(f"/api/inbox/conversations/{row['id']}/reply", data={"text": "ขอบคุณค่ะ"},
                           content_type="application/json")
    paths = sorted(r.path for r, _ in httpserver.log)
    assert paths == ["/v21.0/881234567890123_1122334455667788/comments", "/v21.0/me/messages"]
