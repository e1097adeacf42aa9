"""The fields a segment rule can use on customer and commerce data.

Analytics adds lifecycle stage, RFM segment, CLV, P(alive), spend and purchase
dates from its materialised scores (samphan/analytics/segment_fields.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.errors import ValidationFailed
from samphan.segments.rules import (
    BOOL_OPS,
    CHOICE_OPS,
    DATE_OPS,
    TEXT_OPS,
    Compiler,
    Field,
    _date,
    _number,
    choice_q,
    date_q,
    register_field,
    text_q,
)


def _ws(workspace: Any) -> int:
    return getattr(workspace, "pk", workspace)


def _tags(workspace: Any) -> list[tuple[str, str]]:
    from samphan.customers.models import Tag

    return [(n, n) for n in Tag.objects.for_workspace(workspace).order_by("name").values_list("name", flat=True)]


def _tag_q(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
    from samphan.customers.models import CustomerTag

    values = value if isinstance(value, list) else [value]
    q = Q(pk__in=CustomerTag.objects.filter(workspace_id=_ws(workspace), tag__name__in=values).values("customer_id"))
    return q if op == "in" else ~q


def _consent_q(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
    from samphan.customers.models import Consent

    values = value if isinstance(value, list) else [value]
    bad = [v for v in values if v not in Consent.Purpose.values]
    if bad:
        raise ValidationFailed(f"{path}: unknown consent purpose {bad[0]!r}")
    q = Q(pk__in=Consent.objects.filter(workspace_id=_ws(workspace), purpose__in=values,
                                        status=Consent.Status.GRANTED).values("customer_id"))
    return q if op == "in" else ~q


_BOUGHT_OPTIONS = ("values", "min_orders", "min_quantity", "min_amount", "within_days", "between")


def _bought_options(value: Any, path: str) -> tuple[list[Any], dict[str, Any]]:
    """A list of skus/categories, or {"values": [...], "min_orders", "min_quantity", "min_amount",
    "within_days" | "between": [from, to]} — thresholds hold for one of the values on its own."""
    options: dict[str, Any] = {}
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(_BOUGHT_OPTIONS))
        if unknown:
            raise ValidationFailed(f"{path}.{unknown[0]}: unknown option; use {', '.join(_BOUGHT_OPTIONS)}")
        options = {k: v for k, v in value.items() if k != "values" and v is not None}
        value = value.get("values")
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise ValidationFailed(f"{path}: choose one or more values")
    for name in ("min_orders", "within_days"):
        if name in options and (not isinstance(options[name], int) or isinstance(options[name], bool)
                                or options[name] < 1):
            raise ValidationFailed(f"{path}.{name}: a whole number of 1 or more")
    for name in ("min_quantity", "min_amount"):
        if name in options:
            options[name] = _number(options[name], f"{path}.{name}")
    if "between" in options:
        between = options["between"]
        if not isinstance(between, list | tuple) or len(between) != 2:
            raise ValidationFailed(f"{path}.between: [from, to] (dates, both included)")
        options["between"] = (_date(between[0], f"{path}.between"), _date(between[1], f"{path}.between"))
        if "within_days" in options:
            raise ValidationFailed(f"{path}: use within_days or between, not both")
    return values, options


def _bought_q(lookup: str):
    """Bought product / category: read from the purchase facts (one index scan), not the order lines.

    A period together with a minimum (orders, quantity, amount *inside* the period) cannot be
    answered from the facts, which sum all time; that combination, and "between", group the
    order lines of the period instead (exact, slower on large workspaces).
    """

    def compile_(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
        from samphan.commerce.models import CategoryPurchaseFact, Product, PurchaseFact

        values, options = _bought_options(value, path)
        ws = _ws(workspace)
        # Lines and facts of erased customers have no customer: NOT IN would match nobody otherwise.
        minimums: dict[str, Any] = {k: options[k] for k in ("min_orders", "min_quantity", "min_amount") if k in options}
        if "between" in options or ("within_days" in options and minimums):
            q = Q(pk__in=_bought_in_period(lookup, values, ws, options, minimums))
            return q if op == "in" else ~q
        facts: Any
        if lookup == "category":
            facts = CategoryPurchaseFact.objects.filter(workspace_id=ws, category__in=values)
        else:  # the products first (a handful of ids), so the (workspace, product, customer) index is used
            facts = PurchaseFact.objects.filter(
                workspace_id=ws, product_id__in=Product.objects.filter(workspace_id=ws, sku__in=values).values("id"))
        filters = {"orders__gte": minimums.get("min_orders"), "quantity__gte": minimums.get("min_quantity"),
                   "amount__gte": minimums.get("min_amount")}
        if "within_days" in options:
            filters["last_at__gte"] = timezone.now() - timedelta(days=options["within_days"])
        facts = facts.filter(**{k: v for k, v in filters.items() if v is not None})
        q = Q(pk__in=facts.values("customer_id"))
        return q if op == "in" else ~q

    return compile_


def _bought_in_period(lookup: str, values: list[Any], ws: int, options: dict[str, Any],
                      minimums: dict[str, Any]) -> Any:
    """Customers with, inside the period, enough completed orders / quantity / amount of one value."""
    from samphan.commerce.models import Order, OrderLine

    key = "product__category" if lookup == "category" else "product__sku"
    lines = OrderLine.objects.filter(workspace_id=ws, order__status=Order.Status.COMPLETED,
                                     order__customer__isnull=False, **{f"{key}__in": values})
    if "within_days" in options:
        lines = lines.filter(order__ordered_at__gte=timezone.now() - timedelta(days=options["within_days"]))
    else:
        start, end = options["between"]
        lines = lines.filter(order__ordered_at__date__gte=start, order__ordered_at__date__lte=end)
    grouped = lines.values("order__customer_id", key).annotate(
        n_orders=Count("order_id", distinct=True), n_quantity=Sum("quantity"), n_amount=Sum("amount"))
    having = {"n_orders__gte": minimums.get("min_orders"), "n_quantity__gte": minimums.get("min_quantity"),
              "n_amount__gte": minimums.get("min_amount")}
    return grouped.filter(**{k: v for k, v in having.items() if v is not None}).values("order__customer_id")


def _products(workspace: Any) -> list[tuple[str, str]]:
    from samphan.commerce.models import Product

    return [(sku, f"{sku} · {name}") for sku, name in
            Product.objects.for_workspace(workspace).order_by("sku").values_list("sku", "name")[:500]]


def _categories(workspace: Any) -> list[tuple[str, str]]:
    from samphan.commerce.models import Product

    cats = (Product.objects.for_workspace(workspace).exclude(category="").order_by("category")
            .values_list("category", flat=True).distinct())
    return [(c, c) for c in cats]


def _bool_q(lookup_true: Q) -> Compiler:
    def compile_(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
        if not isinstance(value, bool):
            raise ValidationFailed(f"{path}: true or false expected")
        return lookup_true if value else ~lookup_true

    return compile_


def _attribute_q(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
    """value = {"key": "favourite_drink", "value": "latte"}; numbers compare numerically."""
    if not isinstance(value, dict) or not isinstance(value.get("key"), str) or "value" not in value:
        raise ValidationFailed(f"{path}: use {{\"key\": …, \"value\": …}}")
    key = value["key"]
    if not key.replace("_", "").isalnum():
        raise ValidationFailed(f"{path}.key: letters, digits and _ only")
    target = value["value"]
    lookup = f"attributes__{key}"
    if op == "contains":
        return Q(**{f"{lookup}__icontains": str(target)})
    if op in ("gt", "gte", "lt", "lte"):
        if not isinstance(target, int | float):
            raise ValidationFailed(f"{path}.value: a number is expected for {op}")
        return Q(**{f"{lookup}__{op}": target})
    q = Q(**{lookup: target})
    return q if op == "eq" else ~q


def _org_kinds(workspace: Any) -> list[tuple[str, str]]:
    from samphan.customers.models import Organisation

    return [(v, str(label)) for v, label in Organisation.Kind.choices]


def _consent_purposes(workspace: Any) -> list[tuple[str, str]]:
    from samphan.customers.models import Consent

    return [(v, str(label)) for v, label in Consent.Purpose.choices]


def _segments(workspace: Any) -> list[tuple[str, str]]:
    from samphan.segments.models import Segment

    return [(str(pk), name) for pk, name in Segment.objects.for_workspace(workspace).values_list("pk", "name")]


class _LazyMembership:
    def __call__(self, op: str, value: Any, workspace: Any, path: str = "value") -> Q:
        from samphan.customers.models import CustomerMembership

        members = Q(pk__in=CustomerMembership.objects.filter(workspace_id=_ws(workspace)).values("customer_id"))
        return _bool_q(members)(op, value, workspace, path)


register_field(Field("tag", _("Tag"), "choice", CHOICE_OPS, _tag_q, _tags))
register_field(Field("consent", _("Consent granted for"), "choice", CHOICE_OPS, _consent_q, _consent_purposes))
register_field(Field("organisation_kind", _("Organisation kind"), "choice", CHOICE_OPS,
                     choice_q("organisation__kind"), _org_kinds))
register_field(Field("is_member", _("Is a member"), "bool", BOOL_OPS, _LazyMembership()))
register_field(Field("city", _("City"), "text", TEXT_OPS, text_q("city")))
register_field(Field("language", _("Language"), "choice", CHOICE_OPS, choice_q("language"),
                     lambda ws: [("th", "ไทย"), ("en", "English")]))
register_field(Field("customer_since", _("Customer since"), "date", DATE_OPS, date_q("created_at")))
register_field(Field("product_bought", _("Bought product"), "choice", CHOICE_OPS, _bought_q("sku"), _products,
                     group="purchases"))
register_field(Field("category_bought", _("Bought from category"), "choice", CHOICE_OPS,
                     _bought_q("category"), _categories, group="purchases"))
register_field(Field("attribute", _("Custom attribute"), "attribute", ("eq", "ne", "contains", "gt", "gte", "lt", "lte"),
                     _attribute_q))
register_field(Field("segment", _("In segment"), "segment", CHOICE_OPS, lambda *a, **k: Q(), _segments))
