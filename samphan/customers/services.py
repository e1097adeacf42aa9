"""Writes for customers: create, update, identities, resolution."""

from __future__ import annotations

import contextlib
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed
from samphan.customers.identity import normalise_identity
from samphan.customers.models import (
    Consent,
    Customer,
    CustomerMembership,
    CustomerTag,
    Identity,
    Insight,
    Organisation,
    Tag,
)

EDITABLE_FIELDS = ("first_name", "last_name", "display_name", "language", "city", "gender", "birth_date")
PRIMARY_CONTACT: dict[str, str] = {Identity.Kind.EMAIL: "email", Identity.Kind.PHONE: "phone"}


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
                with contextlib.suppress(Conflict):
                    identity_attach(customer=found, kind=other.kind, raw=other.display)
            return found, False
    return customer_create(workspace=workspace, via=via, identities=identities, **fields), True


def customers_create_for_identities(*, workspace: Any, wanted: dict[tuple[str, str], str],
                                    via: str = "system") -> dict[tuple[str, str], int]:
    """A new customer for each unknown (kind, normalised value), named by its display name: the set-based
    form of customer_resolve_or_create for a channel's batch of first-time senders. Returns
    (kind, value) → customer id.

    Three INSERTs (customers, identities, audit entries) for the whole set instead of a dozen
    statements per customer. Exact identity only, nobody merged: the result is what
    customer_create would have written for each (primary e-mail / phone filled from the identity).
    If another writer took one of the identities meanwhile (the unique constraint says so), the
    set is rolled back and resolved one by one, linking to that writer's customer.
    """
    from samphan.core.models import AuditEvent

    workspace_id = getattr(workspace, "pk", workspace)
    if not wanted:
        return {}
    try:
        with transaction.atomic():
            now = timezone.now()
            customers = []
            for (kind, value), display_name in wanted.items():
                customer = Customer(workspace_id=workspace_id, display_name=(display_name or "")[:255])
                if field := PRIMARY_CONTACT.get(Identity.Kind(kind)):
                    setattr(customer, field, value)
                customer.search_text = customer_search_text(customer)
                customers.append(customer)
            Customer.objects.bulk_create(customers)
            if any(c.pk is None for c in customers):  # a database that cannot return ids: the careful path
                raise IntegrityError("customer ids not returned")
            Identity.objects.bulk_create([
                Identity(workspace_id=workspace_id, customer=customer, kind=kind, value=value, display_value=value,
                         created_at=now)
                for (kind, value), customer in zip(wanted, customers, strict=True)])
            AuditEvent.objects.bulk_create([
                AuditEvent(workspace_id=workspace_id, via=via, action="customer.created",
                           target_type=Customer._meta.label_lower, target_id=str(c.pk), summary=c.name[:255],
                           changes={}, created_at=now)
                for c in customers])
            return {key: c.pk for key, c in zip(wanted, customers, strict=True)}
    except IntegrityError:
        pass
    found: dict[tuple[str, str], int] = {}
    for (kind, value), display_name in wanted.items():
        fields = {"display_name": display_name[:255]} if display_name else {}
        try:
            found[(kind, value)] = customer_resolve_or_create(workspace=workspace_id, identities={kind: value},
                                                              via=via, **fields)[0].pk
        except Conflict:
            # Another writer created this identity a moment ago: link to theirs.
            theirs = customer_find_by_identity(workspace=workspace_id, kind=kind, value=value)
            if theirs is None:
                raise
            found[(kind, value)] = theirs.pk
    return found


@transaction.atomic
def customer_identity_claim(*, workspace: Any, holder: tuple[str, str], kind: str, raw: str,
                            via: str = "system") -> Customer:
    """A channel learned that the person behind `holder` (kind, value) — a web-chat visitor — has another
    contact point they typed themselves (an e-mail address). Returns the customer the holder now belongs to.

    The claim is not verified, so it follows the identity rule and nothing weaker:
    - the claimed identity is nobody's: it is added to the holder's customer (created if the holder
      is new), and weak look-alikes (the same e-mail written another way) become duplicate candidates;
    - it is exactly another customer's: the holder links to that customer. A holder not yet known
      gets its identity there; a holder whose customer is only known by ids of the holder's own kind
      (an anonymous visitor: nothing a person entered) is merged into it — audited, and undoable
      like any merge; a holder whose customer has anything else (a phone, another e-mail) is not
      merged: the pair becomes a duplicate candidate for a person to decide.
    """
    from samphan.customers.duplicates import duplicate_propose, duplicates_for_email
    from samphan.customers.merge import customer_merge

    holder_kind, holder_value = holder
    holder_norm = normalise_identity(holder_kind, holder_value)
    claimed = normalise_identity(kind, raw)
    mine = customer_find_by_identity(workspace=workspace, kind=holder_norm.kind, value=holder_norm.value)
    owner = customer_find_by_identity(workspace=workspace, kind=claimed.kind, value=claimed.value)
    if owner is None:
        if mine is None:
            mine = customer_create(workspace=workspace, via=via,
                                   identities={holder_norm.kind: holder_norm.value, claimed.kind: claimed.display})
        else:
            identity_attach(customer=mine, kind=claimed.kind, raw=claimed.display)
        if claimed.kind == Identity.Kind.EMAIL:
            duplicates_for_email(workspace=workspace, customer=mine, email=claimed.value)
        return mine
    if mine is None:
        identity_attach(customer=owner, kind=holder_norm.kind, raw=holder_norm.value)
        return owner
    if mine.pk == owner.pk:
        return owner
    other_kinds = Identity.objects.filter(customer=mine).exclude(kind=holder_norm.kind).exists()
    if not other_kinds and not (mine.email or mine.phone):
        customer_merge(survivor=owner, merged=mine, via=via)
        return owner
    duplicate_propose(workspace=workspace, a=mine.pk, b=owner.pk, reasons={"claimed_identity": 90.0})
    return mine


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


