"""Inbound channel events → customers, conversations and messages. Registered as a channels consumer.

Runs inside the processing transaction, a batch at a time, with a fixed number
of queries per batch for the common case (known customers, active
conversations): look up dedupe keys, identities and active conversations with
one query each, lock those conversations, insert the messages in one
statement, update the conversations in one statement.

Identity resolution is exact: a sender whose identity (LINE user id, PSID, ...)
is known in the workspace links to that customer; unknown ones get new
customers, the batch's in three INSERTs (customers.services.customers_create_for_identities).
Nobody is
merged here; similar-looking customers are left to duplicate detection.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import asdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from samphan.channels.adapters.base import InboundEvent
from samphan.channels.models import ChannelContact, OutboundMessage
from samphan.customers.identity import normalise_identity
from samphan.customers.models import Identity
from samphan.customers.services import (
    customer_identity_claim,
    customers_create_for_identities,
)
from samphan.inbox.assignment import route
from samphan.inbox.bulk import conversations_write_counters, rows_insert
from samphan.inbox.models import AssignmentRule, Conversation, Message
from samphan.sentiment.workspace import classify_for_workspace
from samphan.sla.clock import sla_context, sla_refresh

logger = logging.getLogger("samphan.inbox")
ACTIVE = (Conversation.Status.OPEN, Conversation.Status.PENDING)
# LINE's reply token lives about a minute from the event; we stop offering it a little earlier.
REPLY_TOKEN_TTL = timedelta(seconds=50)
_CHUNK = 900  # stays under SQLite's bound-parameter limit


def reopen_window() -> timedelta:
    configured: int | str = getattr(settings, "SAMPHAN_INBOX_REOPEN_SECONDS", 0)
    raw = os.environ.get("SAMPHAN_INBOX_REOPEN_SECONDS") or configured
    return timedelta(seconds=int(raw or 0))


def preview_of(kind: str, text: str, attachments: list[Any] | None = None) -> str:
    if text:
        return " ".join(text.split())[:200]
    if kind in ("text", "comment", "postback"):
        return ""
    return f"[{kind}]"


def _chunks(values: list[Any]) -> list[list[Any]]:
    return [values[i:i + _CHUNK] for i in range(0, len(values), _CHUNK)]


# --- customers ------------------------------------------------------------------------


def resolve_customers(*, workspace_id: int, senders: dict[tuple[str, str], str],
                      created: list[int] | None = None) -> dict[tuple[str, str], int]:
    """(identity kind, raw value) → customer id, creating customers for unknown identities.

    Known identities are read in one query per kind; unknown ones are created together
    (customers.services.customers_create_for_identities: customers, identities and
    audit entries in three INSERTs). Ids of customers created are added to `created`.
    """
    normalised: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, value in senders:
        normal = normalise_identity(kind, value)
        normalised[(kind, value)] = (normal.kind, normal.value)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for kind, value in set(normalised.values()):
        by_kind[kind].append(value)
    found: dict[tuple[str, str], int] = {}
    for kind, values in by_kind.items():
        for chunk in _chunks(values):
            for value, customer_id in (Identity.objects.filter(workspace_id=workspace_id, kind=kind, value__in=chunk)
                                       .values_list("value", "customer_id")):
                found[(kind, value)] = customer_id
    unknown: dict[tuple[str, str], str] = {}
    for key, pair in normalised.items():
        if pair not in found:
            unknown[pair] = unknown.get(pair) or senders[key]
    if unknown:
        made = customers_create_for_identities(workspace=workspace_id, wanted=unknown, via="worker")
        found.update(made)
        if created is not None:
            created.extend(made.values())
    return {key: found[pair] for key, pair in normalised.items()}


# --- conversations ----------------------------------------------------------------------


def _reopen(*, account: Any, thread_key: str) -> Conversation | None:
    """The thread's conversation resolved within the reopen window, reopened; else None."""
    window = reopen_window()
    if not window:
        return None
    recent = (Conversation.objects.select_for_update()
              .filter(channel_account=account, thread_key=thread_key, status=Conversation.Status.RESOLVED,
                      resolved_at__gte=timezone.now() - window)
              .order_by("-resolved_at", "-id").first())
    if recent is not None:
        recent.status, recent.reopened_at = Conversation.Status.OPEN, timezone.now()
        recent.save(update_fields=["status", "reopened_at", "updated_at"])
    return recent


