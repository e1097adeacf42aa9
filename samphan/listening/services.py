"""Listening writes: topics, sources, label corrections, mention status, mention → conversation."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed
from samphan.core.jobs import job_enqueue, job_finish, job_progress, job_start
from samphan.core.models import Job
from samphan.listening import bulk
from samphan.listening.ingest import priority_of
from samphan.listening.matching import TopicMatcher, validate_terms
from samphan.listening.models import (
    ALL_TOPICS,
    LABELS,
    Author,
    AuthorTopic,
    Mention,
    MentionDaily,
    MentionHourly,
    MentionTopic,
    Source,
    Topic,
)
from samphan.listening.rollups import daily_rebuild, day_of, zone_for_write
from samphan.listening.spikes import hour_of

TOPIC_REMATCH_JOB = "listening_topic_rematch"
_URL = re.compile(r"^https?://[^\s/]+", re.IGNORECASE)


# --- topics -----------------------------------------------------------------------------------


def _topic_fields(*, name: str | None, kind: str | None, include_terms: Any, exclude_terms: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if name is not None:
        name = " ".join(str(name).split())
        if not name:
            raise ValidationFailed("a topic needs a name", details=[{"field": "name", "reason": "required"}])
        if len(name) > 100:
            raise ValidationFailed("a topic name is at most 100 characters",
                                   details=[{"field": "name", "reason": "too long"}])
        fields["name"] = name
    if kind is not None:
        if kind not in Topic.Kind.values:
            raise ValidationFailed(f"kind must be one of {', '.join(Topic.Kind.values)}",
                                   details=[{"field": "kind", "reason": f"unknown kind {kind!r}"}])
        fields["kind"] = kind
    if include_terms is not None:
        fields["include_terms"] = validate_terms(include_terms, field_name="include_terms")
        if not fields["include_terms"]:
            raise ValidationFailed("a topic needs at least one include term",
                                   details=[{"field": "include_terms", "reason": "empty"}])
    if exclude_terms is not None:
        fields["exclude_terms"] = validate_terms(exclude_terms, field_name="exclude_terms")
    return fields


@transaction.atomic
def topic_create(*, workspace: Any, name: str, kind: str = Topic.Kind.BRAND, include_terms: Any,
                 exclude_terms: Any = None, actor: Any = None, via: str = "system",
                 rematch: bool = True) -> Topic:
    """A new topic; its rules are applied to the mentions already stored by a background job."""
    fields = _topic_fields(name=name, kind=kind, include_terms=include_terms, exclude_terms=exclude_terms or [])
    workspace_id = getattr(workspace, "pk", workspace)
    if Topic.objects.filter(workspace_id=workspace_id, name=fields["name"]).exists():
        raise Conflict(f"a topic named {fields['name']!r} already exists",
                       details=[{"field": "name", "reason": "taken"}])
    topic = Topic.objects.create(workspace_id=workspace_id, **fields)
    audit_record(workspace=workspace_id, action="listening.topic_created", actor=actor, via=via, target=topic,
                 summary=topic.name, changes={k: v for k, v in fields.items() if k != "name"})
    if rematch:
        topic_rematch_enqueue(topic=topic, actor=actor)
    return topic


@transaction.atomic
def topic_update(*, topic: Topic, actor: Any = None, via: str = "system", name: str | None = None,
                 kind: str | None = None, include_terms: Any = None, exclude_terms: Any = None,
                 is_active: bool | None = None, rematch: bool = True) -> Topic:
    fields = _topic_fields(name=name, kind=kind, include_terms=include_terms, exclude_terms=exclude_terms)
    if is_active is not None:
        fields["is_active"] = bool(is_active)
    if "name" in fields and fields["name"] != topic.name and Topic.objects.filter(
            workspace_id=topic.workspace_id, name=fields["name"]).exclude(pk=topic.pk).exists():
        raise Conflict(f"a topic named {fields['name']!r} already exists",
                       details=[{"field": "name", "reason": "taken"}])
    changes = {k: [getattr(topic, k), v] for k, v in fields.items() if getattr(topic, k) != v}
    if not changes:
        return topic
    for k, v in fields.items():
        setattr(topic, k, v)
    topic.save()
    audit_record(workspace=topic.workspace_id, action="listening.topic_updated", actor=actor, via=via,
                 target=topic, summary=topic.name, changes=changes)
    if rematch and ({"include_terms", "exclude_terms"} & set(changes)):
        topic_rematch_enqueue(topic=topic, actor=actor)
    return topic


@transaction.atomic
def topic_delete(*, topic: Topic, actor: Any = None, via: str = "system") -> None:
    zone_for_write(topic.workspace_id)
    MentionHourly.objects.filter(workspace_id=topic.workspace_id, topic_id=topic.pk).delete()
    MentionDaily.objects.filter(workspace_id=topic.workspace_id, topic_id=topic.pk).delete()
    AuthorTopic.objects.filter(workspace_id=topic.workspace_id, topic_id=topic.pk).delete()
    audit_record(workspace=topic.workspace_id, action="listening.topic_deleted", actor=actor, via=via,
                 target=topic, summary=topic.name)
    topic.delete()


def topic_rematch_enqueue(*, topic: Topic, actor: Any = None) -> Job:
    from samphan.listening.tasks import topic_rematch

    return job_enqueue(workspace=topic.workspace_id, kind=TOPIC_REMATCH_JOB, task=topic_rematch,
                       params={"topic_id": topic.pk}, actor=actor)


REMATCH_CHUNK = 2000


def topic_rematch(*, topic: Topic, progress: Any = None) -> dict[str, int]:
    """Apply the topic's current rules to every stored mention, then rebuild its rollups.

    Reads the mentions in id order, in chunks; the topic's links, hourly rollup and author rollup
    are replaced in one transaction at the end, so the dashboard never shows a half-done topic.
    """
    matcher = TopicMatcher([(topic.pk, topic.include_terms, topic.exclude_terms)]) if topic.is_active else None
    matched: list[tuple[int, datetime]] = []
    qs = Mention.objects.filter(workspace_id=topic.workspace_id).order_by("id")
    total = qs.count()
    last_id, done = 0, 0
    while matcher is not None:
        chunk = list(qs.filter(id__gt=last_id).values_list("id", "text", "published_at")[:REMATCH_CHUNK])
        if not chunk:
            break
        for mention_id, text, published_at in chunk:
            if matcher.match(text):
                matched.append((mention_id, published_at))
        last_id = chunk[-1][0]
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    with transaction.atomic():
        Topic.objects.select_for_update().filter(pk=topic.pk).first()
        MentionTopic.objects.filter(topic=topic).delete()
        MentionTopic.objects.bulk_create(
            [MentionTopic(workspace_id=topic.workspace_id, mention_id=m, topic_id=topic.pk, published_at=p)
             for m, p in matched], batch_size=1000)
        rollups_rebuild(workspace_id=topic.workspace_id, topic_id=topic.pk)
    return {"mentions_scanned": done, "mentions_matched": len(matched)}


def topic_rematch_job_run(job_id: int) -> dict:
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return job.result
    topic = Topic.objects.filter(pk=job.params.get("topic_id"), workspace_id=job.workspace_id).first()
    if topic is None:
        job_finish(job, result={"mentions_scanned": 0, "mentions_matched": 0})
        return job.result
    job_start(job, total=Mention.objects.filter(workspace_id=topic.workspace_id).count(),
              message=topic.name)
    result = topic_rematch(topic=topic, progress=lambda done, total: job_progress(job, progress=done))
    job_finish(job, result=result)
    return result


def rollups_rebuild(*, workspace_id: int, topic_id: int) -> None:
    """Recount one topic's (or, with ALL_TOPICS, the workspace's) hourly, daily and author rollups from the mentions."""
    zone = zone_for_write(workspace_id)
    MentionHourly.objects.filter(workspace_id=workspace_id, topic_id=topic_id).delete()
    AuthorTopic.objects.filter(workspace_id=workspace_id, topic_id=topic_id).delete()
    mentions = Mention.objects.filter(workspace_id=workspace_id)
    if topic_id != ALL_TOPICS:
        mentions = mentions.filter(mentiontopic__topic_id=topic_id)
    hourly: dict[tuple[int, datetime], list[int]] = {}
    per_author: dict[tuple[int, int], list] = {}
    for published_at, label, author_id, reach in mentions.values_list("published_at", "label", "author_id",
                                                                      "reach").iterator(chunk_size=5000):
        counts = hourly.setdefault((topic_id, hour_of(published_at)), [0, 0, 0, 0])
        counts[LABELS.index(label)] += 1
        if author_id:
            entry = per_author.setdefault((author_id, topic_id), [0, 0, 0, published_at])
            entry[0] = max(entry[0], reach)
            entry[1] += 1
            entry[2] += label == "negative"
            entry[3] = max(entry[3], published_at)
    if hourly:
        bulk.hourly_add(workspace_id=workspace_id, rows=hourly)
    daily_rebuild(workspace_id=workspace_id, zone=zone, topic_ids=[topic_id])
    if per_author:
        bulk.author_topics_add(workspace_id=workspace_id, rows={k: tuple(v) for k, v in per_author.items()})


# --- sources ----------------------------------------------------------------------------------


@transaction.atomic
def source_create(*, workspace: Any, kind: str, name: str, url: str = "", query: str = "",
                  bearer_token: str = "", interval_minutes: int = 15, actor: Any = None,
                  via: str = "system") -> Source:
    workspace_id = getattr(workspace, "pk", workspace)
    name = " ".join((name or "").split())
    problems = []
    if kind not in Source.Kind.values:
        problems.append({"field": "kind", "reason": f"one of {', '.join(Source.Kind.values)}"})
    if not name:
        problems.append({"field": "name", "reason": "required"})
    if kind == Source.Kind.RSS and not _URL.match(url or ""):
        problems.append({"field": "url", "reason": "an http:// or https:// address of the feed"})
    if kind == Source.Kind.X and not (query or "").strip():
        problems.append({"field": "query", "reason": "an X search query, e.g. samphan OR #samphan -is:retweet"})
    if not 1 <= int(interval_minutes or 0) <= 24 * 60:
        problems.append({"field": "interval_minutes", "reason": "between 1 and 1440"})
    if problems:
        raise ValidationFailed("; ".join(f"{p['field']}: {p['reason']}" for p in problems), details=problems)
    if Source.objects.filter(workspace_id=workspace_id, name=name).exists():
        raise Conflict(f"a source named {name!r} already exists", details=[{"field": "name", "reason": "taken"}])
    source = Source(workspace_id=workspace_id, kind=kind, name=name, url=url.strip() if kind == "rss" else "",
                    query=query.strip() if kind == "x" else "", interval_minutes=int(interval_minutes))
    if bearer_token:
        source.set_secrets({"bearer_token": bearer_token})
    source.save()
    audit_record(workspace=workspace_id, action="listening.source_created", actor=actor, via=via, target=source,
                 summary=f"{kind}: {name}",
                 changes={"url": source.url, "query": source.query, "secrets_set": ["bearer_token"] if bearer_token
                          else []})
    return source


@transaction.atomic
def source_update(*, source: Source, actor: Any = None, via: str = "system", is_active: bool | None = None,
                  interval_minutes: int | None = None, bearer_token: str | None = None) -> Source:
    changes: dict[str, Any] = {}
    if is_active is not None and bool(is_active) != source.is_active:
        changes["is_active"] = [source.is_active, bool(is_active)]
        source.is_active = bool(is_active)
    if interval_minutes is not None:
        if not 1 <= int(interval_minutes) <= 24 * 60:
            raise ValidationFailed("interval_minutes: between 1 and 1440",
                                   details=[{"field": "interval_minutes", "reason": "between 1 and 1440"}])
        changes["interval_minutes"] = [source.interval_minutes, int(interval_minutes)]
        source.interval_minutes = int(interval_minutes)
    if bearer_token:
        source.set_secrets({**source.secrets, "bearer_token": bearer_token})
        changes["secrets_set"] = ["bearer_token"]
    source.save()
    audit_record(workspace=source.workspace_id, action="listening.source_updated", actor=actor, via=via,
                 target=source, summary=source.name, changes=changes)
    return source


@transaction.atomic
def source_delete(*, source: Source, actor: Any = None, via: str = "system") -> None:
    audit_record(workspace=source.workspace_id, action="listening.source_deleted", actor=actor, via=via,
                 target=source, summary=source.name)
    source.delete()


# --- mentions ---------------------------------------------------------------------------------


def _lock(mention: Mention) -> Mention:
    return Mention.objects.select_for_update().get(pk=mention.pk, workspace_id=mention.workspace_id)


@transaction.atomic
def mention_correct_label(*, mention: Mention, label: str, actor: Any = None, via: str = "system") -> Mention:
    """An agent's sentiment label; moves the mention between the rollups' columns and re-scores its priority.

    Corrections are training data: ``samphan sentiment train --workspace W --with-corrections``.
    """
    if label not in LABELS:
        raise ValidationFailed(f"label must be one of {', '.join(LABELS)}",
                               details=[{"field": "label", "reason": f"unknown label {label!r}"}])
    zone = zone_for_write(mention.workspace_id)  # before the mention's lock, as ingest does
    mention = _lock(mention)
    old = mention.label
    if old == label and mention.label_corrected_at is not None:
        return mention
    mention.label = label
    mention.label_corrected_by = actor if getattr(actor, "is_authenticated", False) else None
    mention.label_corrected_at = timezone.now()
    negativity = 1.0 if label == "negative" else 0.0
    mention.priority = priority_of(reach=mention.reach, negativity=negativity, velocity=mention.velocity)
    mention.save(update_fields=["label", "label_corrected_by", "label_corrected_at", "priority"])
    if old != label:
        hour = hour_of(mention.published_at)
        delta = [0, 0, 0, 0]
        delta[LABELS.index(old)] -= 1
        delta[LABELS.index(label)] += 1
        scopes = [ALL_TOPICS, *MentionTopic.objects.filter(mention=mention).values_list("topic_id", flat=True)]
        bulk.hourly_add(workspace_id=mention.workspace_id, rows={(s, hour): list(delta) for s in scopes})
        bulk.daily_add(workspace_id=mention.workspace_id,
                       rows={(s, day_of(hour, zone)): list(delta) for s in scopes})
        if mention.author_id and "negative" in (old, label):
            step = 1 if label == "negative" else -1
            AuthorTopic.objects.filter(author_id=mention.author_id, topic_id__in=scopes).update(
                negative=F("negative") + step)
    audit_record(workspace=mention.workspace_id, action="listening.mention_label_corrected", actor=actor, via=via,
                 target=mention, summary=f"{old} → {label}", changes={"label": [old, label]})
    return mention


@transaction.atomic
def mention_set_status(*, mention: Mention, status: str, actor: Any = None, via: str = "system") -> Mention:
    if status not in Mention.Status.values:
        raise ValidationFailed(f"status must be one of {', '.join(Mention.Status.values)}",
                               details=[{"field": "status", "reason": f"unknown status {status!r}"}])
    mention = _lock(mention)
    if mention.status != status:
        old = mention.status
        mention.status = status
        mention.save(update_fields=["status"])
        audit_record(workspace=mention.workspace_id, action="listening.mention_status", actor=actor, via=via,
                     target=mention, summary=f"{old} → {status}", changes={"status": [old, status]})
    return mention


def mention_correction_examples(*, workspace: Any) -> list:
    """Corrected mentions as (text, category) training examples for the workspace's own model."""
    from samphan.sentiment.training import Example, category_of

    rows = (Mention.objects.filter(workspace_id=getattr(workspace, "pk", workspace),
                                   label_corrected_at__isnull=False)
            .order_by("label_corrected_at", "id").values_list("text", "label"))
    return [Example(text=text, category=category_of(label)) for text, label in rows]


