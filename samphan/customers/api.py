"""Customers API: list/search, 360, profile, identities, consent, tags, insights,
organisations, duplicates and merge, PDPA export and erasure."""


import csv
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import StreamingHttpResponse
from ninja import Query, Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from samphan.core.api import caller
from samphan.core.jobs import job_enqueue
from samphan.core.jobs_api import JobOut
from samphan.core.scoping import get_scoped_or_404
from samphan.customers import duplicates as dup
from samphan.customers import services
from samphan.customers.merge import customer_merge, customer_merge_undo
from samphan.customers.models import (
    Customer,
    DuplicateCandidate,
    Identity,
    MergeRecord,
    Organisation,
)
from samphan.customers.pdpa import customer_erase, customer_export_all
from samphan.customers.selectors import CustomerFilters, customer_360, customer_list, insight_search

router = Router(tags=["customers"])


# --- schemas ---------------------------------------------------------------------------

class OrganisationOut(Schema):
    id: int
    name: str
    kind: str
    external_id: str | None


class CustomerOut(Schema):
    id: int
    external_id: str | None
    name: str
    first_name: str
    last_name: str
    display_name: str
    email: str
    phone: str
    language: str
    city: str
    organisation_id: int | None
    created_at: datetime


class IdentityOut(Schema):
    id: int
    kind: str
    value: str
    display_value: str
    verified: bool


class ConsentOut(Schema):
    purpose: str
    status: str
    source: str
    recorded_at: datetime


class InsightOut(Schema):
    id: int
    kind: str
    text: str
    author: str | None
    created_at: datetime


class MembershipOut(Schema):
    member_number: str
    card_number: str
    joined_on: date
    tier: str


class PurchaseSummary(Schema):
    order_count: int
    total_spend: Decimal | None
    average_order: Decimal | None
    first_purchase: datetime | None
    last_purchase: datetime | None


class OrderBrief(Schema):
    id: int
    order_id: str
    ordered_at: datetime
    channel: str
    total: Decimal
    currency: str
    status: str


class Customer360(Schema):
    customer: CustomerOut
    attributes: dict
    organisation: OrganisationOut | None
    membership: MembershipOut | None
    identities: list[IdentityOut]
    consents: list[ConsentOut]
    tags: list[str]
    insights: list[InsightOut]
    purchase_summary: PurchaseSummary
    recent_orders: list[OrderBrief]
    sections: dict[str, Any]


class CustomerIn(Schema):
    external_id: str | None = None
    first_name: str = ""
    last_name: str = ""
    display_name: str = ""
    language: str = ""
    city: str = ""
    email: str | None = None
    phone: str | None = None
    line_id: str | None = None
    facebook_psid: str | None = None
    x_handle: str | None = None


class CustomerPatch(Schema):
    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    language: str | None = None
    city: str | None = None
    gender: str | None = None
    birth_date: date | None = None


class IdentityIn(Schema):
    kind: str
    value: str


class ConsentIn(Schema):
    status: str
    source: str


class TagIn(Schema):
    name: str


class InsightIn(Schema):
    kind: str
    text: str


class MembershipIn(Schema):
    member_number: str
    card_number: str = ""
    tier: str = ""
    joined_on: date | None = None


class OrganisationIn(Schema):
    name: str
    kind: str = "other"
    external_id: str | None = None


class MergeIn(Schema):
    survivor_id: int
    merged_id: int


class MergeOut(Schema):
    id: int
    survivor_id: int
    merged_id: int
    created_at: datetime
    undone_at: datetime | None


class CandidateOut(Schema):
    id: int
    customer_a: CustomerOut
    customer_b: CustomerOut
    reasons: list[str]
    score: float
    status: str


class EraseIn(Schema):
    reason: str = ""


# --- helpers --------------------------------------------------------------------------------

def _customer(workspace, customer_id: int) -> Customer:
    return get_scoped_or_404(
        Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True), workspace, pk=customer_id)


def _360_out(data: dict[str, Any]) -> dict[str, Any]:
    c = data["customer"]
    return {
        "customer": c,
        "attributes": c.attributes,
        "organisation": c.organisation,
        "membership": data["membership"],
        "identities": data["identities"],
        "consents": data["consents"],
        "tags": data["tags"],
        "insights": [{"id": i.id, "kind": i.kind, "text": i.text, "created_at": i.created_at,
                      "author": i.author.name if i.author else None} for i in data["insights"]],
        "purchase_summary": data["summary"],
        "recent_orders": [{"id": o.id, "order_id": o.external_id, "ordered_at": o.ordered_at, "channel": o.channel,
                           "total": o.total, "currency": o.currency, "status": o.status}
                          for o in data["recent_orders"]],
        "sections": data["sections"],
    }


