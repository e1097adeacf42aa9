"""Channel tasks: process stored webhooks, send outbound messages, sweep what was left behind.

Tasks take ids (or nothing), read fresh rows and are safe to run twice.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from celery.signals import worker_ready
from django.db import OperationalError

from samphan.channels.outbound import outbound_attempt, outbound_sweep
from samphan.channels.processing import BATCH_SIZE, process_pending
from samphan.channels.services import kick_release, kick_reset, webhook_enqueue

logger = logging.getLogger("samphan.channels")

# One task keeps claiming batches while there is work, for at most this long,
# so a burst is processed in a few large transactions instead of one per event.
DRAIN_SECONDS = 10.0


@shared_task(name="channels.process_webhook_events", bind=True, max_retries=None, acks_late=True)
def process_webhook_events(self, event_id: int | None = None, slot: int | None = None) -> int:
    """Process received webhook events, oldest first, in batches (the given one included).

    `slot` is the enqueue slot this task holds (services.webhook_enqueue): it is
    released once the queue is drained, and the queue is looked at once more
    after that, so an event stored while the slot was held is not left behind.
    """
    try:
        total, exhausted = _drain()
        if slot is not None:
            kick_release(slot)
            more, exhausted = _drain()
            total += more
    except OperationalError as exc:  # the database went away or a deadlock: not the event's fault
        kick_release(slot)
        raise self.retry(exc=exc, countdown=min(60, 2 ** min(self.request.retries, 6))) from None
    if not exhausted:
        webhook_enqueue(None)  # out of time with work left: hand over to a fresh task
    return total


def _drain() -> tuple[int, bool]:
    """Claim batches until the queue is empty (True) or DRAIN_SECONDS have passed (False)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    total = 0
    while True:
        result = process_pending(limit=BATCH_SIZE)
        total += result.claimed
        if result.claimed < BATCH_SIZE:
            return total, True
        if time.monotonic() > deadline:
            return total, False


@shared_task(name="channels.send_outbound", acks_late=True)
def send_outbound(outbound_id: int) -> str:
    attempt = outbound_attempt(outbound_id)
    if attempt.outcome == "retry" and not send_outbound.app.conf.task_always_eager:
        # In eager mode (tests) a countdown would run at once; tests drive retries themselves.
        send_outbound.apply_async((outbound_id,), countdown=attempt.delay)
    return attempt.outcome


@shared_task(name="channels.poll_account")
def poll_account(account_id: int) -> int:
    """Fetch new inbound messages of a pull channel (e-mail). A failure is recorded on its poll state."""
    from samphan.channels.models import ChannelAccount
    from samphan.channels.services import channel_poll
    from samphan.core.errors import ValidationFailed

    account = ChannelAccount.objects.filter(pk=account_id, is_active=True).first()
    if account is None:
        return 0
    try:
        return len(channel_poll(account=account))
    except ValidationFailed:
        return 0  # already recorded on the account's poll state and logged; the next tick tries again


@shared_task(name="channels.poll_due")
def poll_due() -> list[int]:
    """Beat's tick (CELERY_BEAT_SCHEDULE): queue a poll for every pull channel whose interval has passed."""
    from samphan.channels.services import channel_poll_due

    due = channel_poll_due()
    for account_id in due:
        poll_account.delay(account_id)
    return due


@shared_task(name="channels.sweep")
def sweep() -> dict:
    """Webhook events still "received" and outbound messages a lost task or a killed worker left."""
    processed = process_webhook_events(None)
    return {"webhook_events": processed, **outbound_sweep()}


@worker_ready.connect
def _sweep_on_start(sender=None, **kwargs) -> None:
    # A worker killed mid-batch leaves its events "received" (its transaction rolled
    # back); the restarted worker picks them up without waiting for new traffic.
    try:
        kick_reset()  # slots held by tasks of a killed worker would otherwise block new ones for a while
        consumed = list(getattr(sweep.app.amqp.queues, "consume_from", None) or [])
        # To a queue this worker consumes (a worker started with --queues may not read the default one).
        sweep.apply_async(queue=consumed[0] if consumed else None)
    except Exception:
        logger.exception("could not queue the start-up sweep")
