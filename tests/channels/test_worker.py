"""Webhooks processed by a real Celery worker on Redis and PostgreSQL, and a worker killed mid-stream.

Same rules as tests/core/test_worker.py (whose helpers these reuse): skipped
unless the database is PostgreSQL and Redis answers; `SAMPHAN_REQUIRE_WORKER=1`
turns a missing Redis or a worker that does not start into a failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
import uuid

import pytest
from django.db import connection
from django.test import Client

from samphan.channels.models import WebhookEvent
from samphan.channels.services import channel_account_create
from samphan.inbox.models import Conversation, Message
from tests.channels.helpers import LINE_SECRET, LINE_TOKEN, line_text_event, post_line
from tests.core.test_worker import (
    Process,
    _celery_producer,
    _database_url,
    _redis_broker,
    _samphan,
    _subprocess_env,
    _unavailable,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
TIMEOUT = float(os.environ.get("SAMPHAN_TEST_JOB_TIMEOUT", "90"))
KILL_AFTER = 30  # messages processed before the kill


CACHE_URL = os.environ.get("SAMPHAN_TEST_CACHE_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def broker(settings):
    if connection.vendor != "postgresql":
        if os.environ.get("SAMPHAN_REQUIRE_WORKER") == "1":
            _unavailable("these worker tests need PostgreSQL (the worker shares the test database)")
        pytest.skip("the worker shares the test database only on PostgreSQL (make test-pg)")
    url, cleanup = _redis_broker()
    queue = f"samphan-test-{uuid.uuid4().hex[:12]}"
    # Web side and worker share the cache that holds the enqueue slots, as in production.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}}
    from django.core.cache import cache
    from kombu import pools

    from samphan.channels.services import kick_reset

    kick_reset()
    # kombu keeps producer pools per broker URL in a global registry, and _celery_producer closes
    # their connections on exit: forget them before and after, or a later producer on the same
    # URL acquires from a closed pool ("Acquire on closed pool").
    pools.reset()
    with _celery_producer(broker_url=url, queue=queue):
        yield url, queue
    kick_reset()
    cache.close()
    cleanup(queue)
    pools.reset()


def _start_worker(tmp_path, broker_url: str, queue: str, name: str) -> Process:
    from django.conf import settings

    # The worker decrypts channel secrets: it needs the same key as the web side.
    env = _subprocess_env(DATABASE_URL=_database_url(connection.settings_dict), CELERY_BROKER_URL=broker_url,
                          SAMPHAN_VAR_DIR=str(tmp_path / "var"), SECRET_KEY=settings.SECRET_KEY,
                          CACHE_URL=CACHE_URL)
    return Process(_samphan("worker", "--concurrency", "1", "--pool", "solo", "--queues", queue,
                            "--hostname", f"{queue}-{name}@%h"), env=env, log=tmp_path / f"{name}.log")


def _wait(predicate, *, workers: list[Process], what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        for proc in workers:
            if not proc.alive():
                pytest.fail(f"worker exited with {proc.popen.returncode}:\n{proc.output()[-4000:]}")
        time.sleep(0.1)
    logs = "\n".join(p.output()[-3000:] for p in workers)
    pytest.fail(f"timed out waiting for {what}\n{logs}")


def test_webhook_to_inbox_and_reply_through_a_real_worker(tmp_path, broker, workspace, owner_token, httpserver):
    broker_url, queue = broker
    httpserver.expect_request("/v2/bot/message/reply", method="POST").respond_with_json(
        {"sentMessages": [{"id": "900001"}]})
    httpserver.expect_request("/v2/bot/message/push", method="POST").respond_with_json(
        {"sentMessages": [{"id": "900002"}]})
    account = channel_account_create(workspace=workspace, provider="line", name="LINE OA",
                                     secrets={"channel_secret": LINE_SECRET, "access_token": LINE_TOKEN},
                                     config={"api_base_url": httpserver.url_for("")})
    worker = _start_worker(tmp_path, broker_url, queue, "w1")
    try:
        response = post_line(Client(), account, {"events": [line_text_event(
            event_id="01J0WORKER0000000000000001", message_id="1", text="ส่งของวันไหนคะ", reply_token="tok-w")]})
        assert response.status_code == 200
        _wait(lambda: Message.objects.filter(direction="in").exists(), workers=[worker], what="the message")
        conversation = Conversation.objects.get()
        api = Client(headers={"Authorization": f"Bearer {owner_token}"})
        reply = api.post(f"/api/inbox/conversations/{conversation.pk}/reply", data={"text": "พรุ่งนี้ค่ะ"},
                         content_type="application/json")
        assert reply.status_code == 202
        message = Message.objects.get(direction="out")
        _wait(lambda: Message.objects.get(pk=message.pk).outbound.status in ("sent", "failed"), workers=[worker],
              what="the reply to be sent")
    finally:
        leftovers = worker.stop()
    message.outbound.refresh_from_db()
    assert message.outbound.status == "sent", message.outbound.last_error
    assert [(r.path, json.loads(r.data)["replyToken"]) for r, _ in httpserver.log] == [
        ("/v2/bot/message/reply", "tok-w")]
    assert WebhookEvent.objects.get().status == "processed"
    assert leftovers == []


def test_web_chat_visitor_to_inbox_and_reply_through_a_real_worker(tmp_path, broker, workspace, owner_token):
    """The widget's endpoints store the visitor's message; a real worker turns it into the inbox message
    and sends the agent's reply into the visitor's transcript, once."""
    from samphan.channels.models import OutboundMessage, WebchatMessage
    from tests.channels.webchat_helpers import SHOP, get, post, send, widget_client

    broker_url, queue = broker
    account = channel_account_create(workspace=workspace, provider="webchat", name="Website", secrets={},
                                     config={"allowed_origins": [SHOP]})
    worker = _start_worker(tmp_path, broker_url, queue, "wc")
    visitor = widget_client()
    try:
        assert send(visitor, account, "ขอเมนูหน่อยค่ะ", "c1").status_code == 202
        assert send(visitor, account, "ขอเมนูหน่อยค่ะ", "c1").status_code == 200  # re-sent: stored once
        _wait(lambda: Message.objects.filter(direction="in").exists(), workers=[worker], what="the message")
        conversation = Conversation.objects.get()
        api = Client(headers={"Authorization": f"Bearer {owner_token}"})
        for _ in range(2):  # a double click: one reply
            reply = api.post(f"/api/inbox/conversations/{conversation.pk}/reply",
                             data={"text": "ส่งเมนูให้แล้วค่ะ", "idempotency_key": "dbl"},
                             content_type="application/json")
            assert reply.status_code == 202
        _wait(lambda: OutboundMessage.objects.filter(status__in=("sent", "failed")).exists(), workers=[worker],
              what="the reply to be sent")
    finally:
        leftovers = worker.stop()
    outbound = OutboundMessage.objects.get()
    assert outbound.status == "sent", outbound.last_error
    lines = get(visitor, account, "messages").json()["messages"]
    assert [(m["direction"], m["text"]) for m in lines] == [("in", "ขอเมนูหน่อยค่ะ"), ("out", "ส่งเมนูให้แล้วค่ะ")]
    assert post(visitor, account, "seen", {"up_to": lines[-1]["id"]}).json() == {"delivered": 1}
    outbound.refresh_from_db()
    assert outbound.status == "delivered"
    assert Message.objects.filter(direction="in").count() == 1 and WebchatMessage.objects.count() == 2
    assert WebhookEvent.objects.get().status == "processed"
    assert leftovers == []


def test_worker_killed_mid_stream_loses_and_duplicates_nothing(tmp_path, broker, workspace):
    """Kill -9 the worker while a stream of webhooks (with LINE redeliveries) arrives; restart it."""
    broker_url, queue = broker
    account = channel_account_create(workspace=workspace, provider="line", name="LINE OA",
                                     secrets={"channel_secret": LINE_SECRET, "access_token": LINE_TOKEN})
    users = [f"U{n:032x}" for n in range(1, 21)]
    total = 400
    client = Client()

    def send(n: int, *, redelivery: bool = False) -> None:
        event = line_text_event(event_id=f"01J0STREAM{n:016d}", message_id=str(10_000 + n), user_id=users[n % 20],
                                text=f"ข้อความ {n}", redelivery=redelivery)
        assert post_line(client, account, {"events": [event]}).status_code == 200

    first = _start_worker(tmp_path, broker_url, queue, "first")
    second = None
    try:
        sent = 0
        killed_at = None

        def kill_if_busy() -> None:
            nonlocal killed_at
            done = Message.objects.count()
            # Mid-stream: the worker has processed some batches and more events are waiting.
            if done >= KILL_AFTER and WebhookEvent.objects.filter(status="received").exists():
                os.killpg(first.popen.pid, signal.SIGKILL)
                first.popen.wait(10)
                killed_at = (sent, done)

        while sent < total:
            send(sent)
            if sent % 7 == 0 and sent:
                send(sent - 3, redelivery=True)  # LINE redelivers now and then
            sent += 1
            if killed_at is None and sent % 10 == 0:
                kill_if_busy()
            time.sleep(0.002)
        # On a loaded machine the worker (it starts beat too) may still be warming up when the
        # last webhook is in: kill it once it is busy with the backlog instead.
        deadline = time.monotonic() + TIMEOUT
        while killed_at is None and time.monotonic() < deadline:
            kill_if_busy()
            time.sleep(0.05)
        assert killed_at is not None, "the worker never got busy: nothing to kill mid-stream"
        received_while_dead = WebhookEvent.objects.filter(status="received").count()
        second = _start_worker(tmp_path, broker_url, queue, "second")
        _wait(lambda: not WebhookEvent.objects.filter(status="received").exists(), workers=[second],
              what="every webhook event to be processed after the restart")
    finally:
        with contextlib.suppress(Exception):
            first.stop(timeout=5)
        if second is not None:
            second.stop()

    print(f"killed after {killed_at[0]} sent / {killed_at[1]} stored; {received_while_dead} waiting at restart")
    assert received_while_dead > 0
    assert WebhookEvent.objects.filter(status="failed").count() == 0
    texts = list(Message.objects.values_list("text", flat=True))
    assert len(texts) == total, f"lost {total - len(texts)} (killed at {killed_at})"
    assert len(set(texts)) == total, "a message was stored twice"
    assert sum(Conversation.objects.values_list("message_count", flat=True)) == total
    assert Conversation.objects.count() == 20
