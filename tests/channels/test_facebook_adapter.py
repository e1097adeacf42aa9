"""The Facebook Page adapter against recorded payloads and a local stand-in for graph.facebook.com."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from samphan.channels.adapters import base as adapter_base
from samphan.channels.adapters import get_adapter
from samphan.channels.adapters.base import (
    MalformedPayload,
    OutboundPayload,
    PermanentSendError,
    TransientSendError,
)
from tests.channels.helpers import FB_APP_SECRET, FB_PAGE_TOKEN, FB_VERIFY_TOKEN, as_body, fixture

pytestmark = pytest.mark.django_db


@pytest.fixture
def adapter(facebook_account, httpserver):
    facebook_account.config = {**facebook_account.config, "graph_base_url": httpserver.url_for("/v21.0")}
    facebook_account.save()
    return get_adapter(facebook_account)


def test_signature_checked_on_raw_bytes(adapter):
    body = as_body(fixture("facebook", "messenger_text"))
    digest = hmac.new(FB_APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert adapter.verify({"X-Hub-Signature-256": f"sha256={digest}"}, body)
    assert not adapter.verify({"X-Hub-Signature-256": f"sha256={digest.upper()}"}, body)
    assert not adapter.verify({"X-Hub-Signature-256": digest}, body)
    assert not adapter.verify({"X-Hub-Signature-256": f"sha256={digest}"}, body.replace(b"Sunday", b"Monday"))
    # The same JSON re-serialised differently is different bytes, so a different signature.
    assert not adapter.verify({"X-Hub-Signature-256": f"sha256={digest}"}, json.dumps(json.loads(body)).encode())


def test_handshake(adapter):
    ok = adapter.handshake({"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY_TOKEN, "hub.challenge": "42"})
    assert ok.status_code == 200 and ok.content == b"42"
    assert adapter.handshake({"hub.mode": "subscribe", "hub.verify_token": "x", "hub.challenge": "1"}).status_code == 403
    assert adapter.handshake({"hub.mode": "unsubscribe", "hub.verify_token": FB_VERIFY_TOKEN}).status_code == 403


def test_parse_messenger(adapter):
    [text] = adapter.parse(as_body(fixture("facebook", "messenger_text")))
    assert text.dedupe_key.startswith("m_AG5Hz2Uq") and text.sender.value == "6998871234567890"
    assert text.thread_key == "psid:6998871234567890"
    assert "วันอาทิตย์" in text.text
    [image] = adapter.parse(as_body(fixture("facebook", "messenger_attachment")))
    assert image.message_type == "image" and image.attachments[0].url.startswith("https://scontent")
    [postback] = adapter.parse(as_body(fixture("facebook", "messenger_postback")))
    assert postback.kind == "postback" and postback.meta["payload"] == "TRACK_ORDER"
    assert adapter.parse(as_body(fixture("facebook", "messenger_echo_and_receipts"))) == []


def test_parse_comment(adapter):
    [comment] = adapter.parse(as_body(fixture("facebook", "feed_comment")))  # the reaction is ignored
    assert comment.kind == "comment"
    assert comment.dedupe_key == "881234567890123_1122334455667788"
    assert comment.reply_to == comment.dedupe_key
    assert comment.sender.display_name == "Napat Srisuk"
    assert comment.thread_key == "post:104729375231234_881234567890123:24681357924680"
    assert comment.meta["permalink_url"].startswith("https://www.facebook.com/")


def test_parse_malformed(adapter):
    with pytest.raises(MalformedPayload, match=r"sender\.id is missing"):
        adapter.parse(as_body(fixture("facebook", "malformed_message_without_sender")))
    with pytest.raises(MalformedPayload, match='"object": "page"'):
        adapter.parse(b'{"object": "instagram", "entry": []}')
    data = fixture("facebook", "feed_comment")
    del data["entry"][0]["changes"][0]["value"]["comment_id"]
    with pytest.raises(MalformedPayload, match="comment_id"):
        adapter.parse(as_body(data))


def test_send_messenger(adapter, httpserver):
    httpserver.expect_oneshot_request("/v21.0/me/messages", method="POST").respond_with_json(
        {"recipient_id": "6998871234567890", "message_id": "m_sent_1"})
    result = adapter.send(OutboundPayload(to="6998871234567890", text="เปิดค่ะ 9 โมง"), idempotency_key="k")
    assert (result.provider_message_id, result.method) == ("m_sent_1", "send")
    request, _ = httpserver.log[0]
    assert request.headers["Authorization"] == f"Bearer {FB_PAGE_TOKEN}"
    assert "access_token" not in request.url  # never in a URL a proxy could log
    assert json.loads(request.data) == {"recipient": {"id": "6998871234567890"}, "messaging_type": "RESPONSE",
                                        "message": {"text": "เปิดค่ะ 9 โมง"}}


def test_reply_to_a_comment(adapter, httpserver):
    httpserver.expect_oneshot_request("/v21.0/881234567890123_1122334455667788/comments",
                                      method="POST").respond_with_json({"id": "881234567890123_99"})
    result = adapter.send(OutboundPayload(to="24681357924680", text="ส่งได้ค่ะ",
                                          comment_id="881234567890123_1122334455667788"), idempotency_key="k")
    assert (result.provider_message_id, result.method) == ("881234567890123_99", "comment")


@pytest.mark.parametrize(("status", "code", "error"), [
    (500, 2, TransientSendError), (400, 613, TransientSendError), (400, 100, PermanentSendError),
    (403, 10, PermanentSendError)])
def test_graph_errors(adapter, httpserver, status, code, error):
    httpserver.expect_oneshot_request("/v21.0/me/messages").respond_with_json(
        {"error": {"message": "boom", "type": "OAuthException", "code": code, "fbtrace_id": "A1"}}, status=status)
    with pytest.raises(error, match=f"code {code}"):
        adapter.send(OutboundPayload(to="1", text="x"), idempotency_key="k")


def test_read_timeout_is_ambiguous(adapter, httpserver, monkeypatch):
    import time

    import httpx

    def slow(request):
        time.sleep(0.5)
        from werkzeug import Response

        return Response("{}", content_type="application/json")

    httpserver.expect_oneshot_request("/v21.0/me/messages").respond_with_handler(slow)
    monkeypatch.setattr(adapter_base._local, "client", httpx.Client(timeout=httpx.Timeout(0.1)), raising=False)
    monkeypatch.setattr(adapter_base._local, "pid", __import__("os").getpid(), raising=False)
    with pytest.raises(TransientSendError) as exc:
        adapter.send(OutboundPayload(to="1", text="x"), idempotency_key="k")
    assert exc.value.ambiguous
    # Let the slow handler finish, so its request is not logged into the next test's server log.
    deadline = time.monotonic() + 5
    while not httpserver.log and time.monotonic() < deadline:
        time.sleep(0.05)
