"""Sending one outbound message: at most once, retried with backoff while that is safe.

The rule that keeps a message from going out twice: a row is moved from
"queued" to "sending" in its own committed transaction (row locked) before the
provider is called, and only a "queued" row is ever sent. A duplicate task
finds "sending" or "sent" and does nothing. After the call the outcome is
written at once: "sent" with the provider's id, back to "queued" with a
`next_attempt_at` (transient error), or "failed" with the reason.

Transient errors (HTTP 5xx/429, connection failures, provider rate limits) are
retried with exponential backoff — 5 s, 10 s, 20 s … capped at 15 min, with
jitter, at most `MAX_ATTEMPTS` attempts. A read timeout may mean the provider
got the message: it is retried only for providers that drop a repeated
idempotency key (LINE push with X-Line-Retry-Key); for others it is recorded as
failed, delivery unknown, rather than risk a duplicate.

A worker killed during the provider call leaves the row "sending"; the sweep
marks such rows failed after `STALE_SENDING` (or re-queues them where the
provider deduplicates and no one-time reply token was spent).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from samphan.channels.adapters import get_adapter
from samphan.channels.adapters.base import OutboundPayload, PermanentSendError, TransientSendError
from samphan.channels.models import ChannelAccount, OutboundMessage
from samphan.core.errors import SamphanError

logger = logging.getLogger("samphan.channels")

MAX_ATTEMPTS = 8
BASE_DELAY = 5.0
MAX_DELAY = 900.0
STALE_SENDING = timedelta(minutes=10)
Status = OutboundMessage.Status


@dataclass
class Attempt:
    outcome: str  # sent / retry / failed / skipped
    delay: float | None = None
    reason: str = ""


def backoff_delay(attempts: int, retry_after: float | None = None) -> float:
    if retry_after is not None:
        return min(max(retry_after, 1.0), MAX_DELAY)
    delay = min(BASE_DELAY * (2 ** max(attempts - 1, 0)), MAX_DELAY)
    return delay * random.uniform(0.8, 1.2)  # jitter: retries of a burst do not arrive together


def _claim(outbound_id: int) -> tuple[OutboundMessage, str] | None:
    now = timezone.now()
    with transaction.atomic():
        row = OutboundMessage.objects.select_for_update().filter(pk=outbound_id).first()
        if row is None or row.status != Status.QUEUED:
            return None
        if row.next_attempt_at and row.next_attempt_at > now + timedelta(seconds=1):
            return None  # an early duplicate of a scheduled retry: the scheduled one will come
        reply_token = row.reply_token
        row.status, row.sending_started_at = Status.SENDING, now
        row.attempts += 1
        row.reply_token = ""  # a reply token works once: never offered to a second attempt
        row.method = "reply" if reply_token else ""
        row.save(update_fields=["status", "sending_started_at", "attempts", "reply_token", "method"])
    return row, reply_token


def _finish(row: OutboundMessage, **fields) -> None:
    OutboundMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(**fields)
    for name, value in fields.items():
        setattr(row, name, value)


def outbound_attempt(outbound_id: int) -> Attempt:
    claimed = _claim(outbound_id)
    if claimed is None:
        return Attempt("skipped")
    row, reply_token = claimed
    now = timezone.now
    adapter = None
    try:
        account = ChannelAccount.objects.get(pk=row.channel_account_id)
        adapter = get_adapter(account)
        payload = OutboundPayload(to=row.to, text=row.payload.get("text", ""),
                                  attachments=row.payload.get("attachments", []),
                                  reply_token=reply_token, comment_id=row.payload.get("comment_id", ""),
                                  context=row.payload.get("context") or {})
        result = adapter.send(payload, idempotency_key=row.idempotency_key)
    except TransientSendError as exc:
        if exc.ambiguous and not getattr(adapter, "dedupes_retries", False):
            reason = f"{exc.reason} — the provider may have received it; not retried, to avoid a duplicate"
            _finish(row, status=Status.FAILED, last_error=reason, failed_at=now())
            return Attempt("failed", reason=reason)
        if row.attempts >= MAX_ATTEMPTS:
            reason = f"{exc.reason} (gave up after {row.attempts} attempts)"
            _finish(row, status=Status.FAILED, last_error=reason, failed_at=now())
            return Attempt("failed", reason=reason)
        delay = backoff_delay(row.attempts, exc.retry_after)
        _finish(row, status=Status.QUEUED, last_error=exc.reason, next_attempt_at=now() + timedelta(seconds=delay))
        logger.info("outbound %s: %s; retry %d in %.0f s", row.pk, exc.reason, row.attempts + 1, delay)
        return Attempt("retry", delay=delay, reason=exc.reason)
    except PermanentSendError as exc:
        _finish(row, status=Status.FAILED, last_error=exc.reason, failed_at=now())
        return Attempt("failed", reason=exc.reason)
    except SamphanError as exc:  # secrets unreadable, unknown provider
        _finish(row, status=Status.FAILED, last_error=exc.message, failed_at=now())
        return Attempt("failed", reason=exc.message)
    except Exception as exc:
        # A bug, not the provider: we cannot know whether it was sent, so it is not retried.
        logger.exception("outbound %s: unexpected error while sending", row.pk)
        reason = f"unexpected error ({type(exc).__name__}); not retried"
        _finish(row, status=Status.FAILED, last_error=reason, failed_at=now())
        return Attempt("failed", reason=reason)
    _finish(row, status=Status.SENT, provider_message_id=result.provider_message_id[:255],
            method=result.method, sent_at=now(), last_error="")
    return Attempt("sent")


def outbound_sweep() -> dict[str, int]:
    """Requeue what a lost task or a killed worker left behind. Safe to run any time."""
    from samphan.channels.services import outbound_dispatch

    now = timezone.now()
    due = list(OutboundMessage.objects.filter(status=Status.QUEUED).exclude(next_attempt_at__gt=now)
               .filter(created_at__lt=now - timedelta(seconds=30)).values_list("pk", flat=True)[:1000])
    for pk in due:
        outbound_dispatch(pk)
    stale = 0
    for row in OutboundMessage.objects.filter(status=Status.SENDING, sending_started_at__lt=now - STALE_SENDING):
        account = ChannelAccount.objects.get(pk=row.channel_account_id)
        if get_adapter(account).dedupes_retries and row.method != "reply":
            updated = OutboundMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
                status=Status.QUEUED, last_error="interrupted while sending; retried with the same idempotency key")
            if updated:
                outbound_dispatch(row.pk)
        else:
            OutboundMessage.objects.filter(pk=row.pk, status=Status.SENDING).update(
                status=Status.FAILED, failed_at=now,
                last_error="interrupted while sending; delivery unknown, not retried to avoid a duplicate")
        stale += 1
    return {"requeued": len(due), "stale": stale}


def outbound_apply_delivery_reports(account: ChannelAccount, events: list) -> int:
    """An inbound consumer: delivery reports ("delivery" events) update the outbound message they name.

    Matched by the provider's message id on this channel account; a report
    older than the one already applied changes nothing (reports can arrive out
    of order or twice). A report for a message we did not send (one sent from
    the provider's dashboard) is kept in the webhook log only.
    """
    applied = 0
    for event in sorted((e for e in events if e.kind == "delivery" and e.external_id), key=lambda e: e.occurred_at):
        status = str(event.meta.get("status") or "")[:16]
        detail = " ".join(str(event.meta.get(k) or "") for k in ("provider_status", "error")).strip()[:500]
        applied += (OutboundMessage.objects
                    .filter(channel_account=account, provider_message_id=event.external_id)
                    .exclude(delivery_report_at__gt=event.occurred_at)
                    .update(delivery_report=status, delivery_report_detail=detail,
                            delivery_report_at=event.occurred_at))
    return applied
