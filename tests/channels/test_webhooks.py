"""The webhook endpoint: signatures on the raw bytes, durable storage, 200 fast, failures kept visible."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from samphan.channels.models import WebhookEvent
from samphan.inbox.models import Conversation, Message
from tests.channels.helpers import (
    FB_VERIFY_TOKEN,
    LINE_SECRET,
    LINE_USER,
    as_body,
    fixture,
    line_signature,
    post_facebook,
    post_line,
)

pytestmark = pytest.mark.django_db


def test_line_message_is_stored_acknowledged_and_processed(provider_client, line_account, run_on_commit):
    with run_on_commit():
        response = post_line(provider_client, line_account, fixture("line", "message_text"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "processed", event.failure_reason
    assert event.event_count == 1
    assert event.headers["x-line-signature"]
    assert b"\xe0\xb8\xaa" in bytes(event.body)  # the Thai text, byte for byte as LINE sent it
    message = Message.objects.get()
    assert message.text == "สวัสดีค่ะ สั่งกาแฟเย็นได้ไหมคะ"
    assert message.dedupe_key == "01HQZ8Y7V3K4M5N6P7Q8R9S0T1"
    assert message.external_id == "468789577898262530"
    assert message.conversation.customer.identities.get().value == LINE_USER


def test_bad_signature_is_401_and_stores_nothing(provider_client, line_account):
    body = as_body(fixture("line", "message_text"))
    wrong = line_signature("not-the-channel-secret", body)
    assert post_line(provider_client, line_account, body, signature=wrong).status_code == 401
    assert post_line(provider_client, line_account, body, signature="").status_code == 401
    # One flipped byte of the body breaks the signature computed over the original.
    tampered = body.replace("กาแฟ".encode(), "ชาไทย".encode())
    assert post_line(provider_client, line_account, tampered, signature=line_signature(LINE_SECRET, body)).status_code == 401
    assert WebhookEvent.objects.count() == 0
    assert Message.objects.count() == 0


def test_unknown_account_or_provider_is_404(provider_client, line_account):
    import uuid

    body = as_body(fixture("line", "message_text"))
    sig = {"x-line-signature": line_signature(LINE_SECRET, body)}
    assert provider_client.post(f"/webhooks/line/{uuid.uuid4()}", data=body, content_type="application/json",
                                headers=sig).status_code == 404
    assert provider_client.post(f"/webhooks/facebook/{line_account.uuid}", data=body,
                                content_type="application/json", headers=sig).status_code == 404
    assert provider_client.post(f"/webhooks/nope/{line_account.uuid}", data=body,
                                content_type="application/json", headers=sig).status_code == 404
    assert WebhookEvent.objects.count() == 0


def test_inactive_account_is_404(provider_client, line_account):
    line_account.is_active = False
    line_account.save()
    assert post_line(provider_client, line_account, fixture("line", "message_text")).status_code == 404


def test_redelivery_is_stored_but_not_duplicated(provider_client, line_account, run_on_commit):
    with run_on_commit():
        post_line(provider_client, line_account, fixture("line", "message_text"))
        post_line(provider_client, line_account, fixture("line", "message_text_redelivery"))
        post_line(provider_client, line_account, fixture("line", "message_text"))  # a plain resend too
    assert WebhookEvent.objects.filter(status="processed").count() == 3
    assert Message.objects.count() == 1
    assert Conversation.objects.get().message_count == 1


def test_not_json_is_kept_as_failed_with_its_reason(provider_client, line_account, run_on_commit):
    body = b'{"destination": "U1", "events": [ {"type": "message"'  # cut off mid-way
    with run_on_commit():
        response = post_line(provider_client, line_account, body)
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "failed"
    assert "not JSON" in event.failure_reason
    assert bytes(event.body) == body


def test_malformed_event_is_kept_as_failed_and_listed_for_admins(provider_client, line_account, run_on_commit, api):
    with run_on_commit():
        response = post_line(provider_client, line_account, fixture("line", "malformed_message_without_id"))
    assert response.status_code == 200
    event = WebhookEvent.objects.get()
    assert event.status == "failed"
    assert "event 0 (message)" in event.failure_reason
    assert "id" in event.failure_reason
    assert Message.objects.count() == 0

    listed = api.get("/api/channels/webhook-events", {"status": "failed"}).json()
    assert [e["id"] for e in listed] == [event.pk]
    assert listed[0]["failure_reason"] == event.failure_reason
    assert "no id, no quoteToken" in listed[0]["body"]


def test_retry_after_a_fix_processes_the_kept_event(provider_client, line_account, run_on_commit, api):
    data = fixture("line", "message_text")
    data["events"][0]["source"]["userId"] = "not-a-line-user-id"  # our side rejects it
    with run_on_commit():
        post_line(provider_client, line_account, data)
    event = WebhookEvent.objects.get()
    assert event.status == "failed"
    assert "not a LINE user id" in event.failure_reason
    # Retrying a failed event that still fails keeps it failed (and counts the attempt).
    with run_on_commit():
        response = api.post(f"/api/channels/webhook-events/{event.pk}/retry")
    assert response.status_code == 202
    event.refresh_from_db()
    assert event.status == "failed" and event.attempts == 2
    # "The fix": the body is what LINE sent, so here we repair the stored copy as an operator would.
    event.body = as_body(fixture("line", "message_text"))
    event.save()
    with run_on_commit():
        api.post(f"/api/channels/webhook-events/{event.pk}/retry")
    event.refresh_from_db()
    assert event.status == "processed"
    assert Message.objects.count() == 1
    assert api.post(f"/api/channels/webhook-events/{event.pk}/retry").status_code == 409


def test_one_bad_event_in_a_batch_fails_alone(provider_client, line_account, run_on_commit):
    from samphan.channels.processing import process_pending
    from tests.channels.helpers import line_text_event

    good1 = {"events": [line_text_event(event_id="E1", message_id="1", text="one")]}
    bad = {"events": [line_text_event(event_id="E2", message_id="2", user_id="U-bogus")]}
    good2 = {"events": [line_text_event(event_id="E3", message_id="3", text="three")]}
    # Stored without running the task, then processed as one batch.
    for data in (good1, bad, good2):
        assert post_line(provider_client, line_account, data).status_code == 200
    result = process_pending()
    assert (result.claimed, result.processed, result.failed) == (3, 2, 1)
    assert sorted(Message.objects.values_list("text", flat=True)) == ["one", "three"]
    assert WebhookEvent.objects.get(status="failed").failure_reason.startswith("'U-bogus'")


def test_line_verify_request_with_no_events(provider_client, line_account, run_on_commit):
    with run_on_commit():
        assert post_line(provider_client, line_account, fixture("line", "verify")).status_code == 200
    assert WebhookEvent.objects.get().status == "processed"


def test_facebook_handshake(provider_client, facebook_account):
    url = f"/webhooks/facebook/{facebook_account.uuid}"
    ok = provider_client.get(url, {"hub.mode": "subscribe", "hub.verify_token": FB_VERIFY_TOKEN,
                                   "hub.challenge": "1158201444"})
    assert ok.status_code == 200 and ok.content == b"1158201444"
    bad = provider_client.get(url, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "x"})
    assert bad.status_code == 403
    assert provider_client.get(f"/webhooks/line/{facebook_account.uuid}").status_code == 404


def test_facebook_messages_and_comments(provider_client, facebook_account, run_on_commit):
    with run_on_commit():
        for name in ("messenger_text", "messenger_attachment", "messenger_postback", "messenger_echo_and_receipts",
                     "feed_comment"):
            assert post_facebook(provider_client, facebook_account, fixture("facebook", name)).status_code == 200
    assert set(WebhookEvent.objects.values_list("status", flat=True)) == {"processed"}
    kinds = sorted(Message.objects.values_list("kind", flat=True))
    assert kinds == ["comment", "image", "postback", "text"]  # the echo and the receipts are not messages
    messenger = Conversation.objects.get(thread_key="psid:6998871234567890")
    assert messenger.message_count == 3
    comment = Conversation.objects.get(thread_key__startswith="post:")
    assert comment.customer.display_name == "Napat Srisuk"
    assert comment.customer_id != messenger.customer_id  # another id on another surface: not merged silently


def test_facebook_bad_signature(provider_client, facebook_account):
    body = as_body(fixture("facebook", "messenger_text"))
    assert post_facebook(provider_client, facebook_account, body, signature="sha256=" + "0" * 64).status_code == 401
    assert post_facebook(provider_client, facebook_account, body, signature="sha1=abc").status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_facebook_malformed_kept_as_failed(provider_client, facebook_account, run_on_commit):
    with run_on_commit():
        post_facebook(provider_client, facebook_account, fixture("facebook", "malformed_message_without_sender"))
    event = WebhookEvent.objects.get()
    assert event.status == "failed"
    assert event.failure_reason == "entry 0 messaging 0: sender.id is missing"


def test_webhook_events_are_admin_only_and_scoped(api, line_account, other_workspace):
    from django.test import Client

    from samphan.accounts.services import api_token_create
    from tests.factories import MembershipFactory

    staff = MembershipFactory(workspace=line_account.workspace, role="staff").user
    _, token = api_token_create(user=staff, workspace=line_account.workspace)
    staff_api = Client(headers={"Authorization": f"Bearer {token}"})
    assert staff_api.get("/api/channels/webhook-events").status_code == 403
    other = MembershipFactory(workspace=other_workspace, role="owner").user
    _, other_token = api_token_create(user=other, workspace=other_workspace)
    other_api = Client(headers={"Authorization": f"Bearer {other_token}"})
    event = WebhookEvent.objects.create(workspace=line_account.workspace, channel_account=line_account, body=b"{}",
                                        status="failed", failure_reason="x")
    assert other_api.post(f"/api/channels/webhook-events/{event.pk}/retry").status_code == 404
    assert other_api.get("/api/channels/webhook-events").json() == []


def test_tasks_are_coalesced_while_enough_are_queued(provider_client, line_account, run_on_commit):
    """A webhook sends a task only when fewer than SAMPHAN_WEBHOOK_PARALLEL are queued or running."""
    from django.core.cache import cache

    from samphan.channels.services import kick_key, kick_slots
    from samphan.channels.tasks import process_webhook_events
    from tests.channels.helpers import line_text_event

    for slot in range(kick_slots()):
        cache.add(kick_key(slot), 1, 30)  # every slot held by a task "in the queue"
    with run_on_commit():
        post_line(provider_client, line_account, {"events": [line_text_event(event_id="E1", message_id="1")]})
    assert WebhookEvent.objects.get().status == "received"  # left to the queued tasks
    # One of those tasks runs: it drains, frees its slot and looks once more.
    assert process_webhook_events(None, 0) == 1
    assert cache.get(kick_key(0)) is None
    assert WebhookEvent.objects.get().status == "processed"
    with run_on_commit():  # a slot is free again: the next webhook sends its own task
        post_line(provider_client, line_account, {"events": [line_text_event(event_id="E2", message_id="2")]})
    assert not WebhookEvent.objects.filter(status="received").exists()
    assert cache.get(kick_key(0)) is None  # released by that task


def test_pull_channels_use_the_same_pipeline(fake_account, run_on_commit, monkeypatch):
    """An adapter that polls (IMAP) hands back bodies that are stored and processed like webhooks."""
    import json as _json

    from samphan.channels.adapters.base import PollBatch
    from samphan.channels.adapters.fake import FakeAdapter
    from samphan.channels.models import ChannelPollState
    from samphan.channels.tasks import poll_account, poll_due

    body = _json.dumps({"events": [{"id": "mail-1", "from": "visitor-9", "text": "polled"}]}).encode()
    monkeypatch.setattr(FakeAdapter, "polls", True)
    monkeypatch.setattr(FakeAdapter, "poll", lambda self, cursor: PollBatch([body], {"seen": cursor.get("seen", 0) + 1}))
    with run_on_commit():
        assert poll_account(fake_account.pk) == 1
    assert WebhookEvent.objects.get().status == "processed"
    assert Message.objects.get().text == "polled"
    assert ChannelPollState.objects.get(channel_account=fake_account).cursor == {"seen": 1}
    # Beat's tick polls it again only once its interval has passed.
    assert poll_due() == []
    ChannelPollState.objects.update(last_polled_at=timezone.now() - timedelta(seconds=61))
    with run_on_commit():
        assert poll_due() == [fake_account.pk]
    assert ChannelPollState.objects.get(channel_account=fake_account).cursor == {"seen": 2}
    assert Message.objects.count() == 1  # the same body again: the same message


def _wsgi(method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
          answer: dict | None = None) -> tuple[str, bytes]:
    """A request through the real WSGI entry point gunicorn serves (config.wsgi.application)."""
    import io

    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    from config.wsgi import application

    environ = {"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "testserver",
               "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.url_scheme": "http",
               "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(), "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/json", "REMOTE_ADDR": "127.0.0.1"}
    environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in (headers or {}).items()})
    started: list[str] = []
    # As Django's test client does: the test's transaction must not be closed between requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        def start_response(status, response_headers, exc_info=None):
            started.append(status)
            if answer is not None:
                answer.update({k.lower(): v for k, v in response_headers})

        result = application(environ, start_response)
        content = b"".join(result)
        getattr(result, "close", lambda: None)()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    return started[0], content


def test_webhooks_are_served_without_the_site_middleware(line_account, run_on_commit):
    body = as_body(fixture("line", "message_text"))
    webhook_headers: dict = {}
    with run_on_commit():
        status, content = _wsgi("POST", f"/webhooks/line/{line_account.uuid}", body,
                                {"x-line-signature": line_signature(LINE_SECRET, body)}, webhook_headers)
    assert (status, content) == ("200 OK", b"OK")
    assert "x-content-type-options" not in webhook_headers and "vary" not in webhook_headers  # no middleware ran
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == body and event.status == "processed" and Message.objects.count() == 1
    assert _wsgi("POST", f"/webhooks/line/{line_account.uuid}", body, {"x-line-signature": "bad"})[0].startswith("401")
    assert WebhookEvent.objects.count() == 1
    # The rest of the site keeps its middleware: a page still gets the security headers.
    page_headers: dict = {}
    status, _ = _wsgi("GET", "/healthz", answer=page_headers)
    assert status.startswith("200") and page_headers.get("x-content-type-options") == "nosniff"


def test_background_enqueue_coalesces_and_never_misses_a_later_commit(monkeypatch):
    """`samphan serve` enqueues from one thread per process: the 200 waits for no cache or broker,
    calls made while one runs collapse into one more, and a kick after a call began gets its own call."""
    import threading

    from samphan.channels import services

    calls: list[str] = []
    entered, release, done = threading.Event(), threading.Event(), threading.Semaphore(0)

    def recording_enqueue(event_id):
        calls.append(threading.current_thread().name)
        entered.set()
        release.wait(10)
        done.release()

    monkeypatch.setenv("SAMPHAN_WEBHOOK_ENQUEUE", "background")
    monkeypatch.setattr(services, "webhook_enqueue", recording_enqueue)
    services.webhook_enqueue_soon(1)
    assert entered.wait(10)  # the first call is running (and blocked)
    for n in range(2, 7):
        services.webhook_enqueue_soon(n)  # five events committed while it runs
    release.set()
    assert done.acquire(timeout=10) and done.acquire(timeout=10)  # … and exactly one more call for them
    assert not done.acquire(timeout=0.3)
    assert calls == ["samphan-webhook-enqueue"] * 2
    monkeypatch.delenv("SAMPHAN_WEBHOOK_ENQUEUE")
    services.webhook_enqueue_soon(7)  # the default: at once, in the caller's thread
    assert calls[-1] == threading.current_thread().name


@pytest.mark.django_db(transaction=True)
def test_a_webhook_after_the_database_dropped_the_connection_is_stored(line_account):
    """The webhook path skips the per-request health check; a dead connection is replaced by the INSERT."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("terminating a server connection needs PostgreSQL")
    import psycopg

    body = as_body(fixture("line", "message_text"))
    headers = {"x-line-signature": line_signature(LINE_SECRET, body)}
    assert _wsgi("POST", f"/webhooks/line/{line_account.uuid}", body, headers)[0] == "200 OK"
    connection.ensure_connection()
    victim = connection.connection.info.backend_pid
    settings_dict = connection.settings_dict
    with psycopg.connect(host=settings_dict["HOST"], port=settings_dict["PORT"], user=settings_dict["USER"],
                         password=settings_dict["PASSWORD"] or None, dbname=settings_dict["NAME"],
                         autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [victim])
    status, _ = _wsgi("POST", f"/webhooks/line/{line_account.uuid}", body, headers)
    assert status == "200 OK"
    assert WebhookEvent.objects.count() == 2