def _new_conversation(account: Any, thread_key: str, first: InboundEvent, customer_id: int) -> Conversation:
    return Conversation(workspace_id=account.workspace_id, channel_account=account, customer_id=customer_id,
                        thread_key=thread_key, contact_id=_contact_of(first), status=Conversation.Status.OPEN,
                        last_message_at=first.occurred_at, created_at=first.occurred_at)


def _open_conversations(*, account: Any, firsts: dict[str, InboundEvent], customers: dict[tuple[str, str], int],
                        rules: list[AssignmentRule]) -> dict[str, Conversation]:
    """Active conversations for threads that have none: reopened (within the window) or new, then routed.

    New ones are inserted in one statement; if a concurrent batch opened one of
    the same threads first (the partial unique index says so), they are opened
    one by one, taking the other batch's conversation where it exists.
    """
    opened: dict[str, Conversation] = {}
    for thread_key in firsts:
        reopened = _reopen(account=account, thread_key=thread_key)
        if reopened is not None:
            opened[thread_key] = reopened
    fresh = {t: _new_conversation(account, t, first, customers[(first.sender.kind, first.sender.value)])
             for t, first in firsts.items() if t not in opened}
    if not fresh:
        return opened
    try:
        with transaction.atomic():
            Conversation.objects.bulk_create(list(fresh.values()))
    except IntegrityError:
        for thread_key, conversation in list(fresh.items()):
            try:
                with transaction.atomic():
                    conversation.save(force_insert=True)
            except IntegrityError:
                opened[thread_key] = Conversation.objects.select_for_update().get(
                    channel_account=account, thread_key=thread_key, status__in=ACTIVE)
                del fresh[thread_key]
    ChannelContact.objects.bulk_create(
        [ChannelContact(workspace_id=account.workspace_id, channel_account=account, external_id=c.contact_id,
                        customer_id=c.customer_id, display_name=firsts[t].sender.display_name[:255])
         for t, c in fresh.items()], ignore_conflicts=True)
    for thread_key, conversation in fresh.items():
        rule = route(rules=rules, account=account, text=firsts[thread_key].text) if rules else None
        if rule is not None:
            from samphan.inbox.services import conversation_route_to_team

            conversation_route_to_team(conversation=conversation, team=rule.team, rule=rule)
    return {**opened, **fresh}


def _contact_of(event: InboundEvent) -> str:
    return event.sender.value


# --- the consumer -------------------------------------------------------------------------


def ingest_inbound(account: Any, events: list[InboundEvent]) -> dict[str, int]:
    """Store a batch of normalised events of one channel account. Idempotent."""
    workspace_id = account.workspace_id
    messages: list[InboundEvent] = []
    seen: set[str] = set()
    for event in events:
        if event.is_message and event.dedupe_key not in seen:
            seen.add(event.dedupe_key)
            messages.append(event)
    if messages:
        existing: set[str | None] = set()  # the column is nullable, though the rows read here have a key
        for chunk in _chunks([e.dedupe_key for e in messages]):
            existing.update(Message.objects.filter(channel_account=account, dedupe_key__in=chunk)
                            .values_list("dedupe_key", flat=True))
        messages = [e for e in messages if e.dedupe_key not in existing]
    follows = [e for e in events if e.kind in ("follow", "unfollow")]
    identified = _apply_identities(account, [e for e in events if e.kind == "identify"])
    if not messages and not follows:
        return {"messages": 0, "follows": 0, "identities": identified}

    senders: dict[tuple[str, str], str] = {}
    for event in messages + follows:
        key = (event.sender.kind, event.sender.value)
        senders[key] = senders.get(key) or event.sender.display_name
    created: list[int] = []
    customers = resolve_customers(workspace_id=workspace_id, senders=senders, created=created)
    if created:
        # Weak matches (another form of the same e-mail address, a similar name) become duplicate
        # candidates for a person to decide — never a merge here.
        from samphan.customers.tasks import duplicates_scan_soon

        since = min(created)
        transaction.on_commit(lambda: duplicates_scan_soon(workspace_id=workspace_id, since_id=since))

    if follows:
        _apply_follows(account, follows, customers)
    if messages:
        _thread_by_references(account, messages)
        _append_messages(account, messages, customers)
    return {"messages": len(messages), "follows": len(follows), "identities": identified}


