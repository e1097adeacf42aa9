"""Listening API: topics, sources, mentions (list, detail, label, status, → conversation, import),
the dashboard's figures and spike alerts. Mounted at /api/listening."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import File, Query, Router, Schema
from ninja.files import UploadedFile

from samphan.core.api import caller
from samphan.core.errors import ValidationFailed
from samphan.core.jobs_api import JobOut
from samphan.core.scoping import get_scoped_or_404
from samphan.listening import selectors, services
from samphan.listening.connectors.upload import MAX_ERRORS_KEPT, row_to_mention, upload_enqueue
from samphan.listening.ingest import IngestResult, mentions_ingest
from samphan.listening.models import ALL_TOPICS, Alert, Mention, Source, Topic

router = Router(tags=["listening"])

MAX_POSTED = 2000


# --- schemas ------------------------------------------------------------------------------------


class TopicIn(Schema):
    name: str
    kind: str = "brand"
    include_terms: list[str]
    exclude_terms: list[str] = []


class TopicPatch(Schema):
    name: str | None = None
    kind: str | None = None
    include_terms: list[str] | None = None
    exclude_terms: list[str] | None = None
    is_active: bool | None = None


class TopicOut(Schema):
    id: int
    name: str
    kind: str
    include_terms: list[str]
    exclude_terms: list[str]
    is_active: bool
    created_at: datetime


class SourceIn(Schema):
    kind: str
    name: str
    url: str = ""
    query: str = ""
    bearer_token: str = ""
    interval_minutes: int = 15


class SourcePatch(Schema):
    is_active: bool | None = None
    interval_minutes: int | None = None
    bearer_token: str | None = None


class SourceOut(Schema):
    id: int
    kind: str
    name: str
    url: str
    query: str
    has_token: bool
    is_active: bool
    interval_minutes: int
    next_fetch_at: datetime
    last_fetched_at: datetime | None
    last_count: int
    last_error: str


class Ref(Schema):
    id: int
    name: str


class TopicRef(Schema):
    id: int
    name: str
    kind: str


class MentionOut(Schema):
    id: int
    connector: str
    source: str
    external_id: str
    url: str
    text: str
    language: str
    author_name: str
    author_handle: str
    reach: int
    engagement: int
    customer: Ref | None
    published_at: datetime
    label: str
    model_label: str
    scores: dict[str, float]
    label_corrected_at: datetime | None
    velocity: float
    priority: float
    status: str
    conversation_id: int | None
    topics: list[TopicRef]


class MentionPage(Schema):
    items: list[MentionOut]
    next_cursor: str | None


class MentionParams(Schema):
    topic: int | None = None
    status: str = ""
    label: str = ""
    source: str = ""
    q: str = ""
    order: str = "priority"
    cursor: str = ""
    limit: int = 25


class LabelIn(Schema):
    label: str


class StatusIn(Schema):
    status: str


class ConversationOut(Schema):
    mention_id: int
    conversation_id: int
    customer_id: int | None


class MentionsIn(Schema):
    mentions: list[dict[str, Any]]


class IngestOut(Schema):
    received: int
    created: int
    duplicates: int
    linked_to_customers: int
    matched_topics: int
    alerts: int
    rows_rejected: int
    errors: list[dict[str, Any]]


class PeriodParams(Schema):
    days: int = 30
    topic: int | None = None


class AlertOut(Schema):
    id: int
    kind: str
    topic: Ref | None
    hour: datetime
    observed: int
    baseline_mean: float
    baseline_std: float
    threshold: float
    created_at: datetime
    acknowledged_at: datetime | None
    emailed_at: datetime | None


# --- helpers ------------------------------------------------------------------------------------


def _source_out(s: Source) -> dict[str, Any]:
    return {"id": s.pk, "kind": s.kind, "name": s.name, "url": s.url, "query": s.query,
            "has_token": bool(s.secrets_ciphertext), "is_active": s.is_active, "interval_minutes": s.interval_minutes,
            "next_fetch_at": s.next_fetch_at, "last_fetched_at": s.last_fetched_at, "last_count": s.last_count,
            "last_error": s.last_error}


def mention_out(m: Mention) -> dict[str, Any]:
    return {
        "id": m.pk, "connector": m.connector, "source": m.source, "external_id": m.external_id, "url": m.url,
        "text": m.text, "language": m.language, "author_name": m.author_name, "author_handle": m.author_handle,
        "reach": m.reach, "engagement": m.engagement,
        "customer": {"id": m.customer_id, "name": m.customer.name} if m.customer is not None else None,
        "published_at": m.published_at, "label": m.label, "model_label": m.model_label, "scores": m.scores,
        "label_corrected_at": m.label_corrected_at, "velocity": m.velocity, "priority": m.priority,
        "status": m.status, "conversation_id": m.conversation_id, "topics": getattr(m, "topic_list", []),
    }


def _alert_out(a: Alert) -> dict[str, Any]:
    return {"id": a.pk, "kind": a.kind,
            "topic": {"id": a.topic_id, "name": a.topic.name} if a.topic is not None else None,
            "hour": a.hour, "observed": a.observed, "baseline_mean": a.baseline_mean,
            "baseline_std": a.baseline_std, "threshold": a.threshold, "created_at": a.created_at,
            "acknowledged_at": a.acknowledged_at, "emailed_at": a.emailed_at}


# --- topics -------------------------------------------------------------------------------------


@router.get("/topics", response=list[TopicOut], summary="The workspace's topics and their rules")
def topics(request):
    workspace = caller(request).require("listening.view")
    return list(selectors.topics_of(workspace=workspace))


@router.post("/topics", response={201: TopicOut}, summary="Create a topic; stored mentions are matched in the background")
def topic_create(request, payload: TopicIn):
    c = caller(request)
    workspace = c.require("listening.manage")
    topic = services.topic_create(workspace=workspace, name=payload.name, kind=payload.kind,
                                  include_terms=payload.include_terms, exclude_terms=payload.exclude_terms,
                                  actor=c.user, via="api")
    return 201, topic


@router.patch("/topics/{int:topic_id}", response=TopicOut, summary="Change a topic; new rules are re-applied")
def topic_update(request, topic_id: int, payload: TopicPatch):
    c = caller(request)
    workspace = c.require("listening.manage")
    topic = get_scoped_or_404(Topic, workspace, pk=topic_id)
    return services.topic_update(topic=topic, actor=c.user, via="api", **payload.dict(exclude_unset=True))


@router.delete("/topics/{int:topic_id}", response={204: None}, summary="Delete a topic (mentions stay)")
def topic_delete(request, topic_id: int):
    c = caller(request)
    workspace = c.require("listening.manage")
    services.topic_delete(topic=get_scoped_or_404(Topic, workspace, pk=topic_id), actor=c.user, via="api")
    return 204, None


@router.post("/topics/{int:topic_id}/rematch", response={202: JobOut},
             summary="Apply the topic's rules to every stored mention again")
def topic_rematch(request, topic_id: int):
    c = caller(request)
    workspace = c.require("listening.manage")
    return 202, services.topic_rematch_enqueue(topic=get_scoped_or_404(Topic, workspace, pk=topic_id), actor=c.user)


# --- sources ------------------------------------------------------------------------------------


@router.get("/sources", response=list[SourceOut], summary="RSS/Atom feeds and X searches fetched on a schedule")
def sources(request):
    workspace = caller(request).require("listening.manage")
    return [_source_out(s) for s in selectors.sources_of(workspace=workspace)]


@router.post("/sources", response={201: SourceOut}, summary="Add a feed (kind rss, url) or an X search (kind x, query)")
def source_create(request, payload: SourceIn):
    c = caller(request)
    workspace = c.require("listening.manage")
    source = services.source_create(workspace=workspace, actor=c.user, via="api", **payload.dict())
    return 201, _source_out(source)


@router.patch("/sources/{int:source_id}", response=SourceOut, summary="Pause, resume, change the interval or token")
def source_update(request, source_id: int, payload: SourcePatch):
    c = caller(request)
    workspace = c.require("listening.manage")
    source = get_scoped_or_404(Source, workspace, pk=source_id)
    return _source_out(services.source_update(source=source, actor=c.user, via="api",
                                              **payload.dict(exclude_unset=True)))


@router.delete("/sources/{int:source_id}", response={204: None}, summary="Remove a source (its mentions stay)")
def source_delete(request, source_id: int):
    c = caller(request)
    workspace = c.require("listening.manage")
    services.source_delete(source=get_scoped_or_404(Source, workspace, pk=source_id), actor=c.user, via="api")
    return 204, None


@router.post("/sources/{int:source_id}/fetch", response=dict, summary="Fetch a source now")
def source_fetch(request, source_id: int):
    from samphan.listening.connectors.scheduler import source_fetch_now

    workspace = caller(request).require("listening.manage")
    source = get_scoped_or_404(Source, workspace, pk=source_id)
    return source_fetch_now(source_id=source.pk)


# --- mentions -----------------------------------------------------------------------------------


@router.get("/mentions", response=MentionPage,
            summary="Mentions, worst first (order=priority) or newest first; filter by topic, status, label, source")
def mentions(request, params: Query[MentionParams]):
    workspace = caller(request).require("listening.view")
    filters = selectors.MentionFilters(topic_id=params.topic, status=params.status, label=params.label,
                                       source=params.source, q=params.q, order=params.order)
    rows, next_cursor = selectors.mention_list(workspace=workspace, filters=filters, cursor=params.cursor,
                                               limit=params.limit)
    return {"items": [mention_out(m) for m in rows], "next_cursor": next_cursor}


@router.post("/mentions", response=IngestOut,
             summary=f"Add up to {MAX_POSTED} mentions (the upload fields); bad rows are reported, good ones kept")
def mentions_post(request, payload: MentionsIn):
    c = caller(request)
    workspace = c.require("listening.manage")
    if len(payload.mentions) > MAX_POSTED:
        raise ValidationFailed(f"at most {MAX_POSTED} mentions per request; upload a file for more",
                               details=[{"field": "mentions", "reason": "too many"}])
    items, errors = [], []
    for row, data in enumerate(payload.mentions, start=1):
        item, row_errors = row_to_mention(row, data)
        errors.extend(row_errors)
        if item is not None:
            items.append(item)
    result = mentions_ingest(workspace=workspace, items=items, connector=Mention.Connector.UPLOAD) if items \
        else IngestResult()
    return {**result.as_dict(), "received": len(payload.mentions), "rows_rejected": len(errors),
            "errors": errors[:MAX_ERRORS_KEPT]}


@router.post("/mentions/upload", response={202: JobOut},
             summary="Upload a CSV or JSON file of mentions; the job's result lists bad rows (row, field, reason)")
def mentions_upload(request, file: File[UploadedFile]):
    c = caller(request)
    workspace = c.require("listening.manage")
    return 202, upload_enqueue(workspace=workspace, upload=file, actor=c.user)


@router.get("/mentions/{int:mention_id}", response=MentionOut, summary="One mention")
def mention_detail(request, mention_id: int):
    workspace = caller(request).require("listening.view")
    return mention_out(selectors.mention_get(workspace=workspace, mention_id=mention_id))


@router.post("/mentions/{int:mention_id}/label", response=MentionOut,
             summary="Correct the sentiment label (stored as training data)")
def mention_label(request, mention_id: int, payload: LabelIn):
    c = caller(request)
    workspace = c.require("listening.view")
    mention = get_scoped_or_404(Mention, workspace, pk=mention_id)
    services.mention_correct_label(mention=mention, label=payload.label, actor=c.user, via="api")
    return mention_out(selectors.mention_get(workspace=workspace, mention_id=mention_id))


@router.post("/mentions/{int:mention_id}/status", response=MentionOut, summary="Mark handled, dismissed or new")
def mention_status(request, mention_id: int, payload: StatusIn):
    c = caller(request)
    workspace = c.require("listening.view")
    mention = get_scoped_or_404(Mention, workspace, pk=mention_id)
    services.mention_set_status(mention=mention, status=payload.status, actor=c.user, via="api")
    return mention_out(selectors.mention_get(workspace=workspace, mention_id=mention_id))


@router.post("/mentions/{int:mention_id}/conversation", response=ConversationOut,
             summary="Open an inbox conversation for the mention (or return the one opened before)")
def mention_conversation(request, mention_id: int):
    c = caller(request)
    workspace = c.require("inbox.reply")
    c.require("listening.view")
    mention = get_scoped_or_404(Mention, workspace, pk=mention_id)
    conversation_id = services.mention_to_conversation(mention=mention, actor=c.user, via="api")
    mention.refresh_from_db(fields=["customer"])
    return {"mention_id": mention.pk, "conversation_id": conversation_id, "customer_id": mention.customer_id}


# --- dashboard ----------------------------------------------------------------------------------


@router.get("/dashboard/volume", response=dict, summary="Mentions per day (or hour, for ≤ 2 days) by sentiment")
def dashboard_volume(request, params: Query[PeriodParams]):
    workspace = caller(request).require("listening.view")
    period = selectors.period_of(days=params.days)
    scope = params.topic or ALL_TOPICS
    if scope:
        selectors.topic_get(workspace=workspace, topic_id=scope)
    data = selectors.volume_series(workspace=workspace, period=period, topic_ids=[scope])
    return {"bucket": data["bucket"], "buckets": data["keys"], "topic_id": scope, **data["series"][scope]}


@router.get("/dashboard/share-of-voice", response=list[dict],
            summary="Brand and competitor topics: share of voice and heart share (share of positive mentions)")
def dashboard_share_of_voice(request, params: Query[PeriodParams]):
    workspace = caller(request).require("listening.view")
    return selectors.share_of_voice(workspace=workspace, period=selectors.period_of(days=params.days))


@router.get("/dashboard/top-authors", response=list[dict], summary="Authors with the largest reach in the period")
def dashboard_top_authors(request, params: Query[PeriodParams]):
    workspace = caller(request).require("listening.view")
    return selectors.top_authors(workspace=workspace, period=selectors.period_of(days=params.days),
                                 topic_id=params.topic)


@router.get("/dashboard/topics", response=list[dict], summary="Mentions per topic in the period, by sentiment")
def dashboard_topics(request, params: Query[PeriodParams]):
    workspace = caller(request).require("listening.view")
    period = selectors.period_of(days=params.days)
    topics = list(selectors.topics_of(workspace=workspace))
    totals = selectors.totals_by_topic(workspace=workspace, period=period,
                                       topic_ids=[ALL_TOPICS, *(t.pk for t in topics)])
    return [{"topic_id": ALL_TOPICS, "name": "all", "kind": "", **totals[ALL_TOPICS]}] + [
        {"topic_id": t.pk, "name": t.name, "kind": t.kind, **totals[t.pk]} for t in topics]


# --- alerts -------------------------------------------------------------------------------------


@router.get("/alerts", response=list[AlertOut], summary="Negative-spike alerts, newest first")
def alerts(request, open_only: bool = False, limit: int = 50):
    workspace = caller(request).require("listening.view")
    return [_alert_out(a) for a in selectors.alerts_recent(workspace=workspace, limit=max(1, min(200, limit)),
                                                           open_only=open_only)]


@router.post("/alerts/{int:alert_id}/acknowledge", response=AlertOut, summary="Mark an alert as seen")
def alert_acknowledge(request, alert_id: int):
    c = caller(request)
    workspace = c.require("listening.view")
    alert = get_scoped_or_404(Alert.objects.select_related("topic"), workspace, pk=alert_id)
    services.alert_acknowledge(alert=alert, actor=c.user, via="api")
    return _alert_out(alert)

