"""Writes for channels: accounts and their secrets, the webhook store, retries, outbound messages."""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction

from samphan.channels.adapters import adapter_class
from samphan.channels.adapters.base import InboundEvent, OutboundPayload
from samphan.channels.bulk import webhook_insert
from samphan.channels.crypto import SecretsUnavailable, secrets_rotate
from samphan.channels.models import ChannelAccount, OutboundMessage, WebhookEvent
from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed

logger = logging.getLogger("samphan.channels")

# --- accounts ------------------------------------------------------------------------------


def public_base_url() -> str:
    """Where providers reach this install: SAMPHAN_PUBLIC_URL (https://crm.example.com)."""
    return (os.environ.get("SAMPHAN_PUBLIC_URL") or getattr(settings, "SAMPHAN_PUBLIC_URL", "")
            or "http://127.0.0.1:8000").rstrip("/")


def webhook_path(account: ChannelAccount) -> str:
    return adapter_class(account.provider).inbound_path(account)


def webhook_url(account: ChannelAccount) -> str:
    from samphan.channels.adapters import get_adapter

    return public_base_url() + webhook_path(account) + get_adapter(account).webhook_query()


def account_webhook_url(account: ChannelAccount) -> str | None:
    """The URL to give the provider, or None for pull channels (an IMAP mailbox has no webhook)."""
    from samphan.channels.adapters import adapter_class

    return None if adapter_class(account.provider).polls else webhook_url(account)


def embed_snippet(account: ChannelAccount) -> str:
    """What a site pastes to use the channel (web chat's script tag); "" for other providers."""
    return adapter_class(account.provider).embed_snippet(account, public_base_url())


@transaction.atomic
def channel_account_create(*, workspace: Any, provider: str, name: str, secrets: dict[str, Any],
                           config: dict[str, Any] | None = None, actor: Any = None,
                           via: str = "system") -> ChannelAccount:
    cls = adapter_class(provider)
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("a channel account needs a name")
    config = cls.clean_config({k: v for k, v in (config or {}).items() if v not in (None, "")})
    unknown = set(secrets) - set(cls.secret_fields)
    if unknown:
        raise ValidationFailed(f"unknown secrets for {provider}: {', '.join(sorted(unknown))}")
    secrets = {k: v for k, v in secrets.items() if v not in (None, "")}
    cls.prepare_settings(secrets=secrets, config=config)
    problems = cls.validate_settings(secrets=secrets, config=config)
    if problems:
        raise ValidationFailed("; ".join(problems), details=problems)
    account = ChannelAccount(workspace_id=getattr(workspace, "pk", workspace), provider=provider, name=name,
                             config=config,
                             created_by=actor if getattr(actor, "is_authenticated", False) else None)
    account.set_secrets(secrets)
    account.save()
    # The audit log names which secrets were set, never their values.
    audit_record(workspace=workspace, action="channel.created", actor=actor, via=via, target=account,
                 summary=f"{cls.label or provider}: {name}",
                 changes={"provider": provider, "secrets_set": sorted(k for k, v in secrets.items() if v),
                          "config": config})
    return account


@transaction.atomic
def channel_account_update(*, account: ChannelAccount, name: str | None = None,
                           secrets: dict[str, Any] | None = None, config: dict[str, Any] | None = None,
                           is_active: bool | None = None, actor: Any = None, via: str = "system") -> ChannelAccount:
    account = ChannelAccount.objects.select_for_update().get(pk=account.pk)
    changes: dict[str, Any] = {}
    if name is not None and name.strip() and name.strip() != account.name:
        changes["name"] = [account.name, name.strip()]
        account.name = name.strip()
    if config is not None:
        merged = {**account.config, **config}
        merged = adapter_class(account.provider).clean_config(
            {k: v for k, v in merged.items() if v not in (None, "")})
        if merged != account.config:
            changes["config"] = [account.config, merged]
            account.config = merged
    if secrets:
        cls = adapter_class(account.provider)
        unknown = set(secrets) - set(cls.secret_fields)
        if unknown:
            raise ValidationFailed(f"unknown secrets for {account.provider}: {', '.join(sorted(unknown))}")
        try:
            current = account.secrets
        except SecretsUnavailable:
            # Encrypted with a key this install no longer has: what is typed now replaces them all.
            current = {}
        account.set_secrets({**current, **secrets})
        changes["secrets_set"] = sorted(k for k, v in secrets.items() if v)
        if cleared := sorted(k for k, v in secrets.items() if v in (None, "")):
            changes["secrets_cleared"] = cleared
    if "config" in changes or secrets:
        # The same checks as when the account was created: an edit cannot leave it unusable.
        try:
            stored = account.secrets
        except SecretsUnavailable:
            stored = {}
        problems = adapter_class(account.provider).validate_settings(secrets=stored, config=account.config)
        if problems:
            raise ValidationFailed("; ".join(problems), details=problems)
    if is_active is not None and is_active != account.is_active:
        changes["is_active"] = [account.is_active, is_active]
        account.is_active = is_active
    if changes:
        account.save()
        audit_record(workspace=account.workspace_id, action="channel.updated", actor=actor, via=via,
                     target=account, summary=account.name, changes=changes)
    return account