@transaction.atomic
def alert_acknowledge(*, alert: Any, actor: Any = None, via: str = "system") -> Any:
    if alert.acknowledged_at is None:
        alert.acknowledged_at = timezone.now()
        alert.acknowledged_by = actor if getattr(actor, "is_authenticated", False) else None
        alert.save(update_fields=["acknowledged_at", "acknowledged_by"])
        audit_record(workspace=alert.workspace_id, action="listening.alert_acknowledged", actor=actor, via=via,
                     target=alert, summary=f"{alert.kind} at {alert.hour:%Y-%m-%d %H:00}")
    return alert


# --- mention → conversation -------------------------------------------------------------------


def _listening_account(workspace_id: int):
    from samphan.channels.models import ChannelAccount
    from samphan.channels.services import channel_account_create

    account = (ChannelAccount.objects.filter(workspace_id=workspace_id, provider="listening")
               .order_by("id").first())
    if account is None:
        account = channel_account_create(workspace=workspace_id, provider="listening", name="Social listening",
                                         secrets={}, via="system")
    return account


def _author_identity(mention: Mention) -> tuple[str, str] | None:
    meta = mention.meta or {}
    for kind, value in (meta.get("identities") or []):
        if kind and value:
            return kind, value
    return None


@transaction.atomic
def mention_to_conversation(*, mention: Mention, actor: Any = None, via: str = "system") -> int:
    """Open (or find) the inbox conversation for a mention; returns its id. Idempotent.

    The customer is the mention's linked one, else found or created from the author's identity
    (X handle, Facebook id, e-mail…), else a new customer named after the author. Facebook
    comments and posts go to their Page's channel (a reply is posted under them); other sources
    go to the workspace's "Social listening" channel, whose replies are answered on the site.
    """
    from samphan.channels.adapters.base import InboundEvent, SenderIdentity
    from samphan.channels.models import ChannelAccount
    from samphan.customers.services import customer_create, customer_resolve_or_create
    from samphan.inbox.ingest import ingest_for_customers

    mention = _lock(mention)
    if mention.conversation_id:
        return mention.conversation_id
    identity = _author_identity(mention)
    author_label = mention.author_name or (f"@{mention.author_handle}" if mention.author_handle else "")
    customer_id = mention.customer_id
    if customer_id is None:
        if identity is not None:
            customer, _ = customer_resolve_or_create(workspace=mention.workspace_id, identities={identity[0]: identity[1]},
                                                     via=via, **({"display_name": author_label[:150]}
                                                                 if author_label else {}))
        else:
            customer = customer_create(workspace=mention.workspace_id, actor=actor, via=via,
                                       display_name=(author_label or f"{mention.source} author")[:150])
        customer_id = customer.pk
    meta = mention.meta or {}
    account = None
    if mention.connector == Mention.Connector.FACEBOOK and meta.get("channel_account_id"):
        account = ChannelAccount.objects.filter(pk=meta["channel_account_id"],
                                                workspace_id=mention.workspace_id).first()
    post_meta = {"mention_id": mention.pk, "source": mention.source, "url": mention.url,
                 "connector": mention.connector}
    if account is not None:
        author_id = meta.get("author_id") or mention.author_handle
        post_id = meta.get("post_id") or mention.external_id
        sender = SenderIdentity("facebook", author_id, mention.author_name)
        event = InboundEvent(kind="comment", dedupe_key=mention.external_id, external_id=mention.external_id,
                             sender=sender, occurred_at=mention.published_at, thread_key=f"post:{post_id}:{author_id}",
                             message_type="comment", text=mention.text, reply_to=mention.external_id,
                             meta={**post_meta, "post_id": post_id})
    else:
        account = _listening_account(mention.workspace_id)
        contact = mention.url or f"mention:{mention.pk}"
        sender = SenderIdentity("listening", contact, author_label)
        thread = f"{mention.source}:{mention.author_id}" if mention.author_id else f"mention:{mention.pk}"
        event = InboundEvent(kind="message", dedupe_key=f"mention:{mention.pk}", external_id=mention.external_id,
                             sender=sender, occurred_at=mention.published_at, thread_key=thread,
                             message_type="mention", text=mention.text, meta=post_meta)
    conversations = ingest_for_customers(account, [event], {(sender.kind, sender.value): customer_id})
    conversation_id = conversations[event.dedupe_key]
    mention.conversation_id = conversation_id
    mention.customer_id = mention.customer_id or customer_id
    mention.status = Mention.Status.HANDLED
    mention.save(update_fields=["conversation", "customer", "status"])
    if mention.author_id:
        Author.objects.filter(pk=mention.author_id, customer__isnull=True).update(customer_id=customer_id)
    audit_record(workspace=mention.workspace_id, action="listening.mention_to_conversation", actor=actor, via=via,
                 target=mention, summary=f"conversation #{conversation_id} on {account.name}",
                 changes={"conversation_id": conversation_id, "customer_id": customer_id,
                          "channel": account.provider})
    return conversation_id
