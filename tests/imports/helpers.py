from __future__ import annotations

from samphan.imports.services import import_file


def run(workspace, kind, path, **kwargs):
    return import_file(workspace=workspace, kind=kind, path=path, **kwargs)


def errors_by_row(summary) -> dict[int, dict[str, str]]:
    out: dict[int, dict[str, str]] = {}
    for e in summary.errors:
        out.setdefault(e["row"], {})[e["field"]] = e["reason"]
    return out


ORDER_HEADER = ["order_id", "customer_id", "ordered_at", "amount", "currency", "channel", "sku", "quantity",
                "unit_price", "discount", "status"]


def order_row(order_id, customer_id, ordered_at, amount, currency="", channel="", sku="", quantity="",
              unit_price="", discount="", status=""):
    return [order_id, customer_id, ordered_at, amount, currency, channel, sku, quantity, unit_price, discount, status]
