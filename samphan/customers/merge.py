"""Merging two customer records into one chosen survivor, and undoing it.

What moves: every row that points at the merged customer through a foreign key
(orders, identities, insights, tags, and whatever later apps add — conversations,
cases — found through Customer's reverse relations, so new apps need no change
here; derived data such as segment membership opts out with `merge_moves = False`). Consent keeps the most restrictive status per purpose. The survivor's
blank profile fields are filled from the merged record. Everything changed is
written to a MergeRecord so an undo restores it exactly; an audit entry is
written both ways.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import ForeignKey, Model
from django.utils import timezone

from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed
from samphan.customers.models import (
    Consent,
    Customer,
    CustomerMembership,
    CustomerTag,
    DuplicateCandidate,
    MergeRecord,
)
from samphan.customers.services import customer_search_text

# Relations with their own rules (or none: bookkeeping that must not move).
_SPECIAL = {CustomerTag, Consent, CustomerMembership, DuplicateCandidate, MergeRecord, Customer}
_FILLABLE = ("first_name", "last_name", "display_name", "email", "phone", "language", "gender", "birth_date",
             "city", "organisation_id")
# Most restrictive first.
_CONSENT_RANK: dict[str, int] = {Consent.Status.WITHDRAWN: 0, Consent.Status.DENIED: 1, Consent.Status.GRANTED: 2}


def _movable_relations() -> list[tuple[type[Model], str]]:
    relations: list[tuple[type[Model], str]] = []
    for rel in Customer._meta.related_objects:
        model = rel.related_model
        # A model opts out with `merge_moves = False` (derived data, recomputed after a merge).
        if (rel.one_to_many and isinstance(rel.field, ForeignKey) and model not in _SPECIAL
                and getattr(model, "merge_moves", True)):
            relations.append((rel.related_model, rel.field.name))
    return relations


def _label(model: type[Model]) -> str:
    return model._meta.label_lower


def _membership_snapshot(m: CustomerMembership) -> dict[str, Any]:
    return {"id": m.pk, "customer_id": m.customer_id}


@transaction.atomic
def customer_merge(*, survivor: Customer, merged: Customer, actor: Any = None, via: str = "system") -> MergeRecord:
    if survivor.workspace_id != merged.workspace_id:
        raise ValidationFailed("customers of different workspaces cannot be merged")
    if survivor.pk == merged.pk:
        raise ValidationFailed("a customer cannot be merged into itself")
    # Lock both rows so two agents merging the same pair cannot interleave.
    locked = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    for customer in (survivor, merged):
        if customer.merged_into_id is not None:
            raise Conflict(f"customer #{customer.pk} was already merged into #{customer.merged_into_id}")
        if customer.erased_at is not None:
            raise Conflict(f"customer #{customer.pk} has been erased")

    snapshot: dict[str, Any] = {"moved": {}, "survivor_before": {}, "consent": {}, "tags": {}, "membership": None}

    for model, field in _movable_relations():
        qs = model._default_manager.filter(**{field: merged.pk})
        ids = list(qs.values_list("pk", flat=True))
        if ids:
            model._default_manager.filter(pk__in=ids).update(**{field: survivor.pk})
            snapshot["moved"][f"{_label(model)}:{field}"] = ids

    # Tags: move those the survivor lacks; drop the duplicates (restored on undo).
    survivor_tags = set(CustomerTag.objects.filter(customer=survivor).values_list("tag_id", flat=True))
    moved_tags, dropped_tags = [], []
    for ct in CustomerTag.objects.filter(customer=merged):
        if ct.tag_id in survivor_tags:
            dropped_tags.append(ct.tag_id)
            ct.delete()
        else:
            moved_tags.append(ct.pk)
    CustomerTag.objects.filter(pk__in=moved_tags).update(customer=survivor)
    snapshot["tags"] = {"moved": moved_tags, "dropped": dropped_tags}

    # Consent: the most restrictive status per purpose wins.
    survivor_consent = {c.purpose: c for c in Consent.objects.filter(customer=survivor)}
    for c in Consent.objects.filter(customer=merged):
        mine = survivor_consent.get(c.purpose)
        entry: dict[str, Any] = {"merged": [c.status, c.source, c.recorded_at.isoformat()]}
        if mine is None:
            c.customer = survivor
            c.save(update_fields=["customer"])
            entry["action"] = "moved"
            entry["id"] = c.pk
        else:
            entry["survivor"] = [mine.status, mine.source, mine.recorded_at.isoformat()]
            if _CONSENT_RANK[c.status] < _CONSENT_RANK[mine.status]:
                mine.status, mine.source, mine.recorded_at = c.status, f"merge:{c.source}"[:100], c.recorded_at
                mine.save(update_fields=["status", "source", "recorded_at"])
                entry["action"] = "restricted"
            else:
                entry["action"] = "kept"
            c.delete()
        snapshot["consent"][c.purpose] = entry

    # Membership: the survivor keeps its own; takes the merged one's if it has none.
    merged_membership = CustomerMembership.objects.filter(customer=merged).first()
    if merged_membership and not CustomerMembership.objects.filter(customer=survivor).exists():
        merged_membership.customer = survivor
        merged_membership.save(update_fields=["customer"])
        snapshot["membership"] = merged_membership.pk

    # Profile: fill the survivor's blanks; attributes merge with the survivor winning.
    for name in _FILLABLE:
        if not getattr(survivor, name) and getattr(merged, name):
            snapshot["survivor_before"][name] = _jsonable(getattr(survivor, name))
            setattr(survivor, name, getattr(merged, name))
    if merged.attributes:
        snapshot["survivor_before"]["attributes"] = survivor.attributes
        survivor.attributes = {**merged.attributes, **survivor.attributes}
    member_number = getattr(CustomerMembership.objects.filter(customer=survivor).first(), "member_number", "")
    survivor.search_text = customer_search_text(survivor, member_number)
    survivor.save()

    merged.merged_into = survivor
    merged.save(update_fields=["merged_into", "updated_at"])
    _derived_refresh(survivor, merged)

    pair = sorted([survivor.pk, merged.pk])
    DuplicateCandidate.objects.filter(customer_a_id=pair[0], customer_b_id=pair[1]).update(
        status=DuplicateCandidate.Status.MERGED, decided_at=timezone.now(),
        decided_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    record = MergeRecord.objects.create(
        workspace_id=survivor.workspace_id, survivor=survivor, merged=merged, snapshot=snapshot,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
    )
    moved_counts = {k: len(v) for k, v in snapshot["moved"].items()}
    audit_record(workspace=survivor.workspace_id, action="customer.merged", actor=actor, via=via, target=survivor,
                 summary=f"#{merged.pk} merged into #{survivor.pk}",
                 changes={"merge_id": record.pk, "merged_id": merged.pk, "moved": moved_counts,
                          "consent": {p: e["action"] for p, e in snapshot["consent"].items()}})
    return record


def _derived_refresh(survivor: Customer, merged: Customer) -> None:
    """Derived per-customer data that depends on which orders a customer has (same transaction)."""
    from samphan.commerce.facts import purchase_facts_refresh_customers

    purchase_facts_refresh_customers(workspace=survivor.workspace_id, customer_ids=[survivor.pk, merged.pk])


def _jsonable(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@transaction.atomic
def customer_merge_undo(*, record: MergeRecord, actor: Any = None, via: str = "system") -> Customer:
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    if record.undone_at is not None:
        raise Conflict("this merge has already been undone")
    survivor = Customer.objects.select_for_update().get(pk=record.survivor_id)
    merged = Customer.objects.select_for_update().get(pk=record.merged_id)
    if merged.erased_at is not None or survivor.erased_at is not None:
        raise Conflict("a customer of this merge has since been erased")
    if survivor.merged_into_id is not None:
        raise Conflict(f"the survivor was itself merged into #{survivor.merged_into_id} since; undo that first")
    snap = record.snapshot
    relations = {f"{_label(m)}:{f}": m for m, f in _movable_relations()}
    for key, ids in snap["moved"].items():
        model = relations.get(key)
        if model is None:
            continue
        field = key.split(":", 1)[1]
        model._default_manager.filter(pk__in=ids, **{field: survivor.pk}).update(**{field: merged.pk})
    CustomerTag.objects.filter(pk__in=snap["tags"]["moved"]).update(customer=merged)
    for tag_id in snap["tags"]["dropped"]:
        CustomerTag.objects.get_or_create(workspace_id=merged.workspace_id, customer=merged, tag_id=tag_id)
    from datetime import datetime

    for purpose, entry in snap["consent"].items():
        status, source, recorded = entry["merged"]
        if entry["action"] == "moved":
            Consent.objects.filter(pk=entry["id"]).update(customer=merged)
            continue
        Consent.objects.create(workspace_id=merged.workspace_id, customer=merged, purpose=purpose, status=status,
                               source=source, recorded_at=datetime.fromisoformat(recorded))
        if entry["action"] == "restricted":
            s_status, s_source, s_recorded = entry["survivor"]
            Consent.objects.filter(customer=survivor, purpose=purpose).update(
                status=s_status, source=s_source, recorded_at=datetime.fromisoformat(s_recorded))
    if snap.get("membership"):
        CustomerMembership.objects.filter(pk=snap["membership"]).update(customer=merged)
    for name, value in snap["survivor_before"].items():
        if name == "birth_date" and value:
            from datetime import date

            value = date.fromisoformat(value)
        setattr(survivor, name, value)
    member_number = getattr(CustomerMembership.objects.filter(customer=survivor).first(), "member_number", "")
    survivor.search_text = customer_search_text(survivor, member_number)
    survivor.save()
    merged.merged_into = None
    merged.save(update_fields=["merged_into", "updated_at"])
    _derived_refresh(survivor, merged)
    pair = sorted([survivor.pk, merged.pk])
    DuplicateCandidate.objects.filter(customer_a_id=pair[0], customer_b_id=pair[1]).update(
        status=DuplicateCandidate.Status.OPEN, decided_at=None, decided_by=None)
    record.undone_at = timezone.now()
    record.undone_by = actor if getattr(actor, "is_authenticated", False) else None
    record.save(update_fields=["undone_at", "undone_by"])
    audit_record(workspace=survivor.workspace_id, action="customer.merge_undone", actor=actor, via=via,
                 target=merged, summary=f"#{merged.pk} split from #{survivor.pk}", changes={"merge_id": record.pk})
    return merged
