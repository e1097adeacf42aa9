from datetime import datetime
from typing import Any

from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from samphan.core.api import caller
from samphan.core.jobs import job_enqueue
from samphan.core.jobs_api import JobOut
from samphan.core.scoping import get_scoped_or_404
from samphan.customers.api import CustomerOut
from samphan.segments import services
from samphan.segments.models import Segment, SegmentEvent
from samphan.segments.rules import FIELDS
from samphan.segments.tasks import segments_refresh_all_job

router = Router(tags=["segments"])


class SegmentIn(Schema):
    name: str
    description: str = ""
    rule: dict[str, Any]


class RuleIn(Schema):
    rule: dict[str, Any]


class SegmentOut(Schema):
    id: int
    name: str
    description: str
    rule: dict[str, Any]
    member_count: int
    refreshed_at: datetime | None
    created_at: datetime


class SegmentCreated(Schema):
    segment: SegmentOut
    job: JobOut


class FieldOut(Schema):
    name: str
    label: str
    type: str
    group: str
    operators: list[str]
    choices: list[list[str]] | None


class EventOut(Schema):
    customer_id: int
    kind: str
    at: datetime


@router.get("/fields", response=list[FieldOut], summary="What a rule can use: fields, operators, choices")
def fields_list(request):
    workspace = caller(request).require("customers.view")
    return [{"name": f.name, "label": str(f.label), "type": f.type, "group": f.group, "operators": list(f.operators),
             "choices": [list(c) for c in f.choices(workspace)] if f.choices else None} for f in FIELDS.values()]


@router.post("/preview", response=dict, summary="Count the customers a rule matches now (live preview)")
def preview(request, payload: RuleIn, segment_id: int | None = None):
    workspace = caller(request).require("customers.view")
    return {"count": services.segment_count(workspace=workspace, rule=payload.rule, segment_id=segment_id)}


@router.get("", response=list[SegmentOut], summary="Segments of the workspace")
def segments_list(request):
    workspace = caller(request).require("customers.view")
    return Segment.objects.for_workspace(workspace).order_by("name")


@router.post("", response={201: SegmentCreated}, summary="Create a segment; membership fills in the background")
def segments_create(request, payload: SegmentIn):
    c = caller(request)
    workspace = c.require("campaigns.manage")
    segment = services.segment_save(workspace=workspace, name=payload.name, rule=payload.rule,
                                    description=payload.description, actor=c.user, via=c.via)
    job = job_enqueue(workspace=workspace, kind="segments_refresh", task=segments_refresh_all_job, actor=c.user)
    return 201, {"segment": segment, "job": job}


@router.get("/{segment_id}", response=SegmentOut, summary="One segment")
def segments_get(request, segment_id: int):
    workspace = caller(request).require("customers.view")
    return get_scoped_or_404(Segment, workspace, pk=segment_id)


@router.put("/{segment_id}", response=SegmentOut, summary="Change a segment's name or rule")
def segments_update(request, segment_id: int, payload: SegmentIn):
    c = caller(request)
    workspace = c.require("campaigns.manage")
    segment = get_scoped_or_404(Segment, workspace, pk=segment_id)
    segment = services.segment_save(workspace=workspace, segment=segment, name=payload.name, rule=payload.rule,
                                    description=payload.description, actor=c.user, via=c.via)
    services.segment_refresh(segment=segment)
    return segment


@router.delete("/{segment_id}", response={204: None}, summary="Delete a segment")
def segments_delete(request, segment_id: int):
    c = caller(request)
    workspace = c.require("campaigns.manage")
    services.segment_delete(segment=get_scoped_or_404(Segment, workspace, pk=segment_id), actor=c.user, via=c.via)
    return 204, None


@router.post("/{segment_id}/refresh", response={202: JobOut}, summary="Refresh membership in the background")
def segments_refresh(request, segment_id: int):
    c = caller(request)
    workspace = c.require("customers.view")
    get_scoped_or_404(Segment, workspace, pk=segment_id)
    return 202, job_enqueue(workspace=workspace, kind="segments_refresh", task=segments_refresh_all_job, actor=c.user)


@router.get("/{segment_id}/members", response=list[CustomerOut], summary="Customers in the segment now")
@paginate(LimitOffsetPagination)
def segments_members(request, segment_id: int):
    workspace = caller(request).require("customers.view")
    segment = get_scoped_or_404(Segment, workspace, pk=segment_id)
    from samphan.customers.models import Customer

    return Customer.objects.for_workspace(workspace).filter(segment_memberships__segment=segment).order_by("-id")


@router.get("/{segment_id}/events", response=list[EventOut], summary="Who joined and left, newest first")
@paginate(LimitOffsetPagination)
def segments_events(request, segment_id: int, kind: str = "", since: datetime | None = None):
    workspace = caller(request).require("customers.view")
    segment = get_scoped_or_404(Segment, workspace, pk=segment_id)
    qs = SegmentEvent.objects.filter(segment=segment).order_by("-at", "-id")
    if kind:
        qs = qs.filter(kind=kind)
    if since:
        qs = qs.filter(at__gte=since)
    return qs