def channel_secrets_rotate_all() -> int:
    """Re-encrypt every account's secrets under the first SAMPHAN_ENCRYPTION_KEY."""
    return secrets_rotate_all()[ChannelAccount._meta.label_lower]


def encrypted_models() -> list[Any]:
    """Every model that keeps Fernet-encrypted secrets in a `secrets_ciphertext` column (channel
    accounts, listening's X sources, whatever a later app adds), so a key rotation misses none."""
    from django.apps import apps

    return [m for m in apps.get_models() if any(f.name == "secrets_ciphertext" for f in m._meta.concrete_fields)]


def secrets_rotate_all() -> dict[str, int]:
    """Re-encrypt the secrets of every row of every encrypted model under the first key:
    {"channels.channelaccount": n, "listening.source": m, …}. Each row is rewritten on its own,
    so a run interrupted half-way can simply be run again (old-key rows still decrypt)."""
    counts: dict[str, int] = {}
    for model in encrypted_models():
        count = 0
        for pk, token in model._default_manager.exclude(secrets_ciphertext="").values_list("pk", "secrets_ciphertext"):
            model._default_manager.filter(pk=pk).update(secrets_ciphertext=secrets_rotate(token))
            count += 1
        counts[model._meta.label_lower] = count
    return counts


# --- the webhook store -------------------------------------------------------------------------


def webhook_store(*, account: ChannelAccount, body: bytes, headers: Mapping[str, str],
                  adapter: Any = None) -> WebhookEvent:
    """Keep a verified webhook body and queue it for processing once the row is committed.

    A body the adapter cannot even read (not JSON, for most providers) is kept
    too, already failed with its reason, so an admin sees it (and can retry it
    after a fix) — never a 500, never dropped.
    """
    from samphan.channels.adapters import get_adapter

    adapter = adapter or get_adapter(account)
    status, reason = WebhookEvent.Status.RECEIVED, ""
    if problem := adapter.precheck(body):
        status, reason = WebhookEvent.Status.FAILED, problem
    # One INSERT, committed on its own (autocommit): the event is durable before the 200.
    event = WebhookEvent(workspace_id=account.workspace_id, channel_account_id=account.pk, body=body,
                         headers=adapter.selected_headers(headers), status=status, failure_reason=reason)
    event.pk = webhook_insert(event)
    if status == WebhookEvent.Status.RECEIVED:
        # At once in autocommit; after the enclosing transaction commits if there is one.
        transaction.on_commit(lambda: webhook_enqueue_soon(event.pk))
    if status == WebhookEvent.Status.FAILED:
        logger.warning("webhook %s for channel %s kept as failed: %s", event.pk, account.pk, reason)
    return event


POLL_LOCK_TTL = 300  # seconds: a poll that died frees its account after this


def poll_lock_key(account_id: int) -> str:
    return f"samphan:channels:poll:{account_id}"


def channel_poll(*, account: ChannelAccount) -> list[WebhookEvent]:
    """Pull channels (an IMAP mailbox): what the adapter fetched goes through the webhook pipeline.

    The adapter's poll(cursor) returns raw bodies it has already authenticated
    (it logged in to fetch them) and where to resume; each body is stored like
    a verified webhook and processed by the same worker path, with the same
    dedupe keys. The bodies and the new cursor are committed together, so a
    poll that dies half-way fetches the same mail next time (and the dedupe key
    keeps it one message). One poll per account at a time (a cache lock, not a
    database lock: the IMAP round trips must not hold SQLite's write lock).
    A failure (login refused, server down) is recorded on the poll state and
    raised as a ValidationFailed with the reason.
    """
    from django.core.cache import cache
    from django.utils import timezone

    from samphan.channels.adapters import get_adapter
    from samphan.channels.adapters.base import SendError
    from samphan.channels.models import ChannelPollState

    adapter = get_adapter(account)
    if not adapter.polls:
        raise ValidationFailed(f"{account.provider} channels are not polled; they call their webhook")
    lock = poll_lock_key(account.pk)
    if not cache.add(lock, 1, POLL_LOCK_TTL):
        logger.info("channel %s is being polled already; skipped", account.pk)
        return []
    try:
        state, _ = ChannelPollState.objects.get_or_create(channel_account=account,
                                                          defaults={"workspace_id": account.workspace_id})
        started = timezone.now()
        try:
            batch = adapter.poll(dict(state.cursor))
        except SendError as exc:
            ChannelPollState.objects.filter(pk=state.pk).update(last_polled_at=started, last_error=exc.reason[:2000])
            logger.warning("polling channel %s failed: %s", account.pk, exc.reason)
            raise ValidationFailed(f"polling {account.name} failed: {exc.reason}") from None
        with transaction.atomic():
            events = [webhook_store(account=account, body=body, headers={}, adapter=adapter) for body in batch.bodies]
            ChannelPollState.objects.filter(pk=state.pk).update(
                cursor=batch.cursor, last_polled_at=started, last_success_at=timezone.now(), last_error="",
                last_fetched=len(events))
        return events
    finally:
        cache.delete(lock)


