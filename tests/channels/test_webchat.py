"""Web chat's endpoints: origins and CORS, the signed visitor cookie, bad input, dedupe, rate limits,
the durable inbound path and exactly-once replies into the visitor's transcript."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core import signing
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from samphan.channels.adapters import get_adapter
from samphan.channels.adapters.base import OutboundPayload
from samphan.channels.models import OutboundMessage, WebchatMessage, WebhookEvent
from samphan.channels.outbound import outbound_attempt
from samphan.channels.services import channel_account_create, channel_account_update
from samphan.channels.webchat.visitor import HEADER, cookie_name, visitor_token
from samphan.core.errors import ValidationFailed
from samphan.customers.models import Identity
from samphan.inbox.models import Conversation, Message
from samphan.inbox.services import conversation_reply
from tests.channels.webchat_helpers import SHOP, get, post, send, widget_client

pytestmark = pytest.mark.django_db


def _visitor_of(response, account) -> str:
    morsel = response.cookies[cookie_name(account)]
    return signing.loads(morsel.value, salt=f"samphan.webchat.visitor:{account.uuid}")


# --- settings, CLI, API ------------------------------------------------------------------------


def test_cli_add_webchat_prints_id_url_and_snippet(workspace, monkeypatch):
    monkeypatch.setenv("SAMPHAN_PUBLIC_URL", "https://samphan.example/")
    out = io.StringIO()
    call_command("channels", "add", "webchat", "--workspace", "alpha", "--name", "หน้าร้านออนไลน์",
                 "--origin", "https://Shop.Example/", "--origin", "https://shop.example:8443",
                 "--title-th", "แชทกับเรา", "--color", "#123456", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert set(data) == {"id", "webhook_url", "embed_snippet"}
    from samphan.channels.models import ChannelAccount

    account = ChannelAccount.objects.get(pk=data["id"])
    assert data["webhook_url"] == f"https://samphan.example/webchat/{account.uuid}"
    assert data["embed_snippet"] == (f'<script src="https://samphan.example/webchat/widget.js" '
                                     f'data-channel="{account.uuid}" async></script>')
    assert account.config["allowed_origins"] == ["https://shop.example", "https://shop.example:8443"]
    assert account.config["title_th"] == "แชทกับเรา" and account.secrets == {}


def test_cli_refuses_a_bad_origin_saying_why(workspace):
    with pytest.raises(CommandError, match=re.escape("allowed_origins: 'shop.example/path' is not an origin")):
        call_command("channels", "add", "webchat", "--workspace", "alpha", "--name", "x",
                     "--origin", "shop.example/path", stdout=io.StringIO())
    with pytest.raises(CommandError, match="at least one site"):
        call_command("channels", "add", "webchat", "--workspace", "alpha", "--name", "x", stdout=io.StringIO())
    with pytest.raises(CommandError, match="wildcard"):
        call_command("channels", "add", "webchat", "--workspace", "alpha", "--name", "x", "--origin", "*",
                     stdout=io.StringIO())


def test_api_create_list_and_validate(api):
    providers = {p["provider"]: p for p in api.get("/api/channels/providers").json()}
    assert providers["webchat"]["embeddable"] is True and providers["line"]["embeddable"] is False
    assert "allowed_origins" in providers["webchat"]["config_fields"]
    created = api.post("/api/channels/accounts", data={
        "provider": "webchat", "name": "Website", "config": {"allowed_origins": ["https://shop.example"],
                                                              "greeting_th": "สวัสดีค่ะ"}},
        content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert 'data-channel="' + body["uuid"] + '"' in body["embed_snippet"]
    assert body["webhook_url"].endswith(f"/webchat/{body['uuid']}")
    bad = api.patch(f"/api/channels/accounts/{body['id']}", data={"config": {"color": "teal"}},
                    content_type="application/json")
    assert bad.status_code == 422 and "color" in bad.json()["message"]
    bad = api.post("/api/channels/accounts", data={"provider": "webchat", "name": "W",
                                                   "config": {"allowed_origins": "ftp://x"}},
                   content_type="application/json")
    assert bad.status_code == 422 and "allowed_origins" in bad.json()["message"]


def test_update_keeps_origins_normalised(webchat_account):
    account = channel_account_update(account=webchat_account,
                                     config={"allowed_origins": ["HTTPS://WWW.Shop.Example:443"]})
    assert account.config["allowed_origins"] == ["https://www.shop.example"]
    with pytest.raises(ValidationFailed, match="title_en: at most 60"):
        channel_account_update(account=webchat_account, config={"title_en": "x" * 61})


def test_generic_webhook_url_refuses_webchat(webchat_account, provider_client):
    response = provider_client.post(f"/webhooks/webchat/{webchat_account.uuid}", data=b'{"type": "message"}',
                                    content_type="application/json")
    assert response.status_code == 401 and WebhookEvent.objects.count() == 0


# --- origins and CORS -------------------------------------------------------------------------


def test_config_for_an_allowed_origin_with_cors_headers(webchat_account):
    response = get(widget_client(), webchat_account, "config?lang=th")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == SHOP
    assert response["Access-Control-Allow-Credentials"] == "true"
    assert "origin" in response["Vary"].lower()
    data = response.json()
    assert data["title"] == "แชทกับบ้านสวน" and data["color"] == "#7c2d12" and data["language"] == "th"
    assert data["strings"]["send"] == "ส่ง" and data["visitor"] is False
    english = get(widget_client(), webchat_account, "config?lang=en").json()
    assert english["title"] == "Chat with Baan Suan" and english["strings"]["send"] == "Send"
    assert english["greeting"] == "Hello! How can we help you today?"


@pytest.mark.parametrize("origin", ["https://evil.example", "http://shop.example", "https://shop.example.evil.io",
                                    "null", ""])
def test_other_origins_are_refused_and_get_no_cors_headers(webchat_account, origin):
    client = widget_client()
    for response in (get(client, webchat_account, "config", origin=origin),
                     send(client, webchat_account, "hi", "c1", origin=origin)):
        assert response.status_code == 403
        assert response.json()["code"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in response
    assert WebchatMessage.objects.count() == 0 and WebhookEvent.objects.count() == 0


def test_preflight(webchat_account):
    client = widget_client()
    ok = client.options(f"/webchat/{webchat_account.uuid}/messages", headers={
        "Origin": SHOP, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-samphan-visitor"})
    assert ok.status_code == 200 and ok["Access-Control-Allow-Origin"] == SHOP
    assert "x-samphan-visitor" in ok["Access-Control-Allow-Headers"]
    assert ok["Access-Control-Allow-Credentials"] == "true"
    refused = client.options(f"/webchat/{webchat_account.uuid}/messages", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    assert "Access-Control-Allow-Origin" not in refused


def test_cors_stays_off_elsewhere(webchat_account, api):
    response = api.get("/api/me", headers={"Origin": SHOP})
    assert "Access-Control-Allow-Origin" not in response


def test_unknown_or_inactive_channel_is_404(webchat_account, line_account):
    client = widget_client()
    channel_account_update(account=webchat_account, is_active=False)
    from samphan.channels.views import forget_cached_accounts

    forget_cached_accounts()
    assert get(client, webchat_account, "config").status_code == 404
    # A LINE account's uuid is not a web chat.
    assert get(client, line_account, "config").status_code == 404
    assert get(client, line_account, "config").json()["code"] == "not_found"


# --- the visitor cookie ------------------------------------------------------------------------


def test_first_message_sets_a_signed_cookie(webchat_account):
    client = widget_client()
    response = send(client, webchat_account, "สวัสดีค่ะ", "c1")
    assert response.status_code == 202, response.content
    morsel = response.cookies[cookie_name(webchat_account)]
    assert morsel["httponly"] and morsel["secure"] and morsel["samesite"] == "None"
    assert morsel["path"] == f"/webchat/{webchat_account.uuid}"
    visitor = _visitor_of(response, webchat_account)
    assert visitor.startswith("v_")
    assert response.json()["visitor_token"] == morsel.value
    # The same browser is the same visitor.
    send(client, webchat_account, "ขอเมนูหน่อยค่ะ", "c2")
    assert set(WebchatMessage.objects.values_list("visitor_id", flat=True)) == {visitor}


def test_plain_http_cookie_is_lax_without_secure(webchat_account):
    channel_account_update(account=webchat_account, config={"allowed_origins": ["http://localhost:3000"]})
    from samphan.channels.views import forget_cached_accounts

    forget_cached_accounts()
    response = send(widget_client(), webchat_account, "hi", "c1", origin="http://localhost:3000", secure=False)
    morsel = response.cookies[cookie_name(webchat_account)]
    assert response.status_code == 202 and morsel["samesite"] == "Lax" and not morsel["secure"]


def test_tampered_or_foreign_cookies_are_a_new_visitor(workspace, webchat_account):
    alice = widget_client()
    first = send(alice, webchat_account, "ข้อความของอลิซ", "a1")
    alice_id = _visitor_of(first, webchat_account)
    good = first.cookies[cookie_name(webchat_account)].value

    other = channel_account_create(workspace=workspace, provider="webchat", name="Second site", secrets={},
                                   config={"allowed_origins": [SHOP]})
    forged = [
        good[:-2] + ("AA" if not good.endswith("AA") else "BB"),  # signature changed
        signing.dumps("v_someone-else", salt="another-salt"),  # signed, but not for this channel
        visitor_token(other, alice_id),  # the same visitor id signed for another channel account
        alice_id,  # the bare id, unsigned
        "garbage",
    ]
    for value in forged:
        mallory = widget_client()
        mallory.cookies[cookie_name(webchat_account)] = value
        transcript = get(mallory, webchat_account, "messages")
        assert transcript.json() == {"visitor": False, "messages": [], "cursor": 0}
        # The same values in the header fallback are refused too.
        assert get(widget_client(), webchat_account, "messages", headers={HEADER: value}).json()["visitor"] is False
        response = send(mallory, webchat_account, "ฉันคือใคร", f"m{len(value)}")
        assert response.status_code == 202
        assert _visitor_of(response, webchat_account) != alice_id
    assert WebchatMessage.objects.filter(visitor_id=alice_id).count() == 1
    # Alice still sees only her own line.
    assert [m["text"] for m in get(alice, webchat_account, "messages").json()["messages"]] == ["ข้อความของอลิซ"]


def test_header_fallback_when_the_browser_drops_third_party_cookies(webchat_account):
    first = send(widget_client(), webchat_account, "hello", "c1")
    token = first.json()["visitor_token"]
    cookieless = Client(enforce_csrf_checks=True)  # a fresh client per request: no cookie jar
    again = send(cookieless, webchat_account, "again", "c2", headers={HEADER: token})
    assert again.status_code == 202
    assert WebchatMessage.objects.filter(visitor_id=_visitor_of(first, webchat_account)).count() == 2
    lines = get(Client(), webchat_account, "messages", headers={HEADER: token}).json()["messages"]
    assert [m["text"] for m in lines] == ["hello", "again"]


# --- bad input, dedupe, rate limits -----------------------------------------------------------


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    (b"not json", 400, "bad_request", None),
    (b"\xff\xfe", 400, "bad_request", None),
    (b"[1, 2]", 400, "bad_request", None),
    ({"text": "hi"}, 422, "validation_error", "client_id"),
    ({"client_id": "has space", "text": "hi"}, 422, "validation_error", "client_id"),
    ({"client_id": "x" * 65, "text": "hi"}, 422, "validation_error", "client_id"),
    ({"client_id": "c1", "text": "   "}, 422, "validation_error", "text"),
    ({"client_id": "c1", "text": 42}, 422, "validation_error", "text"),
    ({"client_id": "c1", "text": "ก" * 2001}, 422, "validation_error", "text"),
])
def test_bad_payloads_are_clear_4xx(webchat_account, body, status, code, field):
    response = post(widget_client(), webchat_account, "messages", body)
    assert response.status_code == status, response.content
    data = response.json()
    assert data["code"] == code and data["message"]
    if field:
        assert data["details"]["field"] == field and data["message"].startswith(field)
    assert response["Access-Control-Allow-Origin"] == SHOP  # the widget can read the reason
    assert WebchatMessage.objects.count() == 0 and WebhookEvent.objects.count() == 0


def test_other_bad_requests(webchat_account, settings):
    client = widget_client()
    assert post(client, webchat_account, "messages", b"{" + b" " * 20000 + b"}").status_code == 413
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000  # Django's own limit, below ours: still a JSON 413
    too_big = post(client, webchat_account, "messages", {"client_id": "c1", "text": "ก" * 1500})
    assert too_big.status_code == 413 and too_big.json()["code"] == "too_large"
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2621440
    response = client.put(f"/webchat/{webchat_account.uuid}/messages", data="{}", content_type="application/json",
                          secure=True, headers={"Origin": SHOP})
    assert response.status_code == 405 and response["Allow"] == "GET, POST"
    send(client, webchat_account, "hi", "c1")
    assert get(client, webchat_account, "messages?after=abc").status_code == 400
    assert post(client, webchat_account, "seen", {"up_to": "x"}).status_code == 422
    assert post(client, webchat_account, "email", {"email": "not-an-address"}).json()["details"] == {
        "field": "email"}


def test_a_resent_client_message_id_is_stored_once(webchat_account, run_on_commit):
    client = widget_client()
    with run_on_commit():
        first = send(client, webchat_account, "กาแฟเย็นหนึ่งแก้ว", "c-retry")
        again = send(client, webchat_account, "กาแฟเย็นหนึ่งแก้ว", "c-retry")  # the answer was lost; sent again
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["duplicate"] is True and again.json()["message"]["id"] == first.json()["message"]["id"]
    assert WebchatMessage.objects.count() == 1 and WebhookEvent.objects.count() == 1
    assert Message.objects.filter(direction="in").count() == 1
    # Another visitor may use the same client id: it is theirs.
    with run_on_commit():
        assert send(widget_client(), webchat_account, "hi", "c-retry").status_code == 202
    assert Message.objects.filter(direction="in").count() == 2


def test_the_worker_dedupes_a_reprocessed_event(webchat_account, run_on_commit):
    with run_on_commit():
        send(widget_client(), webchat_account, "hello", "c1")
    event = WebhookEvent.objects.get()
    assert event.status == "processed"
    WebhookEvent.objects.filter(pk=event.pk).update(status="received")
    from samphan.channels.processing import process_pending

    process_pending()
    assert Message.objects.count() == 1


def test_rate_limits_per_visitor_and_per_address(webchat_account, settings):
    settings.SAMPHAN_WEBCHAT_RATE_VISITOR = "3/m"
    client = widget_client()
    codes = [send(client, webchat_account, f"m{i}", f"c{i}").status_code for i in range(4)]
    assert codes == [202, 202, 202, 429]
    limited = send(client, webchat_account, "m9", "c9")
    assert limited.json()["code"] == "rate_limited" and int(limited["Retry-After"]) >= 1
    assert limited["Access-Control-Expose-Headers"] == "retry-after"
    assert WebchatMessage.objects.count() == 3
    # Another visitor on another address is not held back...
    assert send(widget_client(), webchat_account, "x", "x1", headers={}).status_code == 202
    # ...but one address cannot mint visitors without end.
    settings.SAMPHAN_WEBCHAT_RATE_IP = "2/m"
    results = [send(widget_client(), webchat_account, "bot", f"b{i}",).status_code for i in range(3)]
    assert results[-1] == 429


def test_polls_and_read_receipts_share_a_limit(webchat_account, settings):
    settings.SAMPHAN_WEBCHAT_RATE_POLL = "3/m"
    client = widget_client()
    send(client, webchat_account, "hi", "c1")
    codes = [get(client, webchat_account, "messages").status_code,
             post(client, webchat_account, "seen", {"up_to": 1}).status_code,
             get(client, webchat_account, "messages").status_code,
             post(client, webchat_account, "seen", {"up_to": 1}).status_code]
    assert codes == [200, 200, 200, 429]


def test_rate_limit_fails_open_when_the_cache_is_down(webchat_account, monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr("samphan.channels.webchat.views.get_usage", broken)
    assert send(widget_client(), webchat_account, "still here", "c1").status_code == 202


# --- durable inbound and exactly-once replies ---------------------------------------------------


def test_message_is_stored_durably_before_the_worker_runs(webchat_account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = send(widget_client(), webchat_account, "ทักครับ", "c1")
    assert response.status_code == 202
    event = WebhookEvent.objects.get()
    assert event.status == "received" and json.loads(bytes(event.body))["text"] == "ทักครับ"
    assert len(callbacks) == 1  # the processing task, queued after commit
    assert Message.objects.count() == 0  # nothing processed in the request


def test_message_reaches_the_inbox_and_the_reply_reaches_the_widget_once(webchat_account, owner, run_on_commit):
    client = widget_client()
    with run_on_commit():
        sent = send(client, webchat_account, "มีเมล็ดกาแฟคั่วกลางไหมคะ", "c1")
    visitor = _visitor_of(sent, webchat_account)
    conversation = Conversation.objects.get()
    assert conversation.workspace_id == webchat_account.workspace_id
    assert conversation.thread_key == visitor and conversation.contact_id == visitor
    assert Identity.objects.get(customer=conversation.customer).value == visitor
    inbound = Message.objects.get()
    assert inbound.text == "มีเมล็ดกาแฟคั่วกลางไหมคะ" and inbound.meta["lang"] == "th"

    with run_on_commit():
        reply = conversation_reply(conversation=conversation, actor=owner, text="มีค่ะ ถุงละ 350 บาท",
                                   idempotency_key="k1", via="api")
        again = conversation_reply(conversation=conversation, actor=owner, text="มีค่ะ ถุงละ 350 บาท",
                                   idempotency_key="k1", via="api")
    assert again.pk == reply.pk
    outbound = OutboundMessage.objects.get()
    assert outbound.status == "sent" and outbound.provider_message_id.startswith("webchat-")
    # A redelivered send task, and the adapter called again with the same key, add nothing.
    assert outbound_attempt(outbound.pk).outcome == "skipped"
    get_adapter(webchat_account).send(OutboundPayload(to=visitor, text="มีค่ะ ถุงละ 350 บาท"),
                                      idempotency_key=outbound.idempotency_key)

    lines = get(client, webchat_account, "messages").json()["messages"]
    assert [(m["direction"], m["text"]) for m in lines] == [("in", "มีเมล็ดกาแฟคั่วกลางไหมคะ"),
                                                           ("out", "มีค่ะ ถุงละ 350 บาท")]
    cursor = lines[-1]["id"]
    assert get(client, webchat_account, f"messages?after={cursor}").json()["messages"] == []
    # Another visitor never sees it.
    assert get(widget_client(), webchat_account, "messages").json()["messages"] == []

    # The widget showed it: delivered, visible in the outbound status.
    assert post(client, webchat_account, "seen", {"up_to": cursor}).json() == {"delivered": 1}
    assert post(client, webchat_account, "seen", {"up_to": cursor}).json() == {"delivered": 0}
    outbound.refresh_from_db()
    assert outbound.status == "delivered" and outbound.delivered_at is not None
    assert get(client, webchat_account, "messages").json()["messages"][-1]["seen"] is True


def test_a_reply_is_invisible_until_marked_sent(webchat_account, owner, run_on_commit,
                                               django_capture_on_commit_callbacks):
    client = widget_client()
    with run_on_commit():
        send(client, webchat_account, "hi", "c1")
    conversation = Conversation.objects.get()
    with django_capture_on_commit_callbacks(execute=False):
        conversation_reply(conversation=conversation, actor=owner, text="hello", via="api")
    outbound = OutboundMessage.objects.get()
    # The adapter wrote the line but the worker died before recording "sent".
    OutboundMessage.objects.filter(pk=outbound.pk).update(status="sending")
    get_adapter(webchat_account).send(OutboundPayload(to=conversation.contact_id, text="hello"),
                                      idempotency_key=outbound.idempotency_key)
    assert [m["direction"] for m in get(client, webchat_account, "messages").json()["messages"]] == ["in"]
    # Web chat dedupes retries, so the sweep re-queues it; sending again writes nothing new.
    OutboundMessage.objects.filter(pk=outbound.pk).update(status="queued")
    assert outbound_attempt(outbound.pk).outcome == "sent"
    assert WebchatMessage.objects.filter(direction="out").count() == 1
    assert [m["direction"] for m in get(client, webchat_account, "messages").json()["messages"]] == ["in", "out"]


def test_the_inbox_api_shows_delivery(webchat_account, api, run_on_commit):
    client = widget_client()
    with run_on_commit():
        send(client, webchat_account, "hi", "c1")
    [row] = api.get("/api/inbox/conversations?provider=webchat").json()["items"]
    assert row["channel"]["provider"] == "webchat"
    with run_on_commit():
        api.post(f"/api/inbox/conversations/{row['id']}/reply", data={"text": "สวัสดีค่ะ"},
                 content_type="application/json")
    detail = api.get(f"/api/inbox/conversations/{row['id']}").json()
    assert detail["messages"][-1]["delivery"]["status"] == "sent"
    up_to = get(client, webchat_account, "messages").json()["cursor"]
    post(client, webchat_account, "seen", {"up_to": up_to})
    detail = api.get(f"/api/inbox/conversations/{row['id']}").json()
    assert detail["messages"][-1]["delivery"]["status"] == "delivered"


def test_other_workspace_sees_nothing(webchat_account, other_workspace, run_on_commit):
    with run_on_commit():
        send(widget_client(), webchat_account, "hi", "c1")
    assert Conversation.objects.filter(workspace=other_workspace).count() == 0
    assert Conversation.objects.get().workspace_id == webchat_account.workspace_id


# --- the widget's files -------------------------------------------------------------------------


def test_widget_files_are_served_with_validators():
    client = Client()
    js = client.get("/webchat/widget.js")
    assert js.status_code == 200 and js["Content-Type"].startswith("application/javascript")
    assert b"attachShadow" in js.content and js["Cross-Origin-Resource-Policy"] == "cross-origin"
    assert client.get("/webchat/widget.js", headers={"If-None-Match": js["ETag"]}).status_code == 304
    css = client.get("/webchat/widget.css")
    assert css.status_code == 200 and css["Content-Type"].startswith("text/css") and b".swc-panel" in css.content
