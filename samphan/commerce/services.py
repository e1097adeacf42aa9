"""Writes for commerce: orders one at a time (API, integrations). Bulk loads go through imports."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction

from samphan.commerce.facts import purchase_facts_add_orders
from samphan.commerce.models import Order, OrderLine, Product
from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, ValidationFailed

# Fired after the order commits: (workspace_id, customer_id). Analytics registers
# here to refresh a customer's scores and segment membership.
ORDER_COMMITTED_HOOKS: list[Any] = []


@transaction.atomic
def order_create(
    *, workspace: Any, customer: Any, external_id: str, ordered_at: datetime, lines: list[dict[str, Any]] | None = None,
    total: Decimal | None = None, currency: str = "THB", channel: str = "", discount_total: Decimal = Decimal("0"),
    status: str = Order.Status.COMPLETED, actor: Any = None, via: str = "system",
) -> Order:
    workspace_id = getattr(workspace, "pk", workspace)
    if customer is not None and customer.workspace_id != workspace_id:
        raise ValidationFailed("the customer belongs to another workspace")
    if status not in Order.Status.values:
        raise ValidationFailed(f"unknown status {status!r}; one of {', '.join(Order.Status.values)}")
    if not external_id.strip():
        raise ValidationFailed("an order needs an order id")
    line_rows = []
    for index, line in enumerate(lines or [], start=1):
        try:
            quantity = Decimal(str(line.get("quantity", 1)))
            unit_price = Decimal(str(line["unit_price"]))
            discount = Decimal(str(line.get("discount", 0)))
        except (KeyError, ArithmeticError, ValueError) as exc:
            raise ValidationFailed(f"line {index}: needs a numeric unit_price ({exc})") from None
        sku = str(line.get("sku", "")).strip()
        product = None
        if sku:
            product, _ = Product.objects.get_or_create(workspace_id=workspace_id, sku=sku,
                                                       defaults={"name": line.get("name") or sku, "price": unit_price})
        line_rows.append(OrderLine(workspace_id=workspace_id, product=product, sku=sku, quantity=quantity,
                                   unit_price=unit_price, discount=discount,
                                   amount=(quantity * unit_price - discount).quantize(Decimal("0.01"))))
    computed = sum((row.amount for row in line_rows), Decimal("0"))
    if total is None:
        if not line_rows:
            raise ValidationFailed("an order needs a total or lines")
        total = computed
    elif line_rows and computed != Decimal(total):
        raise ValidationFailed(f"total {total} differs from the sum of the lines {computed}")
    try:
        with transaction.atomic():
            order = Order.objects.create(workspace_id=workspace_id, customer=customer, external_id=external_id.strip(),
                                         ordered_at=ordered_at, total=total, currency=currency.upper(), channel=channel,
                                         discount_total=discount_total, status=status)
    except IntegrityError:
        raise Conflict(f"order {external_id!r} already exists") from None
    for row in line_rows:
        row.order = order
    OrderLine.objects.bulk_create(line_rows)
    purchase_facts_add_orders([order.pk])
    audit_record(workspace=workspace_id, action="order.created", actor=actor, via=via, target=order,
                 summary=f"{order.external_id} {order.total} {order.currency}")
    customer_id = customer.pk if customer is not None else None
    for hook in ORDER_COMMITTED_HOOKS:
        transaction.on_commit(partial(hook, workspace_id, customer_id))
    return order
