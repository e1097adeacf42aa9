"""Reads for customers. Every function takes the workspace first."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Avg, Count, Exists, Max, Min, OuterRef, Prefetch, QuerySet, Sum

from samphan.core.errors import NotFound
from samphan.core.scoping import get_scoped_or_404
from samphan.customers.models import Consent, Customer, CustomerTag, Insight
from samphan.customers.search import SearchResults, apply_search


@dataclass
class CustomerFilters:
    q: str = ""
    organisation_kind: str = ""
    organisation_id: int | None = None
    tag: str = ""
    city: str = ""
    language: str = ""
    is_member: bool | None = None
    consent_purpose: str = ""  # with consent_status
    consent_status: str = ""
    created_from: date | None = None
    created_to: date | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def customer_list(*, workspace: Any, q: str = "",
                  filters: CustomerFilters | None = None) -> QuerySet[Customer] | SearchResults:
    """Live customers (not merged away, not erased), newest first, searched and filtered.

    With a search term the result is a `SearchResults` (pages and counts like a queryset, with
    a plan that stays fast however rare or common the term is; see its docstring).
    """
    f = filters or CustomerFilters(q=q)
    if q and not f.q:
        f.q = q
    qs: QuerySet[Customer] = Customer.objects.for_workspace(workspace).filter(merged_into__isnull=True,
                                                                            erased_at__isnull=True)
    qs = apply_search(qs, f.q)
    if f.organisation_kind:
        qs = qs.filter(organisation__kind=f.organisation_kind)
    if f.organisation_id:
        qs = qs.filter(organisation_id=f.organisation_id)
    if f.tag:
        qs = qs.filter(Exists(CustomerTag.objects.filter(customer=OuterRef("pk"), tag__name=f.tag)))
    if f.city:
        qs = qs.filter(city=f.city)
    if f.language:
        qs = qs.filter(language=f.language)
    if f.is_member is not None:
        qs = qs.filter(membership__isnull=not f.is_member)
    if f.consent_purpose and f.consent_status:
        qs = qs.filter(Exists(Consent.objects.filter(customer=OuterRef("pk"), purpose=f.consent_purpose,
                                                     status=f.consent_status)))
    if f.created_from:
        qs = qs.filter(created_at__date__gte=f.created_from)
    if f.created_to:
        qs = qs.filter(created_at__date__lte=f.created_to)
    qs = qs.select_related("organisation").order_by("-created_at", "-id")
    return SearchResults(qs) if f.q.strip() else qs


# Later apps add sections to the customer 360 (segment, CLV, conversations, cases)
# by registering a function (workspace, customer) -> dict under a name.
CUSTOMER_360_SECTIONS: dict[str, Callable[[Any, Customer], Any]] = {}


def register_360_section(name: str) -> Callable:
    def decorator(fn: Callable[[Any, Customer], Any]) -> Callable[[Any, Customer], Any]:
        CUSTOMER_360_SECTIONS[name] = fn
        return fn

    return decorator


def purchase_summary(*, workspace: Any, customer: Customer) -> dict[str, Any]:
    from samphan.commerce.models import Order

    agg = Order.objects.for_workspace(workspace).filter(customer=customer, status=Order.Status.COMPLETED).aggregate(
        order_count=Count("id"), total_spend=Sum("total"), average_order=Avg("total"),
        first_purchase=Min("ordered_at"), last_purchase=Max("ordered_at"),
    )
    return agg


def customer_360(*, workspace: Any, customer_id: int, recent_orders: int = 10) -> dict[str, Any]:
    """Everything the 360 page shows, in a fixed number of queries (pinned by a test)."""
    from samphan.commerce.models import Order

    customer = get_scoped_or_404(
        Customer.objects.select_related("organisation", "membership").prefetch_related(
            "identities", "consents",
            Prefetch("customertag_set", queryset=CustomerTag.objects.select_related("tag")),
            Prefetch("insights", queryset=Insight.objects.select_related("author").order_by("-created_at")),
        ),
        workspace, pk=customer_id,
    )
    if customer.merged_into_id:
        raise NotFound(f"customer #{customer_id} was merged into #{customer.merged_into_id}",
                       details={"merged_into": customer.merged_into_id})
    if customer.erased_at:
        raise NotFound(f"customer #{customer_id} was erased")
    orders = list(
        Order.objects.for_workspace(workspace).filter(customer=customer).order_by("-ordered_at")[:recent_orders]
    )
    data = {
        "customer": customer,
        "identities": list(customer.identities.all()),
        "consents": list(customer.consents.all()),
        "tags": [ct.tag.name for ct in customer.customertag_set.all()],
        "insights": list(customer.insights.all()),
        "membership": getattr(customer, "membership", None),
        "summary": purchase_summary(workspace=workspace, customer=customer),
        "recent_orders": orders,
        "sections": {name: fn(workspace, customer) for name, fn in CUSTOMER_360_SECTIONS.items()},
    }
    return data


def insight_search(*, workspace: Any, q: str, kind: str = "") -> QuerySet[Insight]:
    qs = Insight.objects.for_workspace(workspace).select_related("customer").filter(
        customer__erased_at__isnull=True)
    if q:
        qs = qs.filter(text__icontains=q.strip())
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at")


def customer_ids_by_identity(*, workspace: Any, identities: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(identity kind, raw value) → the customer id, for the identities known in the workspace.

    Values are normalised the way identities are stored (an X handle "@Foo" is "foo"); values
    that are not valid for their kind, and unknown identities, are simply absent. One query per
    kind and 900 values.
    """
    from samphan.core.errors import ValidationFailed
    from samphan.customers.identity import normalise_identity
    from samphan.customers.models import Identity

    wanted: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for kind, raw in identities:
        try:
            norm = normalise_identity(kind, raw)
        except ValidationFailed:
            continue
        wanted.setdefault((norm.kind, norm.value), []).append((kind, raw))
    by_kind: dict[str, list[str]] = {}
    for kind, value in wanted:
        by_kind.setdefault(kind, []).append(value)
    found: dict[tuple[str, str], int] = {}
    workspace_id = getattr(workspace, "pk", workspace)
    for kind, values in by_kind.items():
        for i in range(0, len(values), 900):
            rows = Identity.objects.filter(workspace_id=workspace_id, kind=kind, value__in=values[i:i + 900])
            for value, customer_id in rows.values_list("value", "customer_id"):
                for original in wanted[(kind, value)]:
                    found[original] = customer_id
    return found