class ListParams(Schema):
    q: str = ""
    organisation_kind: str = ""
    organisation_id: int | None = None
    tag: str = ""
    city: str = ""
    language: str = ""
    is_member: bool | None = None
    consent_purpose: str = ""
    consent_status: str = ""
    created_from: date | None = None
    created_to: date | None = None


# --- customers -------------------------------------------------------------------------------

@router.get("", response=list[CustomerOut], summary="Search and filter customers, newest first")
@paginate(LimitOffsetPagination)
def customers_list(request, params: Query[ListParams]):
    workspace = caller(request).require("customers.view")
    return customer_list(workspace=workspace, filters=CustomerFilters(**params.dict()))


@router.post("", response={201: CustomerOut}, summary="Create a customer with contact points")
def customers_create(request, payload: CustomerIn):
    c = caller(request)
    workspace = c.require("customers.edit")
    data = payload.dict()
    identities = {Identity.Kind.EMAIL: data.pop("email"), Identity.Kind.PHONE: data.pop("phone"),
                  Identity.Kind.LINE: data.pop("line_id"), Identity.Kind.FACEBOOK: data.pop("facebook_psid"),
                  Identity.Kind.X_HANDLE: data.pop("x_handle")}
    customer = services.customer_create(workspace=workspace, actor=c.user, via=c.via,
                                        identities={k: v for k, v in identities.items() if v}, **data)
    return 201, customer


@router.get("/export.csv", summary="All live customers as CSV (UTF-8 with BOM, opens in Excel)", response=None)
def customers_export_csv(request):
    workspace = caller(request).require("customers.export")
    from samphan.customers.exports import customers_csv_rows

    return _csv_response(customers_csv_rows(workspace=workspace), "customers.csv")


