"""Turning stored webhook events into inbox messages, in batches, idempotently.

A worker claims up to `BATCH_SIZE` events still "received" (on PostgreSQL with
FOR UPDATE SKIP LOCKED, so several workers share the queue without waiting on
each other), parses them with the account's adapter and hands the normalised
events to the registered consumers (the inbox) in one transaction: a batch is
committed whole or not at all, so a worker killed mid-batch leaves its events
"received" for the next one. Consumers are idempotent (unique keys per channel
account), so an event processed twice — a redelivered task, a LINE
redelivery — never duplicates a message.

A payload the adapter cannot read is marked failed with the adapter's reason.
If a consumer raises on the batch, the batch is retried event by event inside
savepoints, so one bad event fails alone and the rest are processed. Database
availability errors (OperationalError: lost connection, deadlock) are not a
verdict on the event: they propagate and the task retries.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

from django.db import OperationalError, connection, transaction
from django.utils import timezone

from samphan.channels.adapters import get_adapter
from samphan.channels.adapters.base import WEBHOOK_EVENT_REF, InboundEvent, MalformedPayload
from samphan.channels.models import ChannelAccount, WebhookEvent
from samphan.channels.services import INBOUND_CONSUMERS
from samphan.core.errors import SamphanError

logger = logging.getLogger("samphan.channels")

BATCH_SIZE = 500


@dataclass
class BatchResult:
    claimed: int = 0
    processed: int = 0
    failed: int = 0
    events: int = 0


def _claim(limit: int, only: list[int] | None = None) -> list[WebhookEvent]:
    qs = WebhookEvent.objects.filter(status=WebhookEvent.Status.RECEIVED)
    if only is not None:
        qs = qs.filter(pk__in=only)
    qs = qs.order_by("id")
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    return list(qs[:limit])


def _reason(exc: BaseException) -> str:
    """What an admin may read: our own errors' messages; for anything else its type (details in the log)."""
    if isinstance(exc, SamphanError | MalformedPayload):
        return str(getattr(exc, "message", exc))[:2000]
    return f"processing failed ({type(exc).__name__}); the worker's log has the details"


def process_pending(*, limit: int = BATCH_SIZE, only: list[int] | None = None) -> BatchResult:
    """Process one batch of received webhook events. Returns what it did."""
    result = BatchResult()
    with transaction.atomic():
        events = _claim(limit, only)
        result.claimed = len(events)
        if not events:
            return result
        accounts = {a.pk: a for a in ChannelAccount.objects.filter(pk__in={e.channel_account_id for e in events})}
        now = timezone.now()
        by_account: dict[int, list[WebhookEvent]] = defaultdict(list)
        for event in events:
            event.attempts += 1
            by_account[event.channel_account_id].append(event)
        for account_id, account_events in by_account.items():
            _process_account(accounts[account_id], account_events, now, result)
        _save_outcomes(events)
    return result


def _save_outcomes(events: list[WebhookEvent]) -> None:
    """Write each event's outcome: one UPDATE per distinct outcome (usually one for the whole batch)."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    for e in events:
        groups[(e.status, e.failure_reason, e.attempts, e.event_count, e.processed_at)].append(e.pk)
    for (status, reason, attempts, count, processed_at), ids in groups.items():
        WebhookEvent.objects.filter(pk__in=ids).update(status=status, failure_reason=reason, attempts=attempts,
                                                       event_count=count, processed_at=processed_at)


def _fail(event: WebhookEvent, reason: str, now, result: BatchResult) -> None:
    event.status, event.failure_reason, event.processed_at = WebhookEvent.Status.FAILED, reason, now
    result.failed += 1


def _done(event: WebhookEvent, now, result: BatchResult) -> None:
    event.status, event.failure_reason, event.processed_at = WebhookEvent.Status.PROCESSED, "", now
    result.processed += 1


def _process_account(account: ChannelAccount, events: list[WebhookEvent], now, result: BatchResult) -> None:
    adapter = get_adapter(account)
    parsed: list[tuple[WebhookEvent, list[InboundEvent]]] = []
    for event in events:
        try:
            items = adapter.parse(bytes(event.body))
        except MalformedPayload as exc:
            logger.warning("webhook %s (channel %s) is malformed: %s", event.pk, account.pk, exc)
            _fail(event, str(exc), now, result)
            continue
        for item in items:
            item.webhook_event_id = event.pk
            for attachment in item.attachments:
                if WEBHOOK_EVENT_REF in attachment.ref:
                    attachment.ref = attachment.ref.replace(WEBHOOK_EVENT_REF, str(event.pk))
        event.event_count = len(items)
        result.events += len(items)
        parsed.append((event, items))
    if not parsed:
        return
    try:
        with transaction.atomic():
            _consume(account, [item for _, items in parsed for item in items])
    except OperationalError:
        raise
    except Exception:
        logger.exception("batch of %d webhook events for channel %s failed; retrying one by one",
                         len(parsed), account.pk)
    else:
        for event, _ in parsed:
            _done(event, now, result)
        return
    for event, items in parsed:
        try:
            with transaction.atomic():
                _consume(account, items)
        except OperationalError:
            raise
        except Exception as exc:
            logger.exception("webhook %s (channel %s) failed", event.pk, account.pk)
            _fail(event, _reason(exc), now, result)
        else:
            _done(event, now, result)


def _consume(account: ChannelAccount, items: list[InboundEvent]) -> None:
    if not items:
        return
    for consumer in INBOUND_CONSUMERS:
        consumer(account, items)
