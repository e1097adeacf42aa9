"""CSV exports of customers and orders, streamed in chunks (constant memory)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from samphan.customers.models import Customer

CUSTOMER_COLUMNS = ["id", "customer_id", "first_name", "last_name", "display_name", "email", "phone", "language",
                    "city", "organisation", "member_number", "created_at"]


def customers_csv_rows(*, workspace: Any, chunk: int = 5000) -> Iterator[list[Any]]:
    yield CUSTOMER_COLUMNS
    qs = (Customer.objects.for_workspace(workspace).filter(merged_into__isnull=True, erased_at__isnull=True)
          .order_by("id").values_list("id", "external_id", "first_name", "last_name", "display_name", "email",
                                      "phone", "language", "city", "organisation__name",
                                      "membership__member_number", "created_at"))
    last = 0
    while True:
        rows = list(qs.filter(id__gt=last)[:chunk])
        if not rows:
            return
        for row in rows:
            yield [v.isoformat() if hasattr(v, "isoformat") else ("" if v is None else v) for v in row]
        last = rows[-1][0]


ORDER_COLUMNS = ["order_id", "customer_id", "ordered_at", "channel", "total", "discount_total", "currency", "status"]


def orders_csv_rows(*, workspace: Any, chunk: int = 10000) -> Iterator[list[Any]]:
    from samphan.commerce.models import Order

    yield ORDER_COLUMNS
    qs = (Order.objects.for_workspace(workspace).order_by("id")
          .values_list("id", "external_id", "customer__external_id", "ordered_at", "channel", "total",
                       "discount_total", "currency", "status"))
    last = 0
    while True:
        rows = list(qs.filter(id__gt=last)[:chunk])
        if not rows:
            return
        for row in rows:
            yield [v.isoformat() if hasattr(v, "isoformat") else ("" if v is None else v) for v in row[1:]]
        last = rows[-1][0]
