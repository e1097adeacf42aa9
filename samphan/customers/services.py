"""Writes for customers: create, update, identities, resolution."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed
from samphan.customers.identity import normalise_identity
from samphan.customers.models import Customer, Identity

EDITABLE_FIELDS = ("first_name", "last_name", "display_name", "language", "city", "gender", "birth_date")
PRIMARY_CONTACT = {Identity.Kind.EMAIL: "email", Identity.Kind.PHONE: "phone"}


def customer_search_text(customer: Customer, member_number: str = "") -> str:
    """Everything search matches on, lower-cased, in one column.

    The phone is stored both as E.164 digits (66812345678) and in the local
    form (0812345678), so a search in either format hits a substring.
    """
    phone_digits = customer.phone.lstrip("+")
    local = "0" + phone_digits[2:] if phone_digits.startswith("66") else ""
    parts = [customer.first_name, customer.last_name, customer.display_name, customer.email,
             phone_digits, local, customer.external_id or "", member_number]
    return " ".join(p.lower() for p in parts if p)


def customer_find_by_identity(*, workspace: Any, kind: str, value: str) -> Customer | None:
    """Exact match on a normalised identity, following merges to the survivor."""
    identity = (
        Identity.objects.for_workspace(workspace).filter(kind=kind, value=value).select_related("customer").first()
    )
    return identity.customer if identity else None


def identity_attach(*, customer: Customer, kind: str, raw: str, verified: bool = False) -> Identity:
    """Attach a contact point. An identity held by another customer is a conflict, not a silent move."""
    norm = normalise_identity(kind, raw)
    existing = Identity.objects.for_workspace(customer.workspace_id).filter(kind=norm.kind, value=norm.value).first()
    if existing is not None:
        if existing.customer_id == customer.pk:
            return existing
        raise Conflict(f"{norm.kind} {norm.display} already belongs to another customer (#{existing.customer_id})",
                       details={"customer_id": existing.customer_id, "kind": norm.kind})
    try:
        with transaction.atomic():
            identity = Identity.objects.create(workspace_id=customer.workspace_id, customer=customer, kind=norm.kind,
                                               value=norm.value, display_value=norm.display, verified=verified)
    except IntegrityError:
        raise Conflict(f"{norm.kind} {norm.display} already belongs to another customer") from None
    field = PRIMARY_CONTACT.get(norm.kind)
    if field and not getattr(customer, field):
        setattr(customer, field, norm.value)
        customer.search_text = customer_search_text(customer)
        customer.save(update_fields=[field, "search_text", "updated_at"])
    return identity


@transaction.atomic
def customer_create(
    *, workspace: Any, actor: Any = None, via: str = "system", identities: dict[str, str] | None = None,
    external_id: str | None = None, **fields: Any,
) -> Customer:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationFailed(f"unknown customer fields: {', '.join(sorted(unknown))}")
    customer = Customer(workspace_id=getattr(workspace, "pk", workspace), external_id=external_id or None, **fields)
    customer.search_text = customer_search_text(customer)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        raise Conflict(f"customer id {external_id!r} already exists") from None
    for kind, raw in (identities or {}).items():
        if raw:
            identity_attach(customer=customer, kind=kind, raw=raw)
    audit_record(workspace=workspace, action="customer.created", actor=actor, via=via, target=customer,
                 summary=customer.name)
    return customer


@transaction.atomic
def customer_resolve_or_create(
    *, workspace: Any, identities: dict[str, str], via: str = "system", **fields: Any
) -> tuple[Customer, bool]:
    """Find the customer by an exact identity match, else create one. Returns (customer, created).

    Used by channels (a LINE follow, an e-mail) — never merges anyone; weak
    matches are left to duplicate detection.
    """
    normalised = [normalise_identity(kind, raw) for kind, raw in identities.items() if raw]
    for norm in normalised:
        found = customer_find_by_identity(workspace=workspace, kind=norm.kind, value=norm.value)
        if found is not None:
            for other in normalised:  # add contact points we did not know, where free
                try:
                    identity_attach(customer=found, kind=other.kind, raw=other.display)
                except Conflict:
                    pass
            return found, False
    return customer_create(workspace=workspace, via=via, identities=identities, **fields), True


@transaction.atomic
def customer_update(*, customer: Customer, actor: Any, via: str, **fields: Any) -> Customer:
    changes = {}
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS or value is None:
            continue
        old = getattr(customer, name)
        if old != value:
            changes[name] = [str(old), str(value)]
            setattr(customer, name, value)
    if changes:
        customer.search_text = customer_search_text(customer)
        customer.save()
        audit_record(workspace=customer.workspace_id, action="customer.updated", actor=actor, via=via,
                     target=customer, changes=changes)
    return customer
