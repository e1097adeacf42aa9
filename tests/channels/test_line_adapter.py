"""The LINE adapter against the recorded payloads and a local HTTP server standing in for api.line.me."""

from __future__ import annotations

import json
import uuid

import pytest
from werkzeug import Response

from samphan.channels.adapters import get_adapter
from samphan.channels.adapters.base import (
    MalformedPayload,
    OutboundPayload,
    PermanentSendError,
    TransientSendError,
)
from samphan.channels.adapters.line import _RETRY_KEY_NAMESPACE
from tests.channels.helpers import (
    LINE_SECRET,
    LINE_TOKEN,
    LINE_USER,
    LINE_USER_2,
    as_body,
    fixture,
    line_signature,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def adapter(line_account, httpserver):
    line_account.config = {"api_base_url": httpserver.url_for(""), "data_api_base_url": httpserver.url_for("/data")}
    line_account.save()
    return get_adapter(line_account)


def test_signature_is_base64_hmac_sha256_of_the_raw_body(adapter):
    body = as_body(fixture("line", "message_text"))
    good = line_signature(LINE_SECRET, body)
    assert adapter.verify({"X-Line-Signature": good}, body)
    assert adapter.verify({"x-line-signature": good}, body)
    assert not adapter.verify({"x-line-signature": good}, body + b" ")
    assert not adapter.verify({"x-line-signature": line_signature("other", body)}, body)
    assert not adapter.verify({}, body)
    assert not adapter.verify({"x-line-signature": good}, b"\xff\xfe" + body)  # not UTF-8: still compared, fails


def test_parse_text_message(adapter):
    [event] = adapter.parse(as_body(fixture("line", "message_text")))
    assert event.kind == "message" and event.message_type == "text"
    assert event.dedupe_key == "01HQZ8Y7V3K4M5N6P7Q8R9S0T1"
    assert event.external_id == "468789577898262530"
    assert event.sender.kind == "line" and event.sender.value == LINE_USER
    assert event.thread_key == LINE_USER
    assert event.reply_token == "b60d432864f44d079f6d8efe86cf404b"
    assert event.occurred_at.timestamp() == 1717000000
    assert event.meta["redelivery"] is False


def test_parse_every_kind_and_ignore_groups(adapter):
    events = adapter.parse(as_body(fixture("line", "message_kinds")))
    assert [(e.kind, e.message_type) for e in events] == [
        ("message", "sticker"), ("message", "image"), ("message", "location"), ("postback", "postback")]
    sticker, image, location, postback = events
    assert sticker.attachments[0].meta == {"package_id": "11537", "sticker_id": "52002734",
                                           "keywords": ["Happy", "Sparkle", "Yay"]}
    assert image.attachments[0].ref == "468789577898262532"
    assert image.attachments[0].meta["content_provider"] == "line"
    assert location.text.startswith("ร้านกาแฟบ้านสวน, 99 ถนนนิมมานเหมินท์")
    assert location.attachments[0].meta["latitude"] == 18.7964
    assert postback.text == "action=track_order&order=A1024"
    assert postback.meta["params"] == {"datetime": "2024-06-01T10:00"}
    assert {e.sender.value for e in events} == {LINE_USER_2}


def test_parse_follow_unfollow(adapter):
    [follow] = adapter.parse(as_body(fixture("line", "follow")))
    [unfollow] = adapter.parse(as_body(fixture("line", "unfollow")))
    assert (follow.kind, unfollow.kind) == ("follow", "unfollow")
    assert follow.dedupe_key != unfollow.dedupe_key


@pytest.mark.parametrize(("body", "reason"), [
    (b"not json", "not JSON"),
    (b"[]", '"events" list'),
    (b'{"events": "x"}', '"events" list'),
    (b'{"events": [1]}', "event 0 is not an object"),
])
def test_malformed(adapter, body, reason):
    with pytest.raises(MalformedPayload, match=reason):
        adapter.parse(body)


def test_malformed_event_names_the_field(adapter):
    with pytest.raises(MalformedPayload) as exc:
        adapter.parse(as_body(fixture("line", "malformed_message_without_id")))
    assert "event 0 (message)" in str(exc.value) and "id" in str(exc.value)


def test_unknown_message_type_is_kept(adapter):
    data = fixture("line", "message_text")
    data["events"][0]["message"] = {"type": "hologram", "id": "9001"}
    [event] = adapter.parse(as_body(data))
    assert event.message_type == "hologram" and event.attachments[0].ref == "9001"


def request_to(httpserver, path):
    """The request this test made to `path` — the shared server's log may hold a straggler from another test."""
    return next(req for req, _ in httpserver.log if req.path == path)


def test_reply_with_a_fresh_token(adapter, httpserver):
    httpserver.expect_oneshot_request("/v2/bot/message/reply", method="POST").respond_with_json(
        {"sentMessages": [{"id": "481156297690701001", "quoteToken": "qt"}]})
    result = adapter.send(OutboundPayload(to=LINE_USER, text="ได้เลยค่ะ", reply_token="tok-1"), idempotency_key="k1")
    assert (result.provider_message_id, result.method) == ("481156297690701001", "reply")
    request = request_to(httpserver, "/v2/bot/message/reply")
    assert request.headers["Authorization"] == f"Bearer {LINE_TOKEN}"
    assert json.loads(request.data) == {"replyToken": "tok-1", "messages": [{"type": "text", "text": "ได้เลยค่ะ"}]}


def test_push_with_a_retry_key_when_there_is_no_token(adapter, httpserver):
    httpserver.expect_oneshot_request("/v2/bot/message/push", method="POST").respond_with_json(
        {"sentMessages": [{"id": "481156297690701002"}]})
    result = adapter.send(OutboundPayload(to=LINE_USER, text="hello"), idempotency_key="k2")
    assert result.method == "push"
    request = request_to(httpserver, "/v2/bot/message/push")
    assert request.headers["X-Line-Retry-Key"] == str(uuid.uuid5(_RETRY_KEY_NAMESPACE, "k2"))
    assert json.loads(request.data)["to"] == LINE_USER


def test_expired_token_falls_back_to_push(adapter, httpserver):
    httpserver.expect_oneshot_request("/v2/bot/message/reply").respond_with_json(
        {"message": "Invalid reply token"}, status=400)
    httpserver.expect_oneshot_request("/v2/bot/message/push").respond_with_json({"sentMessages": [{"id": "7"}]})
    result = adapter.send(OutboundPayload(to=LINE_USER, text="hi", reply_token="old"), idempotency_key="k3")
    assert (result.provider_message_id, result.method) == ("7", "push")


def test_a_retry_key_line_already_accepted_counts_as_sent(adapter, httpserver):
    httpserver.expect_oneshot_request("/v2/bot/message/push").respond_with_response(Response(
        json.dumps({"message": "The retry key is already accepted"}), status=409,
        headers={"x-line-accepted-request-id": "acc-123"}, content_type="application/json"))
    result = adapter.send(OutboundPayload(to=LINE_USER, text="hi"), idempotency_key="k4")
    assert result.provider_message_id == "accepted:acc-123"


@pytest.mark.parametrize(("status", "error"), [(500, TransientSendError), (429, TransientSendError),
                                               (400, PermanentSendError), (403, PermanentSendError)])
def test_errors_are_transient_or_permanent(adapter, httpserver, status, error):
    httpserver.expect_oneshot_request("/v2/bot/message/push").respond_with_json({"message": "nope"}, status=status)
    with pytest.raises(error, match=f"LINE answered {status}: nope"):
        adapter.send(OutboundPayload(to=LINE_USER, text="hi"), idempotency_key="k5")


def test_connection_refused_is_transient(line_account):
    line_account.config = {"api_base_url": "http://127.0.0.1:9"}  # nothing listens on the discard port
    with pytest.raises(TransientSendError) as exc:
        get_adapter(line_account).send(OutboundPayload(to=LINE_USER, text="hi"), idempotency_key="k6")
    assert not exc.value.ambiguous


def test_fetch_media(adapter, httpserver):
    httpserver.expect_oneshot_request("/data/v2/bot/message/468789577898262532/content").respond_with_data(
        b"\x89PNG...", content_type="image/png")
    media = adapter.fetch_media("468789577898262532")
    assert media.content == b"\x89PNG..." and media.content_type == "image/png"
    assert request_to(httpserver, "/data/v2/bot/message/468789577898262532/content").headers["Authorization"] == (
        f"Bearer {LINE_TOKEN}")
