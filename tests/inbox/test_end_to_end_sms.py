"""SMS end to end: an inbound SMS posted as the gateway posts it appears in the inbox of the right workspace,
linked to the customer with that phone number; the agent's reply goes to the gateway exactly once (a local
HTTP server checks the request); the delivery report shows on the message."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import parse_qsl, urlencode

import pytest
from django.test import Client

from samphan.accounts.services import api_token_create
from samphan.channels.models import OutboundMessage
from samphan.channels.services import channel_account_create
from samphan.channels.tasks import send_outbound
from samphan.customers.services import customer_create
from samphan.inbox.models import Conversation
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def _staff_client(workspace) -> Client:
    staff = MembershipFactory(workspace=workspace, role="staff").user
    _, token = api_token_create(user=staff, workspace=workspace)
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_thaibulksms_inbound_reply_once_and_delivery_report(workspace, other_workspace, provider_client,
                                                            httpserver, run_on_commit):
    httpserver.expect_request("/sms", method="POST").respond_with_json(
        {"remaining_credit": 9, "total_use_credit": 1, "credit_type": "standard",
         "phone_number_list": [{"number": "66812345678", "message_id": "tbs-msg-1", "used_credit": 1}],
         "bad_phone_number_list": []}, status=201)
    account = channel_account_create(workspace=workspace, provider="sms", name="SMS",
                                     secrets={"api_key": "k", "api_secret": "s"},
                                     config={"preset": "thaibulksms", "sender": "BAANSUAN",
                                             "url": httpserver.url_for("/sms")})
    token = account.secrets["webhook_secret"]
    known = customer_create(workspace=workspace, first_name="มานี", identities={"phone": "081-234-5678"})
    stranger = customer_create(workspace=other_workspace, first_name="Other", identities={"phone": "0812345678"})
    staff_api = _staff_client(workspace)

    with run_on_commit():
        response = provider_client.post(
            f"/webhooks/sms/{account.uuid}?token={token}",
            data=urlencode({"msisdn": "66812345678", "message": "ขอยกเลิกออเดอร์ค่ะ", "message_id": "mo-55"}),
            content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    [row] = staff_api.get("/api/inbox/conversations").json()["items"]
    assert row["customer"]["id"] == known.pk and row["channel"]["provider"] == "sms"
    assert row["last_message_preview"] == "ขอยกเลิกออเดอร์ค่ะ"
    assert Conversation.objects.filter(customer=stranger).count() == 0

    with run_on_commit():
        sent = staff_api.post(f"/api/inbox/conversations/{row['id']}/reply",
                              data={"text": "ยกเลิกให้แล้วค่ะ", "idempotency_key": "r-1"},
                              content_type="application/json")
    assert sent.status_code == 202
    [(request, _)] = httpserver.log
    assert dict(parse_qsl(request.get_data(as_text=True))) == {
        "msisdn": "66812345678", "message": "ยกเลิกให้แล้วค่ะ", "sender": "BAANSUAN", "force": "standard"}
    outbound = OutboundMessage.objects.get()
    assert (outbound.status, outbound.provider_message_id) == ("sent", "tbs-msg-1")
    assert send_outbound(outbound.pk) == "skipped"  # a retried task sends nothing
    assert len(httpserver.log) == 1

    with run_on_commit():
        provider_client.get(f"/webhooks/sms/{account.uuid}",
                            {"message_id": "tbs-msg-1", "status": "delivered", "token": token})
    detail = staff_api.get(f"/api/inbox/conversations/{row['id']}").json()
    delivery = detail["messages"][-1]["delivery"]
    assert (delivery["status"], delivery["report"]) == ("sent", "delivered")


def test_generic_gateway_signed_json_to_inbox_and_back(workspace, provider_client, httpserver, run_on_commit):
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json({"id": "gw-1"})
    account = channel_account_create(workspace=workspace, provider="sms", name="Gateway",
                                     secrets={"api_token": "t", "webhook_secret": "hook-secret"},
                                     config={"preset": "generic", "sender": "Samphan",
                                             "url": httpserver.url_for("/v1/messages"),
                                             "signature_header": "X-Gateway-Signature",
                                             "signature_encoding": "base64"})
    body = json.dumps({"from": "+66 89 123 4567", "text": "Hi, is the shop open today?", "id": "in-1"}).encode()
    import base64

    signature = base64.b64encode(hmac.new(b"hook-secret", body, hashlib.sha256).digest()).decode()
    with run_on_commit():
        assert provider_client.post(f"/webhooks/sms/{account.uuid}", data=body, content_type="application/json",
                                    headers={"X-Gateway-Signature": signature}).status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.customer.phone == "+66891234567" and conversation.contact_id == "+66891234567"
    staff_api = _staff_client(workspace)
    with run_on_commit():
        staff_api.post(f"/api/inbox/conversations/{conversation.pk}/reply", data={"text": "Yes, until 6 pm"},
                       content_type="application/json")
    [(request, _)] = httpserver.log
    assert request.get_json()["to"] == "+66891234567" and request.get_json()["text"] == "Yes, until 6 pm"
