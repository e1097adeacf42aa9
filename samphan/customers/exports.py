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
    for row in _keyset_chunks(qs, chunk):
        yield [_cell(v) for v in row]


def _cell(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else ("" if value is None else value)


def _keyset_chunks(qs: Any, chunk: int) -> Iterator[tuple[Any, ...]]:
    """Rows of a values_list ordered by id whose first column is the id, read in id ranges."""
    last = 0
    while True:
        rows = list(qs.filter(id__gt=last)[:chunk])
        if not rows:
            return
        yield from rows
        last = rows[-1][0]


ORDER_COLUMNS = ["order_id", "customer_id", "ordered_at", "channel", "total", "discount_total", "currency", "status"]


def orders_csv_rows(*, workspace: Any, chunk: int = 10000) -> Iterator[list[Any]]:
    from samphan.commerce.models import Order

    yield ORDER_COLUMNS
    qs = (Order.objects.for_workspace(workspace).order_by("id")
          .values_list("id", "external_id", "customer__external_id", "ordered_at", "channel", "total",
                       "discount_total", "currency", "status"))
    for row in _keyset_chunks(qs, chunk):
        yield [_cell(v) for v in row[1:]]
