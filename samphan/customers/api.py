from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema
from ninja.pagination import LimitOffsetPagination, paginate

from samphan.core.api import caller
from samphan.core.scoping import get_scoped_or_404
from samphan.customers.models import Customer
from samphan.customers.selectors import customer_list
from samphan.customers.services import customer_update

router = Router(tags=["customers"])


class CustomerOut(Schema):
    id: int
    external_id: str | None
    name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    created_at: datetime


class CustomerPatch(Schema):
    first_name: str | None = None
    last_name: str | None = None
    display_name: str | None = None
    language: str | None = None
    city: str | None = None


@router.get("", response=list[CustomerOut], summary="Customers of the workspace, newest first")
@paginate(LimitOffsetPagination)
def customers_list(request, q: str = ""):
    workspace = caller(request).require("customers.view")
    return customer_list(workspace=workspace, q=q)


@router.get("/{customer_id}", response=CustomerOut, summary="One customer")
def customers_get(request, customer_id: int):
    workspace = caller(request).require("customers.view")
    return get_scoped_or_404(Customer, workspace, pk=customer_id)


@router.patch("/{customer_id}", response=CustomerOut, summary="Change a customer's profile")
def customers_patch(request, customer_id: int, payload: CustomerPatch):
    c = caller(request)
    workspace = c.require("customers.edit")
    customer = get_scoped_or_404(Customer, workspace, pk=customer_id)
    return customer_update(customer=customer, actor=c.user, via=c.via, **payload.dict(exclude_unset=True))
