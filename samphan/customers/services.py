"""Writes for customers."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from samphan.core.audit import audit_record
from samphan.customers.models import Customer

EDITABLE_FIELDS = ("first_name", "last_name", "display_name", "language", "city")


def customer_search_text(customer: Customer) -> str:
    parts = [customer.first_name, customer.last_name, customer.display_name, customer.email,
             customer.phone.lstrip("+"), customer.external_id or ""]
    return " ".join(p.lower() for p in parts if p)


@transaction.atomic
def customer_update(*, customer: Customer, actor: Any, via: str, **fields: Any) -> Customer:
    changes = {}
    for name, value in fields.items():
        if name not in EDITABLE_FIELDS or value is None:
            continue
        old = getattr(customer, name)
        if old != value:
            changes[name] = [old, value]
            setattr(customer, name, value)
    if changes:
        customer.search_text = customer_search_text(customer)
        customer.save()
        audit_record(workspace=customer.workspace_id, action="customer.updated", actor=actor, via=via,
                     target=customer, changes=changes)
    return customer