def _apply_identities(account: Any, events: list[InboundEvent]) -> int:
    """Contact points a sender gave about themselves (a web-chat visitor's e-mail), before their messages.

    Each goes through customers.services.customer_identity_claim: an exact match
    links, an unknown one becomes a new identity, a weak one only a duplicate
    candidate. Idempotent: claiming the same address again changes nothing.
    """
    count = 0
    for event in sorted(events, key=lambda e: e.occurred_at):
        for kind, raw in (event.meta.get("identities") or {}).items():
            customer_identity_claim(workspace=account.workspace_id, holder=(event.sender.kind, event.sender.value),
                                    kind=kind, raw=raw, via="worker")
            count += 1
    return count


def _thread_by_references(account: Any, messages: list[InboundEvent]) -> None:
    """E-mail threading: a message answering a known one (In-Reply-To / References) joins its thread.

    Known means: an inbound message of this channel account with that dedupe key
    (an e-mail's Message-ID), or an outbound one whose provider id it is (the
    Message-ID of our reply). Two queries per batch, by indexed keys, and none
    for channels that send no references. Messages of the same batch answering
    each other are threaded in time order.
    """
    if not any(event.references for event in messages):
        return
    wanted = list({ref for event in messages for ref in event.references})
    known: dict[str | None, str] = {}  # dedupe_key is a nullable column
    for chunk in _chunks(wanted):
        known.update(Message.objects.filter(channel_account=account, dedupe_key__in=chunk)
                     .values_list("dedupe_key", "conversation__thread_key"))
        for provider_id, thread_key in (OutboundMessage.objects
                                        .filter(channel_account=account, provider_message_id__in=chunk)
                                        .exclude(inbox_message=None)
                                        .values_list("provider_message_id", "inbox_message__conversation__thread_key")):
            known.setdefault(provider_id, thread_key)
    for event in sorted(messages, key=lambda e: e.occurred_at):
        thread = next((known[ref] for ref in event.references if ref in known), None)
        if thread:
            event.thread_key = thread
        known.setdefault(event.dedupe_key, event.thread_key or event.sender.value)


def _apply_follows(account: Any, follows: list[InboundEvent], customers: dict[tuple[str, str], int]) -> None:
    for event in sorted(follows, key=lambda e: e.occurred_at):
        customer_id = customers[(event.sender.kind, event.sender.value)]
        contact, _ = ChannelContact.objects.select_for_update().get_or_create(
            channel_account=account, external_id=event.sender.value,
            defaults={"workspace_id": account.workspace_id, "customer_id": customer_id,
                      "display_name": event.sender.display_name[:255]})
        # Only a newer event changes the state: a redelivered or late one is a no-op.
        if contact.state_changed_at is None or event.occurred_at > contact.state_changed_at:
            contact.following = event.kind == "follow"
            contact.state_changed_at = event.occurred_at
            contact.save(update_fields=["following", "state_changed_at"])