# --- consent, tags, insights, organisations -----------------------------------------

@transaction.atomic
def consent_set(*, customer: Customer, purpose: str, status: str, source: str, actor: Any = None,
                via: str = "system") -> Consent:
    """Record consent for one purpose (PDPA). The previous value is kept in the audit log."""
    if purpose not in Consent.Purpose.values:
        raise ValidationFailed(f"unknown consent purpose {purpose!r}; one of {', '.join(Consent.Purpose.values)}")
    if status not in Consent.Status.values:
        raise ValidationFailed(f"unknown consent status {status!r}; one of {', '.join(Consent.Status.values)}")
    if not source.strip():
        raise ValidationFailed("consent needs a source (where and how it was given)")
    consent = Consent.objects.filter(customer=customer, purpose=purpose).first()
    before = consent.status if consent else None
    if consent is None:
        consent = Consent(workspace_id=customer.workspace_id, customer=customer, purpose=purpose)
    consent.status, consent.source, consent.recorded_at = status, source.strip()[:100], timezone.now()
    consent.save()
    audit_record(workspace=customer.workspace_id, action="consent.set", actor=actor, via=via, target=customer,
                 summary=f"{purpose}: {before or '—'} → {status}",
                 changes={"purpose": purpose, "before": before, "after": status, "source": consent.source})
    return consent


@transaction.atomic
def tag_add(*, customer: Customer, name: str, actor: Any = None, via: str = "system") -> Tag:
    name = name.strip()
    if not name or len(name) > 64:
        raise ValidationFailed("a tag needs 1–64 characters")
    tag, _ = Tag.objects.get_or_create(workspace_id=customer.workspace_id, name=name)
    CustomerTag.objects.get_or_create(workspace_id=customer.workspace_id, customer=customer, tag=tag)
    return tag


@transaction.atomic
def tag_remove(*, customer: Customer, name: str, actor: Any = None, via: str = "system") -> None:
    CustomerTag.objects.filter(customer=customer, tag__name=name.strip()).delete()


def insight_add(*, customer: Customer, kind: str, text: str, actor: Any = None, via: str = "system") -> Insight:
    if kind not in Insight.Kind.values:
        raise ValidationFailed(f"unknown insight kind {kind!r}; one of {', '.join(Insight.Kind.values)}")
    if not text.strip():
        raise ValidationFailed("an insight needs text")
    return Insight.objects.create(workspace_id=customer.workspace_id, customer=customer, kind=kind,
                                  text=text.strip(), author=actor if getattr(actor, "is_authenticated", False) else None)


@transaction.atomic
def organisation_create(*, workspace: Any, name: str, kind: str = "other", external_id: str | None = None,
                        actor: Any = None, via: str = "system") -> Organisation:
    if kind not in Organisation.Kind.values:
        raise ValidationFailed(f"unknown organisation kind {kind!r}; one of {', '.join(Organisation.Kind.values)}")
    if not name.strip():
        raise ValidationFailed("an organisation needs a name")
    org = Organisation.objects.create(workspace_id=getattr(workspace, "pk", workspace), name=name.strip(), kind=kind,
                                      external_id=external_id or None)
    audit_record(workspace=workspace, action="organisation.created", actor=actor, via=via, target=org, summary=org.name)
    return org


@transaction.atomic
def membership_set(*, customer: Customer, member_number: str, card_number: str = "", tier: str = "",
                   joined_on: Any = None, actor: Any = None, via: str = "system") -> CustomerMembership:
    member_number = member_number.strip()
    if not member_number:
        raise ValidationFailed("a member number is required")
    taken = (CustomerMembership.objects.for_workspace(customer.workspace_id).filter(member_number=member_number)
             .exclude(customer=customer).values_list("customer_id", flat=True).first())
    if taken:
        raise Conflict(f"member number {member_number} already belongs to customer #{taken}")
    membership, _ = CustomerMembership.objects.update_or_create(
        customer=customer, defaults={"workspace_id": customer.workspace_id, "member_number": member_number,
                                     "card_number": card_number, "tier": tier,
                                     **({"joined_on": joined_on} if joined_on else {})})
    customer.search_text = customer_search_text(customer, member_number)
    customer.save(update_fields=["search_text", "updated_at"])
    audit_record(workspace=customer.workspace_id, action="membership.set", actor=actor, via=via, target=customer,
                 summary=f"member {member_number}")
    return membership
