"""Outbound messages: after commit, exactly once, retried with backoff while that is safe."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from samphan.channels.adapters import fake
from samphan.channels.models import OutboundMessage
from samphan.channels.outbound import MAX_ATTEMPTS, backoff_delay, outbound_attempt, outbound_sweep
from samphan.channels.services import outbound_enqueue
from samphan.channels.tasks import send_outbound

pytestmark = pytest.mark.django_db


def _script(account, *modes):
    account.config = {**account.config, "fail": list(modes)}
    account.save()


def test_sent_only_after_commit(fake_account, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        message, created = outbound_enqueue(account=fake_account, to="visitor-1", payload={"text": "hi"})
    assert created and message.status == "queued"
    assert fake.OUTBOX == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.status == "sent" and message.provider_message_id == "fake-1" and message.attempts == 1
    assert len(fake.OUTBOX) == 1


def test_same_idempotency_key_is_one_message(fake_account, run_on_commit):
    with run_on_commit():
        first, created1 = outbound_enqueue(account=fake_account, to="v", payload={"text": "hi"}, idempotency_key="K")
        second, created2 = outbound_enqueue(account=fake_account, to="v", payload={"text": "hi"},
                                            idempotency_key="K")
    assert (created1, created2) == (True, False) and first.pk == second.pk
    assert len(fake.OUTBOX) == 1


def test_a_redelivered_task_never_sends_twice(fake_account, run_on_commit):
    with run_on_commit():
        message, _ = outbound_enqueue(account=fake_account, to="v", payload={"text": "hi"})
    assert send_outbound(message.pk) == "skipped"
    assert send_outbound(message.pk) == "skipped"
    assert len(fake.OUTBOX) == 1


def test_a_row_being_sent_is_not_picked_up_again(fake_account):
    message = OutboundMessage.objects.create(workspace=fake_account.workspace, channel_account=fake_account,
                                             idempotency_key="x", to="v", payload={"text": "hi"},
                                             status="sending", sending_started_at=timezone.now())
    assert outbound_attempt(message.pk).outcome == "skipped"
    assert fake.OUTBOX == []


def test_transient_errors_back_off_then_send(fake_account, django_capture_on_commit_callbacks):
    _script(fake_account, "transient", "transient")
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = outbound_enqueue(account=fake_account, to="v", payload={"text": "hi"})
    before = timezone.now()
    first = outbound_attempt(message.pk)
    assert first.outcome == "retry" and 4 <= first.delay <= 6
    message.refresh_from_db()
    assert message.status == "queued" and message.last_error == "scripted transient failure"
    assert message.next_attempt_at >= before + timedelta(seconds=4)
    # An early duplicate of the scheduled retry does nothing.
    assert outbound_attempt(message.pk).outcome == "skipped"
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    second = outbound_attempt(message.pk)
    assert second.outcome == "retry" and 8 <= second.delay <= 12
    OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
    assert outbound_attempt(message.pk).outcome == "sent"
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 3, "")
    assert len(fake.OUTBOX) == 1


def test_gives_up_after_max_attempts(fake_account, django_capture_on_commit_callbacks):
    _script(fake_account, *["transient"] * MAX_ATTEMPTS)
    with django_capture_on_commit_callbacks(execute=False):
        message, _ = outbound_enqueue(account=fake_account, to="v", payload={"text": "hi"})
    for _ in range(MAX_ATTEMPTS):
        OutboundMessage.objects.filter(pk=message.pk).update(next_attempt_at=None)
        outcome = outbound_attempt(message.pk)
    assert outcome.outcome == "failed" and f"after {MAX_ATTEMPTS} attempts" in outcome.reason
    message.refresh_from_db()
    assert message.status == "failed" and message.failed_at is not None


def test_permanent_error_fails_at_once(fake_account, run_on_commit):
    _script(fake_account, "permanent")
    with run_on_commit():
        message, _ = outbound_enqueue(account=fake_account, to="v", payload={"text": "hi"})
    message.refresh_from_db()
    assert (message.status, message.last_error, message.attempts) == ("failed", "scripted permanent failure", 1)


def test_ambiguous_failure_is_not_retried_without_provider_dedupe(fake_account, run_on_commit):
    _script(fake_account, "ambiguous")
    with run_on_commit():
        message, _ = outbound_enqueue(account=fake_account, to="v", payload={"text": "hi"})
    message.refresh_from_db()
    assert message.status == "failed" and "not retried, to avoid a duplicate" in message.last_error


def test_backoff_grows_and_honours_retry_after():
    assert 4 <= backoff_delay(1) <= 6
    assert 32 <= backoff_delay(4) <= 48
    assert backoff_delay(30) <= 900 * 1.2
    assert backoff_delay(1, retry_after=120) == 120


def test_sweep_handles_stuck_rows(fake_account, line_account):
    old = timezone.now() - timedelta(hours=1)
    stuck_fake = OutboundMessage.objects.create(workspace=fake_account.workspace, channel_account=fake_account,
                                                idempotency_key="a", to="v", payload={"text": "x"},
                                                status="sending", sending_started_at=old)
    stuck_push = OutboundMessage.objects.create(workspace=line_account.workspace, channel_account=line_account,
                                                idempotency_key="b", to="U1", payload={"text": "x"},
                                                status="sending", sending_started_at=old)
    stuck_reply = OutboundMessage.objects.create(workspace=line_account.workspace, channel_account=line_account,
                                                 idempotency_key="c", to="U1", payload={"text": "x"},
                                                 status="sending", sending_started_at=old, method="reply")
    lost = OutboundMessage.objects.create(workspace=fake_account.workspace, channel_account=fake_account,
                                          idempotency_key="d", to="v", payload={"text": "lost task"},
                                          created_at=old)
    line_account.config = {"api_base_url": "http://127.0.0.1:9"}
    line_account.save()
    result = outbound_sweep()
    assert result == {"requeued": 1, "stale": 3}
    for row in (stuck_fake, stuck_push, stuck_reply, lost):
        row.refresh_from_db()
    # Delivery unknown where the provider cannot deduplicate (or a one-time reply token was spent)...
    assert stuck_fake.status == "failed" and "delivery unknown" in stuck_fake.last_error
    assert stuck_reply.status == "failed"
    # ...retried with the same LINE retry key where it can (here LINE is unreachable, so queued for later).
    assert stuck_push.status == "queued" and stuck_push.attempts == 1
    assert lost.status == "sent" and fake.OUTBOX[-1]["text"] == "lost task"
