"""The SMS gateway adapter: the exact requests ThaiBulkSMS expects (to a real local HTTP server standing in
for it), a generic JSON gateway, signed and token-authenticated webhooks, delivery reports."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
from urllib.parse import parse_qsl, urlencode

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from samphan.channels.adapters import get_adapter
from samphan.channels.adapters.base import OutboundPayload, PermanentSendError, TransientSendError
from samphan.channels.models import ChannelAccount, OutboundMessage, WebhookEvent
from samphan.channels.services import channel_account_create, outbound_enqueue
from samphan.core.errors import ValidationFailed
from samphan.inbox.models import Message

pytestmark = pytest.mark.django_db

API_KEY, API_SECRET = "tbs-key-1234", "tbs-secret-5678"
HOOK_SECRET = "whsec-ทดสอบ-0123456789"


def thaibulk_answer(message_id: str = "btv151h3NUhTlmXzLoUH7v", number: str = "66812345678") -> dict:
    return {"remaining_credit": 96, "total_use_credit": 1, "credit_type": "standard",
            "phone_number_list": [{"number": number, "message_id": message_id, "used_credit": 1}],
            "bad_phone_number_list": []}


@pytest.fixture
def thaibulk(workspace, httpserver):
    return channel_account_create(workspace=workspace, provider="sms", name="ThaiBulkSMS",
                                  secrets={"api_key": API_KEY, "api_secret": API_SECRET},
                                  config={"preset": "thaibulksms", "sender": "BAANSUAN",
                                          "url": httpserver.url_for("/sms")})


@pytest.fixture
def generic(workspace, httpserver):
    return channel_account_create(workspace=workspace, provider="sms", name="Gateway",
                                  secrets={"api_token": "gw-token", "webhook_secret": HOOK_SECRET},
                                  config={"preset": "generic", "sender": "Samphan",
                                          "url": httpserver.url_for("/v1/messages"),
                                          "signature_prefix": "sha256="})


def sign(body: bytes, secret: str = HOOK_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post_signed(client, account, data, *, signature: str | None = None):
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    return client.post(f"/webhooks/sms/{account.uuid}", data=body, content_type="application/json",
                       headers={"X-Signature": signature if signature is not None else sign(body)})


# --- ThaiBulkSMS: sending ------------------------------------------------------------------


def test_thaibulksms_request_is_exactly_what_the_api_expects(thaibulk, httpserver):
    httpserver.expect_request("/sms", method="POST").respond_with_json(thaibulk_answer(), status=201)
    result = get_adapter(thaibulk).send(OutboundPayload(to="+66812345678", text="ขอบคุณที่สั่งกาแฟค่ะ"),
                                        idempotency_key="k1")
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{API_KEY}:{API_SECRET}".encode()).decode()
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(request.get_data(as_text=True))) == {
        "msisdn": "66812345678", "message": "ขอบคุณที่สั่งกาแฟค่ะ", "sender": "BAANSUAN", "force": "standard"}
    assert (result.provider_message_id, result.method) == ("btv151h3NUhTlmXzLoUH7v", "sms")


def test_thaibulksms_refusals(thaibulk, httpserver):
    adapter = get_adapter(thaibulk)
    payload = OutboundPayload(to="0812345678", text="hi")
    httpserver.expect_oneshot_request("/sms").respond_with_json(
        {**thaibulk_answer(), "phone_number_list": [],
         "bad_phone_number_list": [{"number": "66812345678", "message": "Invalid phone number"}]})
    with pytest.raises(PermanentSendError, match=r"refused the number.*Invalid phone number"):
        adapter.send(payload, idempotency_key="k")
    httpserver.expect_oneshot_request("/sms").respond_with_json(
        {"error": {"code": 401, "name": "ERROR_AUTHENTICATION", "description": "API key or secret is invalid"}},
        status=401)
    with pytest.raises(PermanentSendError, match="401: API key or secret is invalid"):
        adapter.send(payload, idempotency_key="k")
    httpserver.expect_oneshot_request("/sms").respond_with_data("upstream down", status=503)
    with pytest.raises(TransientSendError, match="503"):
        adapter.send(payload, idempotency_key="k")
    with pytest.raises(PermanentSendError, match="not a valid phone number"):
        adapter.send(OutboundPayload(to="12", text="hi"), idempotency_key="k")


def test_cli_add_sms_with_the_thaibulksms_preset(workspace, monkeypatch):
    monkeypatch.setenv("SAMPHAN_PUBLIC_URL", "https://crm.example.co.th")
    out = io.StringIO()
    call_command("channels", "add", "sms", "--workspace", "alpha", "--name", "SMS ร้าน", "--preset", "thaibulksms",
                 "--api-key", API_KEY, "--api-secret", API_SECRET, "--sender", "BAANSUAN", "--json", stdout=out)
    data = json.loads(out.getvalue())
    account = ChannelAccount.objects.get(pk=data["id"])
    token = account.secrets["webhook_secret"]
    assert len(token) >= 32 and account.secrets["api_key"] == API_KEY
    assert data["webhook_url"] == f"https://crm.example.co.th/webhooks/sms/{account.uuid}?{urlencode({'token': token})}"
    assert account.config == {"preset": "thaibulksms", "sender": "BAANSUAN"}
    with pytest.raises(CommandError, match="api_key and api_secret are required"):
        call_command("channels", "add", "sms", "--workspace", "alpha", "--name", "x", "--preset", "thaibulksms",
                     "--sender", "S", stdout=io.StringIO())
    with pytest.raises(CommandError, match="preset must be one of generic, thaibulksms"):
        call_command("channels", "add", "sms", "--workspace", "alpha", "--name", "x", "--preset", "nope",
                     stdout=io.StringIO())


def test_generic_gateway_settings_are_checked(workspace):
    with pytest.raises(ValidationFailed) as exc:
        channel_account_create(workspace=workspace, provider="sms", name="x", secrets={},
                               config={"preset": "generic", "body": "xml", "auth": "header"})
    assert set(exc.value.details) >= {"url is required (the gateway's send endpoint)",
                                      "body must be one of form, json, query", "api_token is required",
                                      "auth_header is required (the header that carries api_token)",
                                      "sender is required (the sender name registered with the gateway)"}


def test_generic_json_gateway_request(generic, httpserver):
    httpserver.expect_request("/v1/messages", method="POST").respond_with_json({"id": "gw-77", "status": "queued"})
    result = get_adapter(generic).send(OutboundPayload(to="081-234-5678", text="สวัสดี"), idempotency_key="out-9")
    [(request, _)] = httpserver.log
    assert request.headers["Authorization"] == "Bearer gw-token"
    assert request.get_json() == {"to": "+66812345678", "from": "Samphan", "text": "สวัสดี", "reference": "out-9"}
    assert result.provider_message_id == "gw-77"


# --- webhooks: authenticity, bad input --------------------------------------------------------


def test_bad_signature_is_401_and_nothing_is_stored(generic, provider_client):
    body = json.dumps({"from": "0812345678", "text": "hi", "id": "mo-1"}).encode()
    assert post_signed(provider_client, generic, body, signature=sign(body, "wrong")).status_code == 401
    assert post_signed(provider_client, generic, body, signature="").status_code == 401
    assert post_signed(provider_client, generic, body + b" ", signature=sign(body)).status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_token_webhook_needs_the_token(thaibulk, provider_client):
    url = f"/webhooks/sms/{thaibulk.uuid}"
    assert provider_client.get(url, {"message_id": "x", "status": "delivered", "token": "guess"}).status_code == 401
    assert provider_client.post(url, data=urlencode({"message_id": "x", "status": "delivered"}),
                                content_type="application/x-www-form-urlencoded").status_code == 401
    assert provider_client.get(url).status_code == 405  # a GET without an event is not one
    assert WebhookEvent.objects.count() == 0


def test_signed_but_malformed_payloads_are_kept_as_failed_events(generic, provider_client, run_on_commit):
    with run_on_commit():
        assert post_signed(provider_client, generic, {"hello": "world"}).status_code == 200
        assert post_signed(provider_client, generic, {"from": "not a phone", "text": "hi"}).status_code == 200
        assert post_signed(provider_client, generic, b"\xff\xfe not text").status_code == 200
    reasons = list(WebhookEvent.objects.order_by("id").values_list("status", "failure_reason"))
    assert [r[0] for r in reasons] == ["failed", "failed", "failed"]
    assert reasons[0][1].startswith("neither an inbound SMS (sender 'from' and text 'text') nor a delivery report")
    assert "fields present: hello" in reasons[0][1]
    assert reasons[1][1] == "sender: 'not a phone' is not a phone number"
    assert reasons[2][1].startswith("the body is neither JSON nor a form")
    assert Message.objects.count() == 0


def test_inbound_sms_is_deduplicated(generic, provider_client, run_on_commit):
    with run_on_commit():
        for _ in range(2):  # the gateway retries its callback
            post_signed(provider_client, generic, {"from": "66812345678", "text": "มีโปรไหมครับ", "id": "mo-1",
                                                   "timestamp": 1764561600})
    [message] = Message.objects.all()
    assert (message.text, message.kind, message.dedupe_key) == ("มีโปรไหมครับ", "sms", "mo:mo-1")
    assert message.conversation.contact_id == "+66812345678"
    assert message.created_at.timestamp() == 1764561600


def test_delivery_reports_by_get_update_the_outbound_message(thaibulk, provider_client, run_on_commit):
    outbound, _ = outbound_enqueue(account=thaibulk, to="+66812345678", payload={"text": "hi"})
    OutboundMessage.objects.filter(pk=outbound.pk).update(status="sent", provider_message_id="btv151h3")
    token = thaibulk.secrets["webhook_secret"]
    with run_on_commit():
        response = provider_client.get(f"/webhooks/sms/{thaibulk.uuid}",
                                       {"message_id": "btv151h3", "status": "delivered", "msisdn": "66812345678",
                                        "token": token})
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "processed" and token not in bytes(event.body).decode()  # the token is not stored
    outbound.refresh_from_db()
    assert (outbound.delivery_report, outbound.delivery_report_detail) == ("delivered", "delivered")
    # A failure report posted as a form, with the token in a header, for a message we never sent: logged only.
    with run_on_commit():
        assert provider_client.post(f"/webhooks/sms/{thaibulk.uuid}",
                                    data=urlencode({"message_id": "unknown", "status": "FAILED", "error": "Mobile off"}),
                                    content_type="application/x-www-form-urlencoded",
                                    headers={"X-Webhook-Token": token}).status_code == 200
    assert WebhookEvent.objects.filter(status="processed").count() == 2
    outbound.refresh_from_db()
    assert outbound.delivery_report == "delivered"


def test_providers_registry_lists_email_and_sms_for_the_settings_page(api):
    providers = {p["provider"]: p for p in api.get("/api/channels/providers").json()}
    assert providers["email"]["polls"] is True and providers["email"]["required_secrets"] == ["password"]
    assert {"imap_host", "smtp_host", "username"} <= set(providers["email"]["config_fields"])
    assert providers["sms"]["polls"] is False and "preset" in providers["sms"]["config_fields"]
    assert {"api_key", "api_secret", "webhook_secret"} <= set(providers["sms"]["secret_fields"])
    thai = {p["provider"]: p for p in api.get("/api/channels/providers", headers={"Accept-Language": "th"}).json()}
    assert thai["email"]["label"] == "อีเมล (IMAP + SMTP)" and thai["sms"]["label"] == "SMS (ผ่านเกตเวย์ HTTP)"
