"""The purchase facts equal a recomputation from the orders after every write path.

Write paths: order_create, the order import (new orders, and changed ones: status — refunds,
cancellations —, lines, customer), customer merge and its undo, PDPA erasure, demo data,
and the rebuild command. A Hypothesis test runs random sequences of them.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from samphan.commerce.facts import purchase_facts_differences, purchase_facts_rebuild
from samphan.commerce.models import CategoryPurchaseFact, Order, OrderLine, Product, PurchaseFact
from samphan.commerce.services import order_create
from samphan.core.errors import SamphanError
from samphan.customers.merge import customer_merge, customer_merge_undo
from samphan.customers.models import Customer
from samphan.customers.pdpa import customer_erase
from samphan.imports.orders import import_orders
from samphan.imports.reading import read_table
from tests.factories import CustomerFactory, ProductFactory

pytestmark = pytest.mark.django_db

CATEGORIES = {"A": "coffee", "B": "coffee", "C": "tea", "D": ""}
T0 = datetime(2025, 1, 1, 9, 0, tzinfo=UTC)
CENT, MILLI = Decimal("0.01"), Decimal("0.001")


def recomputed(workspace) -> tuple[dict, dict]:
    """The facts, computed in Python from the orders: (by product, by category)."""
    by_product: dict = {}
    by_category: dict = {}
    lines = (OrderLine.objects.filter(workspace=workspace, order__status=Order.Status.COMPLETED,
                                      order__customer__isnull=False, product__isnull=False)
             .select_related("order", "product"))
    for line in lines:
        keys = [(by_product, (line.order.customer_id, line.product_id))]
        if line.product.category:
            keys.append((by_category, (line.order.customer_id, line.product.category)))
        for table, key in keys:
            e = table.setdefault(key, {"first": line.order.ordered_at, "last": line.order.ordered_at,
                                       "orders": set(), "quantity": Decimal(0), "amount": Decimal(0)})
            e["first"], e["last"] = min(e["first"], line.order.ordered_at), max(e["last"], line.order.ordered_at)
            e["orders"].add(line.order_id)
            e["quantity"] += line.quantity
            e["amount"] += line.amount
    flat = {k: (e["first"], e["last"], len(e["orders"]), e["quantity"].quantize(MILLI), e["amount"].quantize(CENT))
            for k, e in by_product.items()}
    flat_c = {k: (e["first"], e["last"], len(e["orders"]), e["quantity"].quantize(MILLI), e["amount"].quantize(CENT))
              for k, e in by_category.items()}
    return flat, flat_c


def stored(workspace) -> tuple[dict, dict]:
    def rows(model, key):
        return {(f.customer_id, getattr(f, key)): (f.first_at, f.last_at, f.orders, f.quantity.quantize(MILLI),
                                                   f.amount.quantize(CENT))
                for f in model.objects.filter(workspace=workspace)}

    return rows(PurchaseFact, "product_id"), rows(CategoryPurchaseFact, "category")


def assert_exact(workspace) -> None:
    assert stored(workspace) == recomputed(workspace)
    assert purchase_facts_differences(workspace=workspace) == {"purchasefact": 0, "categorypurchasefact": 0}


@pytest.fixture
def shop(workspace):
    for sku, category in CATEGORIES.items():
        ProductFactory(workspace=workspace, sku=sku, category=category)
    return [CustomerFactory(workspace=workspace, external_id=f"C{i}") for i in range(4)]


def _import(workspace, rows: list[list[str]]) -> None:
    header = ["order_id", "customer_id", "ordered_at", "amount", "sku", "quantity", "unit_price", "status"]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "orders.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([header, *rows])
        summary = import_orders(workspace=workspace, table=read_table(path), chunk_orders=2)
    assert not summary.errors, summary.errors


def test_order_create_adds_to_the_facts(workspace, shop):
    a, b = shop[0], shop[1]
    order_create(workspace=workspace, customer=a, external_id="O1", ordered_at=T0,
                 lines=[{"sku": "A", "quantity": 2, "unit_price": "50"}, {"sku": "A", "unit_price": "10"},
                        {"sku": "C", "unit_price": "30"}])
    order_create(workspace=workspace, customer=a, external_id="O2", ordered_at=T0 + timedelta(days=3),
                 lines=[{"sku": "B", "unit_price": "20"}, {"sku": "NEW", "unit_price": "5"}])
    order_create(workspace=workspace, customer=b, external_id="O3", ordered_at=T0, status="refunded",
                 lines=[{"sku": "A", "unit_price": "50"}])
    order_create(workspace=workspace, customer=None, external_id="O4", ordered_at=T0, lines=[{"sku": "A", "unit_price": "9"}])
    order_create(workspace=workspace, customer=b, external_id="O5", ordered_at=T0, total=Decimal("12"))
    assert_exact(workspace)
    a_id = Product.objects.get(workspace=workspace, sku="A").pk
    fact = PurchaseFact.objects.get(customer=a, product_id=a_id)
    assert (fact.orders, fact.quantity, fact.amount) == (1, 3, Decimal("110.00"))  # two lines, one order
    coffee = CategoryPurchaseFact.objects.get(customer=a, category="coffee")
    assert (coffee.orders, coffee.first_at, coffee.last_at) == (2, T0, T0 + timedelta(days=3))
    assert not PurchaseFact.objects.filter(customer=b).exists()  # refunded orders do not count


def test_import_new_and_changed_orders(workspace, shop):
    _import(workspace, [["O1", "C0", "2025-01-02 10:00", "100", "A", "2", "50", ""],
                        ["O1", "C0", "2025-01-02 10:00", "30", "C", "1", "30", ""],
                        ["O2", "C1", "2025-01-05 10:00", "20", "B", "1", "20", ""],
                        ["O3", "C9", "2025-01-06 10:00", "20", "D", "1", "20", "completed"]])
    assert_exact(workspace)
    assert CategoryPurchaseFact.objects.filter(workspace=workspace).count() == 3  # D has no category
    # A refund, a line change, a move to another customer — and O1 again unchanged.
    _import(workspace, [["O1", "C0", "2025-01-02 10:00", "100", "A", "2", "50", ""],
                        ["O1", "C0", "2025-01-02 10:00", "30", "C", "1", "30", ""],
                        ["O2", "C1", "2025-01-05 10:00", "20", "B", "1", "20", "refunded"],
                        ["O3", "C2", "2025-01-06 10:00", "60", "A", "3", "20", "completed"],
                        ["O3", "C2", "2025-01-06 10:00", "-20", "A", "-1", "20", "completed"]])
    assert_exact(workspace)
    assert not PurchaseFact.objects.filter(customer=shop[1]).exists()
    fact = PurchaseFact.objects.get(customer=shop[2])
    assert (fact.orders, fact.quantity, fact.amount) == (1, 2, Decimal("40.00"))


def test_merge_undo_and_erasure(workspace, shop):
    a, b = shop[0], shop[1]
    order_create(workspace=workspace, customer=a, external_id="O1", ordered_at=T0, lines=[{"sku": "A", "unit_price": "5"}])
    order_create(workspace=workspace, customer=b, external_id="O2", ordered_at=T0 + timedelta(days=1),
                 lines=[{"sku": "A", "unit_price": "7"}, {"sku": "C", "unit_price": "1"}])
    record = customer_merge(survivor=a, merged=b)
    assert_exact(workspace)
    assert PurchaseFact.objects.get(customer=a, product__sku="A").orders == 2
    assert not PurchaseFact.objects.filter(customer=b).exists()
    customer_merge_undo(record=record)
    assert_exact(workspace)
    assert PurchaseFact.objects.get(customer=b, product__sku="A").orders == 1
    customer_erase(customer=Customer.objects.get(pk=b.pk))
    assert_exact(workspace)
    assert not PurchaseFact.objects.filter(customer=b).exists()


def test_rebuild_and_check_command(workspace, shop):
    order_create(workspace=workspace, customer=shop[0], external_id="O1", ordered_at=T0,
                 lines=[{"sku": "A", "unit_price": "5"}])
    PurchaseFact.objects.filter(workspace=workspace).update(orders=7)
    CategoryPurchaseFact.objects.filter(workspace=workspace).delete()
    assert purchase_facts_differences(workspace=workspace) == {"purchasefact": 2, "categorypurchasefact": 1}
    with pytest.raises(CommandError, match="differ"):
        call_command("purchase_facts", "check", "--workspace", workspace.slug, stdout=io.StringIO())
    out = io.StringIO()
    call_command("purchase_facts", "rebuild", "--workspace", workspace.slug, "--json", stdout=out)
    assert json.loads(out.getvalue())["rows"] == {"purchasefact": 1, "categorypurchasefact": 1}
    out = io.StringIO()
    call_command("purchase_facts", "check", "--workspace", workspace.slug, "--json", stdout=out)
    assert json.loads(out.getvalue())["differences"] == {"purchasefact": 0, "categorypurchasefact": 0}
    assert_exact(workspace)


def test_demo_data_keeps_the_facts(workspace):
    from samphan.demo.services import demo_data_generate

    demo_data_generate(workspace=workspace, customers=40, orders_per_customer=3, workers=1)
    assert PurchaseFact.objects.filter(workspace=workspace).exists()
    assert_exact(workspace)


def test_other_workspaces_untouched(workspace, other_workspace, shop):
    other = CustomerFactory(workspace=other_workspace, external_id="C0")
    order_create(workspace=other_workspace, customer=other, external_id="O1", ordered_at=T0,
                 lines=[{"sku": "A", "unit_price": "5"}])
    before = stored(other_workspace)
    order_create(workspace=workspace, customer=shop[0], external_id="O1", ordered_at=T0,
                 lines=[{"sku": "A", "unit_price": "5"}])
    purchase_facts_rebuild(workspace=workspace)
    assert stored(other_workspace) == before and before[0]


# --- random sequences of writes ---------------------------------------------------------

line_st = st.tuples(st.sampled_from(sorted(CATEGORIES)), st.integers(-1, 3).filter(bool), st.integers(1, 90))
op_st = st.one_of(
    st.tuples(st.just("create"), st.integers(0, 3), st.integers(0, 20),
              st.sampled_from(["completed", "completed", "refunded", "cancelled"]), st.lists(line_st, max_size=3)),
    st.tuples(st.just("import"), st.integers(0, 5), st.integers(0, 3), st.integers(0, 20),
              st.sampled_from(["completed", "refunded"]), st.lists(line_st, min_size=1, max_size=3)),
    st.tuples(st.just("merge"), st.integers(0, 3), st.integers(0, 3)),
    st.tuples(st.just("undo")),
    st.tuples(st.just("erase"), st.integers(0, 3)),
)


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(ops=st.lists(op_st, min_size=1, max_size=8))
def test_facts_equal_recomputation_after_any_sequence_of_writes(workspace, shop, ops):
    with transaction.atomic():
        merges = []
        for n, op in enumerate(ops):
            customers = list(Customer.objects.filter(pk__in=[c.pk for c in shop]).order_by("pk"))
            with contextlib.suppress(SamphanError):  # merging an erased customer and the like: refused
                _apply(workspace, customers, merges, n, op)
            assert_exact(workspace)
        transaction.set_rollback(True)


def _apply(workspace, customers, merges, n, op) -> None:
    kind = op[0]
    if kind == "create":
        _, who, day, status, lines = op
        order_create(workspace=workspace, customer=customers[who], external_id=f"N{n}",
                     ordered_at=T0 + timedelta(days=day), status=status, total=None if lines else Decimal("3"),
                     lines=[{"sku": sku, "quantity": q, "unit_price": p} for sku, q, p in lines])
    elif kind == "import":
        _, order, who, day, status, lines = op
        at = (T0 + timedelta(days=day)).strftime("%Y-%m-%d %H:%M")
        _import(workspace, [[f"I{order}", f"C{who}", at, str(q * p), sku, str(q), str(p), status]
                            for sku, q, p in lines])
    elif kind == "merge":
        with transaction.atomic():
            merges.append(customer_merge(survivor=customers[op[1]], merged=customers[op[2]]))
    elif kind == "undo" and merges:
        with transaction.atomic():
            customer_merge_undo(record=merges.pop())
    elif kind == "erase":
        with transaction.atomic():
            customer_erase(customer=customers[op[1]])


# --- rules read from the facts give what the order lines give ------------------------------

def old_bought_ids(workspace, lookup: str, op: str, values: list[str]) -> set[int]:
    """The compiler before the facts: a semi-join over the order lines (kept as the reference)."""
    from django.db.models import Q

    from samphan.segments.rules import segment_queryset

    match = ({"product_id__in": Product.objects.filter(workspace=workspace, category__in=values).values("id")}
             if lookup == "category" else {"sku__in": values})
    buyers = OrderLine.objects.filter(workspace=workspace, order__status=Order.Status.COMPLETED,
                                      order__customer__isnull=False, **match)
    q = Q(pk__in=buyers.values("order__customer_id"))
    return set(segment_queryset({"conditions": []}, workspace=workspace).filter(q if op == "in" else ~q)
               .values_list("pk", flat=True))


def python_bought_ids(workspace, lookup: str, values: list[str], options: dict) -> set[int]:
    """Customers with, for one of the values, a completed order in the period meeting every minimum."""
    from django.utils import timezone

    totals: dict = {}
    for line in (OrderLine.objects.filter(workspace=workspace, order__status=Order.Status.COMPLETED,
                                          order__customer__isnull=False, product__isnull=False)
                 .select_related("order", "product")):
        value = line.product.category if lookup == "category" else line.product.sku
        at = line.order.ordered_at
        if value not in values:
            continue
        if "within_days" in options and at < timezone.now() - timedelta(days=options["within_days"]):
            continue
        if "between" in options and not (options["between"][0] <= at.date().isoformat() <= options["between"][1]):
            continue
        t = totals.setdefault((line.order.customer_id, value), {"orders": set(), "quantity": 0, "amount": 0})
        t["orders"].add(line.order_id)
        t["quantity"] += line.quantity
        t["amount"] += line.amount
    return {customer for (customer, _), t in totals.items()
            if len(t["orders"]) >= options.get("min_orders", 1)
            and t["quantity"] >= Decimal(str(options.get("min_quantity", "-1e9")))
            and t["amount"] >= Decimal(str(options.get("min_amount", "-1e9")))}


OPTIONS = [{}, {"min_orders": 2}, {"min_amount": 100}, {"min_quantity": 3}, {"within_days": 10},
           {"within_days": 10, "min_orders": 2}, {"between": ["2025-01-03", "2025-01-10"]},
           {"between": ["2025-01-03", "2025-01-10"], "min_amount": 60}]


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(orders=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.booleans(),
                                 st.lists(line_st, min_size=1, max_size=3)), max_size=10))
def test_rules_on_the_facts_match_the_order_lines(workspace, shop, orders):
    from django.utils import timezone

    from samphan.segments.rules import segment_queryset

    with transaction.atomic():
        now = timezone.now()
        for n, (who, day, recent, lines) in enumerate(orders):
            # Recent orders fall in "within 10 days" or not; the others in January 2025 around "between".
            at = now - timedelta(days=day) if recent else T0 + timedelta(days=day)
            order_create(workspace=workspace, customer=shop[who], external_id=f"R{n}", ordered_at=at,
                         lines=[{"sku": sku, "quantity": q, "unit_price": p} for sku, q, p in lines])
        live = {c.pk for c in shop}
        for lookup, field, choices in (("sku", "product_bought", [["A"], ["A", "C"], ["D"]]),
                                       ("category", "category_bought", [["coffee"], ["coffee", "tea"]])):
            for values in choices:
                for op in ("in", "not_in"):
                    got = set(segment_queryset({"conditions": [{"field": field, "operator": op, "value": values}]},
                                               workspace=workspace).values_list("pk", flat=True))
                    assert got == old_bought_ids(workspace, lookup, op, values), (field, op, values)
                for options in OPTIONS:
                    rule = {"conditions": [{"field": field, "operator": "in", "value": {"values": values, **options}}]}
                    got = set(segment_queryset(rule, workspace=workspace).values_list("pk", flat=True))
                    want = python_bought_ids(workspace, lookup, values, options)
                    assert got == want, (field, values, options)
                    rule["conditions"][0]["operator"] = "not_in"
                    assert set(segment_queryset(rule, workspace=workspace).values_list("pk", flat=True)) == live - want
        transaction.set_rollback(True)


def test_bought_options_are_checked(workspace, shop):
    from samphan.core.errors import ValidationFailed
    from samphan.segments.rules import compile_rule

    def rule(value):
        return {"conditions": [{"field": "category_bought", "operator": "in", "value": value}]}

    for value, message in ((["coffee"], None), ({"values": ["coffee"], "min_orders": 0}, "min_orders"),
                           ({"values": ["coffee"], "often": 2}, "unknown option"),
                           ({"values": [], "min_orders": 2}, "choose one or more"),
                           ({"values": ["coffee"], "min_amount": "lots"}, "not a number"),
                           ({"values": ["coffee"], "between": ["2025-01-01"]}, "between"),
                           ({"values": ["coffee"], "within_days": 3, "between": ["2025-01-01", "2025-02-01"]},
                            "not both")):
        if message is None:
            compile_rule(rule(value), workspace=workspace)
        else:
            with pytest.raises(ValidationFailed, match=message):
                compile_rule(rule(value), workspace=workspace)