def _csv_response(rows, filename: str) -> StreamingHttpResponse:
    class Echo:
        def write(self, value):
            return value

    writer = csv.writer(Echo())

    def stream():
        yield "\ufeff"
        for row in rows:
            yield writer.writerow(row)

    response = StreamingHttpResponse(stream(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@router.get("/insights", response=list[InsightOut], summary="Search insights (needs, motives, feelings…)")
@paginate(LimitOffsetPagination)
def insights_search(request, q: str = "", kind: str = ""):
    workspace = caller(request).require("customers.view")
    return [{"id": i.id, "kind": i.kind, "text": i.text, "created_at": i.created_at, "author": None}
            for i in insight_search(workspace=workspace, q=q, kind=kind)[:1000]]


@router.get("/duplicates", response=list[CandidateOut], summary="Possible duplicates, best evidence first")
@paginate(LimitOffsetPagination)
def duplicates_list(request, status: str = "open", customer_id: int | None = None):
    workspace = caller(request).require("customers.view")
    customer = _customer(workspace, customer_id) if customer_id else None
    return dup.duplicate_candidates(workspace=workspace, customer=customer, status=status)


@router.post("/duplicates/scan", response={202: JobOut}, summary="Look for duplicates in the background")
def duplicates_scan(request):
    c = caller(request)
    workspace = c.require("customers.merge")
    from samphan.customers.tasks import duplicates_scan_job

    return 202, job_enqueue(workspace=workspace, kind="duplicates_scan", task=duplicates_scan_job, actor=c.user)


@router.post("/duplicates/{candidate_id}/dismiss", response=CandidateOut, summary="Mark a pair as different people")
def duplicates_dismiss(request, candidate_id: int):
    c = caller(request)
    workspace = c.require("customers.merge")
    candidate = get_scoped_or_404(DuplicateCandidate.objects.select_related("customer_a", "customer_b"),
                                  workspace, pk=candidate_id)
    return dup.duplicate_dismiss(candidate=candidate, actor=c.user, via=c.via)


@router.post("/merge", response={201: MergeOut}, summary="Merge one customer into a survivor you choose")
def customers_merge(request, payload: MergeIn):
    c = caller(request)
    workspace = c.require("customers.merge")
    survivor = _customer(workspace, payload.survivor_id)
    merged = _customer(workspace, payload.merged_id)
    record = customer_merge(survivor=survivor, merged=merged, actor=c.user, via=c.via)
    return 201, record


@router.post("/merges/{merge_id}/undo", response=MergeOut, summary="Undo a merge")
def customers_merge_undo(request, merge_id: int):
    c = caller(request)
    workspace = c.require("customers.merge")
    record = get_scoped_or_404(MergeRecord, workspace, pk=merge_id)
    customer_merge_undo(record=record, actor=c.user, via=c.via)
    record.refresh_from_db()
    return record


@router.get("/organisations", response=list[OrganisationOut], summary="Organisations: shops, corporate accounts")
@paginate(LimitOffsetPagination)
def organisations_list(request, kind: str = "", q: str = ""):
    workspace = caller(request).require("customers.view")
    qs = Organisation.objects.for_workspace(workspace).order_by("name")
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs


@router.post("/organisations", response={201: OrganisationOut}, summary="Create an organisation")
def organisations_create(request, payload: OrganisationIn):
    c = caller(request)
    workspace = c.require("customers.edit")
    return 201, services.organisation_create(workspace=workspace, actor=c.user, via=c.via, **payload.dict())


@router.get("/{customer_id}", response=Customer360, summary="Customer 360: profile, contacts, consent, insights, purchases")
def customers_get(request, customer_id: int):
    workspace = caller(request).require("customers.view")
    return _360_out(customer_360(workspace=workspace, customer_id=customer_id))


@router.patch("/{customer_id}", response=CustomerOut, summary="Change a customer's profile")
def customers_patch(request, customer_id: int, payload: CustomerPatch):
    c = caller(request)
    workspace = c.require("customers.edit")
    customer = _customer(workspace, customer_id)
    return services.customer_update(customer=customer, actor=c.user, via=c.via, **payload.dict(exclude_unset=True))


@router.post("/{customer_id}/identities", response={201: IdentityOut}, summary="Add a contact point")
def identities_add(request, customer_id: int, payload: IdentityIn):
    c = caller(request)
    workspace = c.require("customers.edit")
    customer = _customer(workspace, customer_id)
    return 201, services.identity_attach(customer=customer, kind=payload.kind, raw=payload.value)


@router.put("/{customer_id}/consent/{purpose}", response=ConsentOut, summary="Record consent for a purpose (PDPA)")
def consent_put(request, customer_id: int, purpose: str, payload: ConsentIn):
    c = caller(request)
    workspace = c.require("customers.edit")
    customer = _customer(workspace, customer_id)
    return services.consent_set(customer=customer, purpose=purpose, status=payload.status, source=payload.source,
                                actor=c.user, via=c.via)


@router.post("/{customer_id}/tags", response={201: dict}, summary="Tag a customer")
def tags_add(request, customer_id: int, payload: TagIn):
    c = caller(request)
    workspace = c.require("customers.edit")
    tag = services.tag_add(customer=_customer(workspace, customer_id), name=payload.name, actor=c.user, via=c.via)
    return 201, {"name": tag.name}


@router.delete("/{customer_id}/tags/{name}", response={204: None}, summary="Remove a tag")
def tags_remove(request, customer_id: int, name: str):
    c = caller(request)
    workspace = c.require("customers.edit")
    services.tag_remove(customer=_customer(workspace, customer_id), name=name, actor=c.user, via=c.via)
    return 204, None


@router.post("/{customer_id}/insights", response={201: InsightOut}, summary="Add an insight")
def insights_add(request, customer_id: int, payload: InsightIn):
    c = caller(request)
    workspace = c.require("customers.view")  # anyone who talks with customers may note what they learn
    insight = services.insight_add(customer=_customer(workspace, customer_id), kind=payload.kind, text=payload.text,
                                   actor=c.user, via=c.via)
    return 201, {"id": insight.id, "kind": insight.kind, "text": insight.text, "created_at": insight.created_at,
                 "author": c.user.name}


@router.put("/{customer_id}/membership", response=MembershipOut, summary="Set the member number and card")
def membership_put(request, customer_id: int, payload: MembershipIn):
    c = caller(request)
    workspace = c.require("customers.edit")
    return services.membership_set(customer=_customer(workspace, customer_id), actor=c.user, via=c.via,
                                   **payload.dict())


@router.get("/{customer_id}/export", response=dict, summary="Everything held on this customer (PDPA access)")
def customers_export_one(request, customer_id: int):
    c = caller(request)
    workspace = c.require("customers.export")
    customer = _customer(workspace, customer_id)
    from samphan.core.audit import audit_record

    audit_record(workspace=workspace, action="customer.exported", actor=c.user, via=c.via, target=customer)
    return customer_export_all(customer=customer)


@router.post("/{customer_id}/erase", response=dict, summary="Erase a customer's personal data (PDPA)")
def customers_erase(request, customer_id: int, payload: EraseIn):
    c = caller(request)
    workspace = c.require("customers.erase")
    customer = customer_erase(customer=_customer(workspace, customer_id), actor=c.user, via=c.via,
                              reason=payload.reason)
    return {"id": customer.pk, "erased_at": customer.erased_at}