def channel_poll_due(*, now: Any = None) -> list[int]:
    """Active pull-channel accounts whose poll interval has passed since their last poll (for beat)."""
    from django.utils import timezone

    from samphan.channels.adapters import adapter_class, adapter_paths

    now = now or timezone.now()
    providers = [p for p in adapter_paths() if adapter_class(p).polls]
    due = []
    for account in (ChannelAccount.objects.filter(is_active=True, provider__in=providers)
                    .select_related("poll_state")):
        state = getattr(account, "poll_state", None)
        interval = adapter_class(account.provider).poll_interval(account.config or {})
        if state is None or state.last_polled_at is None or (now - state.last_polled_at).total_seconds() >= interval:
            due.append(account.pk)
    return due


KICK_TTL = 30  # seconds: a slot whose task died frees itself


def kick_slots() -> int:
    configured: int | str = getattr(settings, "SAMPHAN_WEBHOOK_PARALLEL", 2)
    return max(1, int(os.environ.get("SAMPHAN_WEBHOOK_PARALLEL") or configured))


def kick_key(slot: int) -> str:
    return f"samphan:channels:kick:{slot}"


def webhook_enqueue(event_id: int | None) -> None:
    """Send a processing task for a stored event — unless enough are already queued or running.

    Each task drains every received event in batches, so under load one task
    per webhook would mostly find nothing to do (and the broker round trip is
    most of a webhook's cost). A task holds one of `kick_slots()` cache slots
    from the moment it is sent until it has drained the queue; a webhook that
    finds every slot taken relies on those tasks, which look once more after
    releasing their slot, so no event is left behind. If the broker or the
    cache is down the event stays "received" for the worker's start-up sweep
    (or `samphan channels sweep`).
    """
    from django.core.cache import cache

    from samphan.channels.tasks import process_webhook_events

    try:
        keys = [kick_key(i) for i in range(kick_slots())]
        held = cache.get_many(keys)  # one round trip: under load every slot is usually held
        slot = next((i for i, key in enumerate(keys) if key not in held and cache.add(key, 1, KICK_TTL)), None)
    except Exception:
        logger.exception("cache unavailable; sending a task for webhook event %s anyway", event_id)
        slot = -1
    if slot is None:
        return
    try:
        process_webhook_events.delay(event_id, slot if slot >= 0 else None)
    except Exception:
        logger.exception("could not queue webhook event %s; the worker's sweep will pick it up", event_id)
        if slot >= 0:
            cache.delete(kick_key(slot))


def webhook_enqueue_soon(event_id: int) -> None:
    """What a stored webhook does after its commit: webhook_enqueue, at once — or, in the web server
    (`samphan serve` sets SAMPHAN_WEBHOOK_ENQUEUE=background), from one thread per process that
    coalesces the requests' calls, so the acknowledgement waits for no cache or broker round trip.

    The thread's next call always starts after the event's commit (the flag is set after the
    commit and cleared before the call), so every stored event is followed by a webhook_enqueue
    that can see it — the guarantee the direct call gives. A process killed between the 200 and
    that call leaves the event "received" for the worker's sweep, like a broker outage does.
    """
    if (os.environ.get("SAMPHAN_WEBHOOK_ENQUEUE") or getattr(settings, "SAMPHAN_WEBHOOK_ENQUEUE", "")) != "background":
        webhook_enqueue(event_id)
        return
    _background_kicker().set()


_kicker: tuple[int, threading.Event] | None = None
_kicker_lock = threading.Lock()


def _background_kicker() -> threading.Event:
    global _kicker
    kicker = _kicker
    if kicker is not None and kicker[0] == os.getpid():
        return kicker[1]
    with _kicker_lock:  # first use in this process (gunicorn forks its workers after import)
        if _kicker is None or _kicker[0] != os.getpid():
            flag = threading.Event()
            threading.Thread(target=_kick_loop, args=(flag,), name="samphan-webhook-enqueue", daemon=True).start()
            _kicker = (os.getpid(), flag)
        return _kicker[1]


