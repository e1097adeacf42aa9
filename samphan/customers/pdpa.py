"""Thailand's PDPA: give a customer everything held on them, and erase them.

Erasure anonymises the person and keeps business totals: orders stay (amount,
date, channel) but are unlinked from the person, so revenue reports still add
up while nothing points back at who bought.

Apps above this one hold personal data too (the inbox's messages, web-chat
transcripts, channel contacts, listening mentions). Each registers a
`PersonalDataSection` in its AppConfig.ready(): its `export` adds a section to
`customer_export_all`, its `erase` scrubs what it holds inside the erasure's
transaction (before the identities are deleted: it gets them as a list of
`(kind, value)`), so customers never imports those apps and a new app cannot be
forgotten by the export while it is remembered by the erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from samphan.core.audit import audit_record
from samphan.core.errors import Conflict
from samphan.core.models import AuditEvent
from samphan.customers.models import (
    Consent,
    Customer,
    CustomerMembership,
    CustomerTag,
    DuplicateCandidate,
    Identity,
    Insight,
    MergeRecord,
)


@dataclass(frozen=True)
class PersonalDataSection:
    name: str  # the key in the export ("conversations", "mentions", …)
    export: Callable[[Customer], Any]
    # (customer, identities as (kind, value)) → counts of what was scrubbed, for the audit entry.
    erase: Callable[[Customer, list[tuple[str, str]]], dict[str, int]]
    # Models the section exports itself, left out of the generic "other" listing.
    models: tuple[str, ...] = ()


PERSONAL_DATA_SECTIONS: dict[str, PersonalDataSection] = {}


def register_personal_data(section: PersonalDataSection) -> PersonalDataSection:
    PERSONAL_DATA_SECTIONS[section.name] = section
    return section


def row_dict(obj: Any, exclude: tuple[str, ...] = ("workspace",)) -> dict[str, Any]:
    """A model row as JSON-ready values (dates in ISO 8601), for the export."""
    return _row(obj, exclude)


def _row(obj: Any, exclude: tuple[str, ...] = ("workspace",)) -> dict[str, Any]:
    data = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude:
            continue
        value = getattr(obj, field.attname)
        data[field.attname] = value.isoformat() if hasattr(value, "isoformat") else (
            str(value) if value is not None and not isinstance(value, (int, float, str, bool, dict, list)) else value)
    return data


def customer_export_all(*, customer: Customer) -> dict[str, Any]:
    """Everything Samphan holds on one customer, including records that point at them."""
    from samphan.commerce.models import Order, OrderLine

    orders = list(Order.objects.filter(customer=customer).order_by("ordered_at"))
    lines_by_order: dict[int, list[dict[str, Any]]] = {}
    for line in OrderLine.objects.filter(order__customer=customer):
        lines_by_order.setdefault(line.order_id, []).append(_row(line, ("workspace", "order")))
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "customer": _row(customer, ("workspace", "search_text")),
        "organisation": _row(customer.organisation) if customer.organisation_id else None,
        "membership": _row(m) if (m := CustomerMembership.objects.filter(customer=customer).first()) else None,
        "identities": [_row(i, ("workspace", "customer")) for i in Identity.objects.filter(customer=customer)],
        "consents": [_row(c, ("workspace", "customer")) for c in Consent.objects.filter(customer=customer)],
        "tags": list(CustomerTag.objects.filter(customer=customer).values_list("tag__name", flat=True)),
        "insights": [_row(i, ("workspace", "customer")) for i in Insight.objects.filter(customer=customer)],
        "orders": [{**_row(o, ("workspace", "customer")), "lines": lines_by_order.get(o.pk, [])} for o in orders],
    }
    # Records of later apps that point at the customer (conversations, cases, …).
    from samphan.customers.merge import _movable_relations

    known = {"commerce.order", "customers.identity", "customers.insight"}
    for section in PERSONAL_DATA_SECTIONS.values():
        data[section.name] = section.export(customer)
        known.update(section.models)
    for model, field in _movable_relations():
        if model._meta.label_lower in known:
            continue
        rows = model._default_manager.filter(**{field: customer.pk})
        data.setdefault("other", {})[model._meta.label_lower] = [_row(r) for r in rows]
    return data


@transaction.atomic
def customer_erase(*, customer: Customer, actor: Any = None, via: str = "system", reason: str = "") -> Customer:
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.erased_at is not None:
        raise Conflict(f"customer #{customer.pk} was already erased")
    from samphan.commerce.facts import purchase_facts_refresh_customers
    from samphan.commerce.models import Order

    unlinked = Order.objects.filter(customer=customer).update(customer=None)
    purchase_facts_refresh_customers(workspace=customer.workspace_id, customer_ids=[customer.pk])
    identities = list(Identity.objects.filter(customer=customer).values_list("kind", "value"))
    scrubbed: dict[str, int] = {}
    for section in PERSONAL_DATA_SECTIONS.values():
        for key, count in section.erase(customer, identities).items():
            scrubbed[f"{section.name}.{key}"] = count
    Identity.objects.filter(customer=customer).delete()
    Insight.objects.filter(customer=customer).delete()
    Consent.objects.filter(customer=customer).delete()
    CustomerTag.objects.filter(customer=customer).delete()
    CustomerMembership.objects.filter(customer=customer).delete()
    DuplicateCandidate.objects.filter(customer_a=customer).delete()
    DuplicateCandidate.objects.filter(customer_b=customer).delete()
    # Merge snapshots and audit changes can hold personal values: scrub them.
    MergeRecord.objects.filter(survivor=customer).update(snapshot={"erased": True})
    MergeRecord.objects.filter(merged=customer).update(snapshot={"erased": True})
    AuditEvent.objects.filter(workspace_id=customer.workspace_id, target_type="customers.customer",
                              target_id=str(customer.pk)).update(changes={}, summary="(erased)")
    # Records that merged into this customer are the same person.
    for alias in Customer.objects.filter(merged_into=customer):
        customer_erase(customer=alias, actor=actor, via=via, reason="merged into an erased customer")
    for name in ("first_name", "last_name", "display_name", "email", "phone", "language", "gender", "city"):
        setattr(customer, name, "")
    customer.birth_date = None
    customer.external_id = None
    customer.organisation = None
    customer.attributes = {}
    customer.search_text = ""
    customer.erased_at = timezone.now()
    customer.save()
    audit_record(workspace=customer.workspace_id, action="customer.erased", actor=actor, via=via, target=customer,
                 summary="personal data erased (PDPA)", changes={"orders_unlinked": unlinked, "scrubbed": scrubbed, "reason": reason[:200]})
    return customer
