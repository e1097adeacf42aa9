"""Listening pages: the dashboard, the mentions to handle (worst first), topics, sources and uploads.

Charts are inline SVG drawn from the rollups (``samphan/listening/selectors.py``), the way the
analytics dashboard draws its own: no chart library, nothing loaded from elsewhere.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from samphan.accounts.roles import role_can
from samphan.core.errors import SamphanError
from samphan.core.models import Job
from samphan.core.scoping import get_scoped_or_404
from samphan.listening import selectors, services
from samphan.listening.connectors.upload import UPLOAD_JOB, upload_enqueue
from samphan.listening.models import LABELS, Alert, Label, Mention, Source, Topic
from samphan.web.views import workspace_view
from samphan.web.views_analytics import _short_amount

PERIODS = (1, 7, 30, 90, 365)
# Stacked sentiment bars (SVG user units; the SVG scales to its container).
VW, VH = 640, 220
VL, VR, VT, VB = 40, 8, 12, 34


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def volume_chart(volume: dict[str, Any], scope: int) -> dict[str, Any] | None:
    """One stacked bar per bucket: negative at the bottom (it is what the page is for), then question,
    neutral, positive; a label under every n-th bar."""
    series = volume["series"][scope]
    n = len(volume["buckets"])
    totals = [sum(series[label][i] for label in LABELS) for i in range(n)]
    top = max(totals, default=0)
    if not top:
        return None
    w, h = VW - VL - VR, VH - VT - VB
    slot = w / n
    every = max(1, round(n / 8))
    bars = []
    for i in range(n):
        x = VL + i * slot
        y = VT + h
        segments = []
        for label in ("negative", "question", "neutral", "positive"):
            count = series[label][i]
            if count:
                sh = h * count / top
                y -= sh
                segments.append({"label": label, "y": round(y, 1), "h": round(sh, 1), "count": count})
        bars.append({**{label: series[label][i] for label in LABELS}, "x": round(x + slot * 0.1, 1), "w": round(max(slot * 0.8, 0.6), 1), "segments": segments,
                     "total": totals[i], "title": volume["buckets"][i], "cx": round(x + slot / 2, 1),
                     "tick": volume["buckets"][i][-5:],
                     "show_tick": i % every == 0})
    grid = [{"y": round(VT + h * (1 - f), 1), "label": _short_amount(top * f)} for f in (0, 0.5, 1)]
    return {"width": VW, "height": VH, "left": VL, "right": VL + w, "bottom": VT + h, "bars": bars, "grid": grid,
            "label_y": VT + h + 16}


@workspace_view("listening.view")
def listening(request):
    days = _int(request.GET.get("days"), 30)
    days = days if days in PERIODS else 30
    topic_id = _int(request.GET.get("topic"))
    data = selectors.dashboard(workspace=request.workspace, days=days, topic_id=topic_id)
    scope = data["topic_id"]
    totals = data["totals"]
    sov = data["share_of_voice"]
    top_sov = max((r["share_of_voice"] for r in sov), default=0) or 1
    top_heart = max((r["heart_share"] for r in sov), default=0) or 1
    for r in sov:
        r["sov_bar"] = round(100 * r["share_of_voice"] / top_sov, 1)
        r["heart_bar"] = round(100 * r["heart_share"] / top_heart, 1)
        r["sov_pct"] = round(100 * r["share_of_voice"], 1)
        r["heart_pct"] = round(100 * r["heart_share"], 1)
    topic_rows = []
    for t in data["topics"]:
        c = data["topic_totals"][t.pk]
        topic_rows.append({"topic": t, **c, "negative_pct": round(100 * c["negative"] / c["total"]) if c["total"]
                           else 0})
    context = {
        **data, "days": days, "periods": PERIODS, "scope": scope, "sov": sov, "topic_rows": topic_rows,
        "chart": volume_chart(data["volume"], scope),
        "negative_pct": round(100 * totals["negative"] / totals["total"]) if totals["total"] else 0,
        "positive_pct": round(100 * totals["positive"] / totals["total"]) if totals["total"] else 0,
        "alerts_open": selectors.alerts_open_count(workspace=request.workspace),
        "labels": Label.choices, "can_manage": role_can(request.membership.role, "listening.manage"),
        "can_reply": role_can(request.membership.role, "inbox.reply"),
    }
    return render(request, "web/listening/dashboard.html", context)


@workspace_view("listening.view")
def listening_mentions(request):
    filters = selectors.MentionFilters(
        topic_id=_int(request.GET.get("topic")), status=request.GET.get("status", "new"),
        label=request.GET.get("label", ""), source=request.GET.get("source", ""), q=request.GET.get("q", "").strip(),
        order=request.GET.get("order", "priority"))
    if filters.status == "all":
        filters.status = ""
    try:
        rows, next_cursor = selectors.mention_list(workspace=request.workspace, filters=filters,
                                                   cursor=request.GET.get("cursor", ""), limit=25)
        error = ""
    except SamphanError as exc:
        rows, next_cursor, error = [], None, exc.message
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {"mentions": rows, "next_cursor": next_cursor, "filters": filters, "error": error,
               "topics": selectors.topics_of(workspace=request.workspace), "labels": Label.choices,
               "statuses": Mention.Status.choices, "query": query.urlencode(),
               "can_reply": role_can(request.membership.role, "inbox.reply")}
    template = "web/listening/_mention_rows.html" if request.headers.get("HX-Request") == "true" \
        and request.GET.get("cursor") else "web/listening/mentions.html"
    return render(request, template, context)


def _row(request, mention_id: int, *, error: str = ""):
    mention = selectors.mention_get(workspace=request.workspace, mention_id=mention_id)
    return render(request, "web/listening/_mention_row.html",
                  {"m": mention, "labels": Label.choices, "row_error": error,
                   "can_reply": role_can(request.membership.role, "inbox.reply")})


@require_POST
@workspace_view("listening.view")
def listening_mention_label(request, mention_id: int):
    mention = get_scoped_or_404(Mention, request.workspace, pk=mention_id)
    error = ""
    try:
        services.mention_correct_label(mention=mention, label=request.POST.get("label", ""), actor=request.user,
                                       via="web")
    except SamphanError as exc:
        error = exc.message
    return _row(request, mention_id, error=error)


@require_POST
@workspace_view("listening.view")
def listening_mention_status(request, mention_id: int):
    mention = get_scoped_or_404(Mention, request.workspace, pk=mention_id)
    error = ""
    try:
        services.mention_set_status(mention=mention, status=request.POST.get("status", ""), actor=request.user,
                                    via="web")
    except SamphanError as exc:
        error = exc.message
    return _row(request, mention_id, error=error)


@require_POST
@workspace_view("inbox.reply")
def listening_mention_conversation(request, mention_id: int):
    if not role_can(request.membership.role, "listening.view"):
        return render(request, "web/forbidden.html", {"capability": "listening.view"}, status=403)
    mention = get_scoped_or_404(Mention, request.workspace, pk=mention_id)
    error = ""
    try:
        services.mention_to_conversation(mention=mention, actor=request.user, via="web")
    except SamphanError as exc:
        error = exc.message
    return _row(request, mention_id, error=error)


@require_POST
@workspace_view("listening.view")
def listening_alert_ack(request, alert_id: int):
    alert = get_scoped_or_404(Alert, request.workspace, pk=alert_id)
    services.alert_acknowledge(alert=alert, actor=request.user, via="web")
    return redirect("web:listening", slug=request.workspace.slug)


# --- settings: topics, sources, uploads ---------------------------------------------------------


@workspace_view("listening.manage")
def listening_setup(request):
    counts = selectors.topic_mention_counts(workspace=request.workspace)
    topics = list(selectors.topics_of(workspace=request.workspace))
    for t in topics:
        t.mention_count = counts.get(t.pk, 0)
    job = None
    if request.GET.get("job"):
        job = Job.objects.for_workspace(request.workspace).filter(pk=_int(request.GET["job"], 0),
                                                                  kind=UPLOAD_JOB).first()
    context = {"topics": topics, "sources": selectors.sources_of(workspace=request.workspace),
               "kinds": Topic.Kind.choices, "source_kinds": Source.Kind.choices, "job": job,
               "form": request.session.pop("listening_form", {}), "form_error": request.session.pop(
                   "listening_form_error", "")}
    return render(request, "web/listening/setup.html", context)


def _back(request, anchor: str = ""):
    return redirect(f"/w/{request.workspace.slug}/listening/setup/{anchor}")


def _fail(request, exc: SamphanError, form: dict[str, str]):
    request.session["listening_form"] = form
    request.session["listening_form_error"] = exc.message
    messages.error(request, exc.message)


@require_POST
@workspace_view("listening.manage")
def listening_topic_save(request):
    form = {k: request.POST.get(k, "") for k in ("topic_id", "name", "kind", "include_terms", "exclude_terms")}
    try:
        if form["topic_id"]:
            topic = get_scoped_or_404(Topic, request.workspace, pk=_int(form["topic_id"], 0))
            services.topic_update(topic=topic, name=form["name"], kind=form["kind"],
                                  include_terms=form["include_terms"], exclude_terms=form["exclude_terms"],
                                  actor=request.user, via="web")
            messages.success(request, _("Topic saved. Stored mentions are being matched again."))
        else:
            services.topic_create(workspace=request.workspace, name=form["name"], kind=form["kind"],
                                  include_terms=form["include_terms"], exclude_terms=form["exclude_terms"],
                                  actor=request.user, via="web")
            messages.success(request, _("Topic added. Stored mentions are being matched in the background."))
    except SamphanError as exc:
        _fail(request, exc, form)
    return _back(request, "#topics")


@require_POST
@workspace_view("listening.manage")
def listening_topic_toggle(request, topic_id: int):
    topic = get_scoped_or_404(Topic, request.workspace, pk=topic_id)
    if request.POST.get("delete"):
        services.topic_delete(topic=topic, actor=request.user, via="web")
        messages.success(request, _("Topic deleted."))
    else:
        services.topic_update(topic=topic, is_active=not topic.is_active, actor=request.user, via="web")
    return _back(request, "#topics")


@require_POST
@workspace_view("listening.manage")
def listening_source_save(request):
    form = {k: request.POST.get(k, "") for k in ("kind", "name", "url", "query", "interval_minutes")}
    try:
        services.source_create(workspace=request.workspace, kind=form["kind"], name=form["name"], url=form["url"],
                               query=form["query"], bearer_token=request.POST.get("bearer_token", ""),
                               interval_minutes=_int(form["interval_minutes"], 15) or 0, actor=request.user,
                               via="web")
        messages.success(request, _("Source added. It is fetched at its interval; fetch it now to see it work."))
    except SamphanError as exc:
        _fail(request, exc, form)
    return _back(request, "#sources")


@require_POST
@workspace_view("listening.manage")
def listening_source_action(request, source_id: int):
    from samphan.listening.connectors.scheduler import source_fetch_now

    source = get_scoped_or_404(Source, request.workspace, pk=source_id)
    action = request.POST.get("action")
    if action == "fetch":
        outcome = source_fetch_now(source_id=source.pk)
        if outcome.get("error"):
            messages.error(request, _("The fetch failed: %(reason)s") % {"reason": outcome["error"]})
        else:
            messages.success(request, _("Fetched: %(n)d new mentions.") % {"n": outcome.get("created", 0)})
    elif action == "toggle":
        services.source_update(source=source, is_active=not source.is_active, actor=request.user, via="web")
    elif action == "delete":
        services.source_delete(source=source, actor=request.user, via="web")
        messages.success(request, _("Source removed."))
    return _back(request, "#sources")


@require_POST
@workspace_view("listening.manage")
def listening_upload(request):
    try:
        job = upload_enqueue(workspace=request.workspace, upload=request.FILES.get("file"), actor=request.user)
    except SamphanError as exc:
        messages.error(request, exc.message)
        return _back(request, "#upload")
    return redirect(f"/w/{request.workspace.slug}/listening/setup/?job={job.pk}#upload")


@workspace_view("listening.manage")
def listening_upload_job(request, job_id: int):
    job = get_scoped_or_404(Job, request.workspace, pk=job_id, kind=UPLOAD_JOB)
    return render(request, "web/listening/_upload_job.html", {"job": job})