def _kick_loop(flag: threading.Event) -> None:
    from django.db import close_old_connections

    while True:
        flag.wait()
        flag.clear()
        try:
            webhook_enqueue(None)
        except Exception:  # never let the thread die: the next webhook would find nobody to kick
            logger.exception("background webhook enqueue failed; the worker's sweep will pick the events up")
        finally:
            close_old_connections()


def kick_release(slot: int | None) -> None:
    from django.core.cache import cache

    if slot is None:
        return
    try:
        cache.delete(kick_key(slot))
    except Exception:
        logger.exception("could not release webhook slot %s; it expires in %s s", slot, KICK_TTL)


def kick_reset() -> None:
    """Forget every slot (at worker start: tasks of a killed worker will not run soon)."""
    for slot in range(kick_slots()):
        kick_release(slot)


@transaction.atomic
def webhook_event_retry(*, event: WebhookEvent, actor: Any = None, via: str = "system") -> WebhookEvent:
    event = WebhookEvent.objects.select_for_update().get(pk=event.pk)
    if event.status != WebhookEvent.Status.FAILED:
        raise Conflict(f"only failed events can be retried (this one is {event.status})")
    previous = event.failure_reason
    event.status, event.failure_reason, event.processed_at = WebhookEvent.Status.RECEIVED, "", None
    event.save(update_fields=["status", "failure_reason", "processed_at"])
    audit_record(workspace=event.workspace_id, action="webhook.retried", actor=actor, via=via, target=event,
                 summary=f"webhook #{event.pk}", changes={"previous_reason": previous[:500]})
    transaction.on_commit(lambda: webhook_enqueue(event.pk))
    return event


@transaction.atomic
def webhook_events_retry_failed(*, account: ChannelAccount, actor: Any = None, via: str = "system") -> int:
    """Process every failed event of one channel account again (after a fix): one audit entry, one task."""
    ids = list(WebhookEvent.objects.select_for_update()
               .filter(channel_account=account, status=WebhookEvent.Status.FAILED).values_list("pk", flat=True))
    if not ids:
        return 0
    WebhookEvent.objects.filter(pk__in=ids).update(status=WebhookEvent.Status.RECEIVED, failure_reason="",
                                                   processed_at=None)
    audit_record(workspace=account.workspace_id, action="webhook.retried_all", actor=actor, via=via, target=account,
                 summary=f"{len(ids)} failed webhook events of {account.name}", changes={"events": ids[:1000]})
    # Each task drains every received event, so one is enough.
    transaction.on_commit(lambda: webhook_enqueue(ids[0]))
    return len(ids)


# --- who consumes inbound events -----------------------------------------------------------------

# fn(account, events) runs inside the processing transaction; the inbox registers
# one (conversations), later apps (listening, loyalty) may add theirs.
INBOUND_CONSUMERS: list[Callable[[ChannelAccount, list[InboundEvent]], Any]] = []


def register_inbound_consumer(fn: Callable[[ChannelAccount, list[InboundEvent]], Any]) -> Callable:
    if fn not in INBOUND_CONSUMERS:
        INBOUND_CONSUMERS.append(fn)
    return fn


# --- outbound ----------------------------------------------------------------------------------


def outbound_enqueue(*, account: ChannelAccount, to: str, payload: OutboundPayload | dict[str, Any],
                     idempotency_key: str | None = None, reply_token: str = "") -> tuple[OutboundMessage, bool]:
    """Create the outbound row (or find the one with this idempotency key) and send it after commit.

    Returns (message, created). The caller's transaction decides: if it rolls
    back, nothing is sent.
    """
    data = payload if isinstance(payload, dict) else {"text": payload.text, "attachments": payload.attachments,
                                                         "comment_id": payload.comment_id,
                                                         "context": payload.context}
    key = idempotency_key or uuid.uuid4().hex
    existing = OutboundMessage.objects.filter(idempotency_key=key).first()
    if existing is not None:
        if existing.workspace_id != account.workspace_id:
            raise Conflict("this idempotency key is already in use")
        return existing, False
    try:
        with transaction.atomic():
            message = OutboundMessage.objects.create(
                workspace_id=account.workspace_id, channel_account=account, idempotency_key=key, to=to,
                payload={k: v for k, v in data.items() if v}, reply_token=reply_token or "",
            )
    except IntegrityError:
        existing = OutboundMessage.objects.get(idempotency_key=key)
        if existing.workspace_id != account.workspace_id:
            raise Conflict("this idempotency key is already in use") from None
        return existing, False
    transaction.on_commit(lambda: outbound_dispatch(message.pk))
    return message, True


def outbound_dispatch(outbound_id: int, countdown: float | None = None) -> None:
    from samphan.channels.tasks import send_outbound

    try:
        if countdown:
            send_outbound.apply_async((outbound_id,), countdown=countdown)
        else:
            send_outbound.delay(outbound_id)
    except Exception:
        logger.exception("could not queue outbound message %s; the sweep will send it", outbound_id)