def _append_messages(account: Any, messages: list[InboundEvent], customers: dict[tuple[str, str], int]) -> None:
    by_thread: dict[str, list[InboundEvent]] = defaultdict(list)
    for event in sorted(messages, key=lambda e: e.occurred_at):
        by_thread[event.thread_key or event.sender.value].append(event)

    active: dict[str, Conversation] = {}
    for chunk in _chunks(list(by_thread)):
        for conversation in (Conversation.objects.select_for_update()
                             .filter(channel_account=account, thread_key__in=chunk, status__in=ACTIVE)
                             .order_by("id")):
            active[conversation.thread_key] = conversation
    missing = [t for t in by_thread if t not in active]
    if missing:
        rules = list(AssignmentRule.objects.filter(workspace_id=account.workspace_id, is_active=True)
                     .select_related("team").order_by("position", "id"))
        active.update(_open_conversations(account=account, firsts={t: by_thread[t][0] for t in missing},
                                          customers=customers, rules=rules))

    rows: list[Message] = []
    for thread_key, thread_events in by_thread.items():
        conversation = active[thread_key]
        for event in thread_events:
            rows.append(Message(
                workspace_id=account.workspace_id, conversation=conversation, channel_account=account,
                direction=Message.Direction.IN, kind=event.message_type[:16], text=event.text,
                attachments=[asdict(a) for a in event.attachments], meta=event.meta,
                dedupe_key=event.dedupe_key[:255], external_id=event.external_id[:255],
                reply_token=event.reply_token,
                reply_token_expires_at=event.occurred_at + REPLY_TOKEN_TTL if event.reply_token else None,
                reply_to=event.reply_to[:255], webhook_event_id=event.webhook_event_id,
                created_at=event.occurred_at,
            ))
        last = thread_events[-1]
        conversation.message_count += len(thread_events)
        if last.occurred_at >= conversation.last_message_at or conversation.message_count == len(thread_events):
            conversation.last_message_at = last.occurred_at
            conversation.last_message_preview = preview_of(last.message_type, last.text)
            conversation.last_message_direction = Message.Direction.IN
        conversation.last_inbound_at = max(conversation.last_inbound_at or last.occurred_at, last.occurred_at)
        if conversation.waiting_since is None:
            conversation.waiting_since = thread_events[0].occurred_at
        if conversation.status == Conversation.Status.PENDING:
            conversation.status = Conversation.Status.OPEN
    _label_sentiment(account.workspace_id, rows)
    rows_insert(Message, rows)
    now = timezone.now()
    conversations = list({c.pk: c for c in active.values()}.values())
    ctx = sla_context(account.workspace_id)
    for conversation in conversations:
        conversation.updated_at = now
        sla_refresh(conversation, ctx)
    conversations_write_counters(conversations)


def _label_sentiment(workspace_id: int, rows: list[Message]) -> None:
    """Label every inbound text of the batch in one classification call (the model's cost is
    largely per call), with the workspace's own model when it has one. A failure here leaves the
    messages unlabelled rather than failing the batch: a label is not worth losing a message."""
    labelled = [m for m in rows if m.text and m.text.strip()]
    if not labelled:
        return
    try:
        results = classify_for_workspace(workspace=workspace_id, texts=[m.text for m in labelled])
    except Exception:
        logger.exception("sentiment of %d inbound messages (workspace %s) failed; stored unlabelled",
                         len(labelled), workspace_id)
        return
    for message, result in zip(labelled, results, strict=True):
        message.sentiment = result["label"]
        message.sentiment_scores = result["scores"]


def ingest_for_customers(account: Any, events: list[InboundEvent],
                         customers: dict[tuple[str, str], int]) -> dict[str, int]:
    """Store message events whose customers the caller has already resolved; idempotent.

    ``customers`` maps each event's (sender kind, sender value) to a customer id — for senders
    that have no identity a customer could be found by (listening: a blog author known only by
    name, turned into a conversation by an agent). Returns dedupe key → conversation id for every
    event, including those stored before.
    """
    keys = list(dict.fromkeys(e.dedupe_key for e in events if e.is_message))
    existing: set[str | None] = set()  # the column is nullable, though the rows read here have a key
    for chunk in _chunks(keys):
        existing.update(Message.objects.filter(channel_account=account, dedupe_key__in=chunk)
                        .values_list("dedupe_key", flat=True))
    seen: set[str] = set()
    fresh = []
    for event in events:
        if event.is_message and event.dedupe_key not in existing and event.dedupe_key not in seen:
            seen.add(event.dedupe_key)
            fresh.append(event)
    if fresh:
        _append_messages(account, fresh, customers)
    found: dict[str, int] = {}
    for chunk in _chunks(keys):
        found.update((key, conversation_id) for key, conversation_id in Message.objects.filter(
            channel_account=account, dedupe_key__in=chunk).values_list("dedupe_key", "conversation_id")
            if key is not None)  # always set (matched by the filter); the column is nullable
    return found
