from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import F
from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from samphan.commerce.models import Order
from samphan.commerce.services import order_create
from samphan.core.api import caller
from samphan.core.scoping import get_scoped_or_404

router = Router(tags=["orders"])


class OrderLineOut(Schema):
    sku: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    amount: Decimal


class OrderOut(Schema):
    id: int
    order_id: str
    customer_id: int | None
    ordered_at: datetime
    channel: str
    total: Decimal
    discount_total: Decimal
    currency: str
    status: str


class OrderDetail(OrderOut):
    lines: list[OrderLineOut]


def _out(o: Order) -> dict:
    return {"id": o.pk, "order_id": o.external_id, "customer_id": o.customer_id, "ordered_at": o.ordered_at,
            "channel": o.channel, "total": o.total, "discount_total": o.discount_total, "currency": o.currency,
            "status": o.status}


@router.get("", response=list[OrderOut], summary="Orders, newest first")
@paginate(LimitOffsetPagination)
def orders_list(request, customer_id: int | None = None, channel: str = "", status: str = ""):
    workspace = caller(request).require("customers.view")
    qs = Order.objects.for_workspace(workspace).order_by("-ordered_at", "-id")
    if customer_id is not None:
        qs = qs.filter(customer_id=customer_id)
    if channel:
        qs = qs.filter(channel=channel)
    if status:
        qs = qs.filter(status=status)
    return qs.annotate(order_id=F("external_id"))


class OrderLineIn(Schema):
    sku: str = ""
    name: str = ""
    quantity: Decimal = Decimal("1")
    unit_price: Decimal
    discount: Decimal = Decimal("0")


class OrderIn(Schema):
    order_id: str
    customer_id: int | None = None
    ordered_at: datetime
    channel: str = ""
    total: Decimal | None = None
    discount_total: Decimal = Decimal("0")
    currency: str = "THB"
    status: str = "completed"
    lines: list[OrderLineIn] = []


@router.post("", response={201: OrderOut}, summary="Record an order (from a shop system or POS)")
def orders_create(request, payload: OrderIn):
    c = caller(request)
    workspace = c.require("customers.edit")
    customer = None
    if payload.customer_id is not None:
        from samphan.customers.models import Customer

        customer = get_scoped_or_404(Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True),
                                     workspace, pk=payload.customer_id)
    data = payload.dict()
    order = order_create(workspace=workspace, customer=customer, external_id=data["order_id"],
                         ordered_at=data["ordered_at"], lines=data["lines"], total=data["total"],
                         currency=data["currency"], channel=data["channel"], discount_total=data["discount_total"],
                         status=data["status"], actor=c.user, via=c.via)
    return 201, _out(order)


@router.get("/export.csv", response=None, summary="All orders as CSV")
def orders_export_csv(request):
    workspace = caller(request).require("customers.export")
    from samphan.customers.api import _csv_response
    from samphan.customers.exports import orders_csv_rows

    return _csv_response(orders_csv_rows(workspace=workspace), "orders.csv")


@router.get("/{order_id}", response=OrderDetail, summary="One order with its lines")
def orders_get(request, order_id: int):
    workspace = caller(request).require("customers.view")
    order = get_scoped_or_404(Order.objects.prefetch_related("lines"), workspace, pk=order_id)
    return {**_out(order), "lines": list(order.lines.all())}
