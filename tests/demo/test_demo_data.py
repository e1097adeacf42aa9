"""`samphan demo-data`: what it writes, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import io
import json
import re
from collections import Counter, defaultdict
from datetime import UTC as utc
from datetime import date, datetime, timedelta
from decimal import Decimal

import phonenumbers
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from samphan.commerce.models import Order, OrderLine, Product
from samphan.core.models import AuditEvent
from samphan.customers.identity import normalise_email, normalise_phone
from samphan.customers.models import (
    Consent,
    Customer,
    CustomerMembership,
    CustomerTag,
    Identity,
    Insight,
    Organisation,
)
from samphan.customers.services import customer_search_text
from samphan.demo.services import TABLES, demo_data_generate
from tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

UNTIL = date(2026, 6, 30)
N = 300
THAI = re.compile(r"[\u0e00-\u0e7f]")


def generate(workspace, customers=N, seed=7, **kwargs):
    kwargs.setdefault("until", UNTIL)
    return demo_data_generate(workspace=workspace, customers=customers, seed=seed, **kwargs)


@pytest.fixture
def generated(workspace):
    return generate(workspace)


def test_counts_match_the_summary(workspace, generated):
    ws = workspace
    assert generated["customers"] == Customer.objects.for_workspace(ws).count() == N
    assert generated["orders"] == Order.objects.for_workspace(ws).count()
    assert generated["order_lines"] == OrderLine.objects.for_workspace(ws).count()
    assert generated["identities"] == Identity.objects.for_workspace(ws).count()
    assert generated["memberships"] == CustomerMembership.objects.for_workspace(ws).count()
    assert generated["consents"] == Consent.objects.for_workspace(ws).count()
    assert generated["customer_tags"] == CustomerTag.objects.for_workspace(ws).count()
    assert generated["insights"] == Insight.objects.for_workspace(ws).count()
    assert generated["organisations"] == Organisation.objects.for_workspace(ws).count() >= 3
    assert generated["products"] == Product.objects.for_workspace(ws).count() > 10
    # ~5 orders per customer on average (heavy-tailed, so loose bounds), 1–3 lines each
    assert 3 * N <= generated["orders"] <= 8 * N
    assert generated["orders"] < generated["order_lines"] < 3 * generated["orders"]
    assert 0.2 < generated["memberships"] / N < 0.45
    assert AuditEvent.objects.filter(workspace=ws, action="demo_data.generated").count() == 1


def _snapshot(ws):
    """Everything generated, without ids (which differ between workspaces)."""
    customers = list(Customer.objects.for_workspace(ws).order_by("external_id").values_list(
        "external_id", "first_name", "last_name", "display_name", "email", "phone", "language", "gender",
        "birth_date", "city", "organisation__external_id", "attributes", "search_text", "created_at"))
    orders = list(Order.objects.for_workspace(ws).order_by("external_id").values_list(
        "external_id", "customer__external_id", "ordered_at", "channel", "total", "discount_total", "currency",
        "status"))
    lines = list(OrderLine.objects.for_workspace(ws).order_by("order__external_id", "id").values_list(
        "order__external_id", "sku", "product__sku", "quantity", "unit_price", "discount", "amount"))
    identities = sorted(Identity.objects.for_workspace(ws).values_list(
        "customer__external_id", "kind", "value", "display_value", "verified"))
    others = [
        sorted(CustomerMembership.objects.for_workspace(ws).values_list(
            "customer__external_id", "member_number", "card_number", "joined_on", "tier")),
        sorted(Consent.objects.for_workspace(ws).values_list(
            "customer__external_id", "purpose", "status", "source", "recorded_at")),
        sorted(CustomerTag.objects.for_workspace(ws).values_list("customer__external_id", "tag__name")),
        sorted(Insight.objects.for_workspace(ws).values_list("customer__external_id", "kind", "text", "created_at")),
        sorted(Organisation.objects.for_workspace(ws).values_list("external_id", "name", "kind", "tax_id")),
    ]
    return customers, orders, lines, identities, others


def test_same_seed_same_data_other_seed_other_data(workspace, other_workspace):
    # The catalogue follows the workspace's name (a café, a silk shop): fix it to compare.
    generate(workspace, customers=120, seed=11, catalogue="retail")
    generate(other_workspace, customers=120, seed=11, catalogue="retail")
    first, second = _snapshot(workspace), _snapshot(other_workspace)
    assert first[0] and first[1] and first[2]
    assert first == second
    third = WorkspaceFactory(slug="gamma", name="Alpha Coffee")
    generate(third, customers=120, seed=12, catalogue="retail")
    different = _snapshot(third)
    assert different[0] != first[0]
    assert different[1] != first[1]


def test_thai_and_english_content(workspace, generated):
    customers = list(Customer.objects.for_workspace(workspace).values("first_name", "display_name", "language",
                                                                      "city", "attributes", "email"))
    thai = [c for c in customers if THAI.search(c["first_name"])]
    assert 0.65 < len(thai) / N < 0.85  # ~75 % Thai names in Thai script
    assert any(not THAI.search(c["first_name"]) and c["first_name"] for c in customers)  # and international ones
    nicknames = [c for c in thai if c["attributes"].get("nickname")]
    assert nicknames and all(f"({c['attributes']['nickname']})" in c["display_name"] for c in nicknames)
    assert {c["language"] for c in customers} == {"th", "en"}
    cities = Counter(c["city"] for c in customers)
    assert cities.most_common(1)[0][0] == "กรุงเทพมหานคร"
    assert {"เชียงใหม่", "ขอนแก่น", "ภูเก็ต"} & set(cities)
    for c in customers:
        if c["email"]:
            assert normalise_email(c["email"]) == c["email"]
    texts = list(Insight.objects.for_workspace(workspace).values_list("text", flat=True))
    assert any(THAI.search(t) for t in texts) and any(not THAI.search(t) for t in texts)
    assert set(Insight.objects.for_workspace(workspace).values_list("kind", flat=True)) <= set(Insight.Kind.values)
    products = list(Product.objects.for_workspace(workspace).values_list("name", "category", "price"))
    assert all(THAI.search(name) and re.search(r"[A-Za-z]", name) for name, _, _ in products)
    assert all(price > 0 for _, _, price in products)
    org_names = list(Organisation.objects.for_workspace(workspace).values_list("name", flat=True))
    assert org_names and set(Organisation.objects.for_workspace(workspace).values_list("kind", flat=True)) \
        <= {"shop", "corporate"}
    assert set(Consent.objects.for_workspace(workspace).values_list("source", flat=True)) == {"demo"}
    tags = set(CustomerTag.objects.for_workspace(workspace).values_list("tag__name", flat=True))
    assert {"VIP", "ลูกค้าประจำ"} <= tags


def test_phones_are_thai_mobiles_in_e164(workspace, generated):
    phones = [p for p in Customer.objects.for_workspace(workspace).values_list("phone", flat=True) if p]
    assert len(phones) > 0.7 * N
    for phone in phones:
        assert re.fullmatch(r"\+66[689]\d{8}", phone), phone
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone))
        assert normalise_phone(phone) == phone
    identity_phones = dict(Identity.objects.for_workspace(workspace).filter(kind="phone")
                           .values_list("customer__phone", "value"))
    assert all(k == v for k, v in identity_phones.items())
    for value, display in Identity.objects.for_workspace(workspace).filter(kind="phone").values_list(
            "value", "display_value")[:50]:
        assert normalise_phone(display) == value and display.startswith("0")


def test_identities_unique_and_well_formed(workspace, generated):
    rows = list(Identity.objects.for_workspace(workspace).values_list("kind", "value", "customer_id"))
    assert len({(k, v) for k, v, _ in rows}) == len(rows)
    by_kind = defaultdict(list)
    for kind, value, _ in rows:
        by_kind[kind].append(value)
    assert set(by_kind) == {"email", "phone", "line", "facebook"}
    assert all(re.fullmatch(r"U[0-9a-f]{32}", v) for v in by_kind["line"])
    assert all(re.fullmatch(r"\d{16}", v) for v in by_kind["facebook"])
    emails = dict(Customer.objects.for_workspace(workspace).exclude(email="").values_list("pk", "email"))
    identity_emails = {c: v for k, v, c in rows if k == "email"}
    assert emails == identity_emails
    # at most one identity of each kind per customer
    assert len({(k, c) for k, _, c in rows}) == len(rows)


def test_search_text_is_what_the_customer_service_computes(workspace, generated):
    members = dict(CustomerMembership.objects.for_workspace(workspace).values_list("customer_id", "member_number"))
    for customer in Customer.objects.for_workspace(workspace):
        assert customer.search_text == customer_search_text(customer, members.get(customer.pk, ""))
    assert re.fullmatch(r"C\d{7}", Customer.objects.for_workspace(workspace).first().external_id)


def test_orders_add_up(workspace, generated):
    lines = defaultdict(list)
    for line in OrderLine.objects.for_workspace(workspace):
        lines[line.order_id].append(line)
        assert line.amount == line.quantity * line.unit_price - line.discount
        assert line.discount >= 0 and line.quantity >= 1
    orders = list(Order.objects.for_workspace(workspace))
    for order in orders:
        own = lines[order.pk]
        assert 1 <= len(own) <= 3
        assert order.total == sum(line.amount for line in own)
        assert order.discount_total == sum(line.discount for line in own)
        assert len({line.sku for line in own}) == len(own) or len(own) == 3  # rarely a repeat in 3-line orders
        assert order.currency == "THB"
    assert {o.status for o in orders} == {"completed", "refunded"}
    assert 0 < sum(o.status == "refunded" for o in orders) < 0.06 * len(orders)
    assert 0.05 < sum(o.discount_total > 0 for o in orders) / len(orders) < 0.5
    channels = Counter(o.channel for o in orders)
    assert {"LINE", "Shopee", "Lazada", "Facebook"} <= set(channels)
    assert any(THAI.search(c) for c in channels)  # store branches
    assert len({o.external_id for o in orders}) == len(orders)
    # two years up to --until, Bangkok time
    first = datetime(2024, 7, 1, tzinfo=utc) - timedelta(hours=7)
    last = datetime(2026, 7, 1, tzinfo=utc) - timedelta(hours=7)
    assert all(first <= o.ordered_at < last for o in orders)
    skus = set(Product.objects.for_workspace(workspace).values_list("sku", flat=True))
    assert {line.sku for ls in lines.values() for line in ls} <= skus


def test_customers_were_created_before_their_first_order(workspace, generated):
    first_order = {}
    for customer_id, at in Order.objects.for_workspace(workspace).values_list("customer_id", "ordered_at"):
        first_order[customer_id] = min(at, first_order.get(customer_id, at))
    for pk, created in Customer.objects.for_workspace(workspace).values_list("pk", "created_at"):
        if pk in first_order:
            assert created <= first_order[pk]


def test_revenue_is_heavy_tailed(workspace):
    generate(workspace, customers=1000, orders_per_customer=6)
    revenue = Counter()
    for customer_id, total in Order.objects.for_workspace(workspace).filter(status="completed").values_list(
            "customer_id", "total"):
        revenue[customer_id] += total
    amounts = sorted([revenue.get(pk, Decimal(0)) for pk in Customer.objects.for_workspace(workspace)
                      .values_list("pk", flat=True)], reverse=True)
    top = sum(amounts[: len(amounts) // 5]) / sum(amounts)
    assert top > 0.6, top
    counts = Counter(Order.objects.for_workspace(workspace).values_list("customer_id", flat=True))
    one_off = sum(1 for n in counts.values() if n == 1)
    assert one_off > 0.2 * len(counts)  # many one-off buyers …
    assert max(counts.values()) > 30  # … and a few heavy ones


def test_foreign_keys_and_workspace_are_consistent(workspace, other_workspace, generated):
    generate(other_workspace, customers=50, seed=3)
    for model in TABLES.values():
        assert not model.objects.exclude(workspace_id__in=[workspace.pk, other_workspace.pk]).exists()
    # Every foreign key points at an existing row of the same workspace.
    for model in TABLES.values():
        for field in model._meta.concrete_fields:
            if not field.is_relation or field.name == "workspace":
                continue
            target = field.related_model
            ids = set(model.objects.for_workspace(workspace).exclude(**{f"{field.attname}__isnull": True})
                      .values_list(field.attname, flat=True))
            if not ids:
                continue
            if hasattr(target, "workspace_id") or any(f.name == "workspace" for f in target._meta.fields):
                found = set(target.objects.filter(pk__in=ids, workspace=workspace).values_list("pk", flat=True))
            else:
                found = set(target.objects.filter(pk__in=ids).values_list("pk", flat=True))
            assert ids == found, f"{model.__name__}.{field.name}"
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_key_check")
            assert cursor.fetchall() == []


def test_second_run_continues_numbering(workspace):
    generate(workspace, customers=40, seed=1)
    second = generate(workspace, customers=40, seed=1)
    assert second["first_customer"] == "C0000041"
    ids = list(Customer.objects.for_workspace(workspace).values_list("external_id", flat=True))
    assert sorted(ids) == [f"C{i:07d}" for i in range(1, 81)]
    orders = list(Order.objects.for_workspace(workspace).values_list("external_id", flat=True))
    assert len(set(orders)) == len(orders)
    assert Product.objects.for_workspace(workspace).count() == second["products"]  # reused, not duplicated
    # Customers 41–80 are new people, not a copy of 1–40.
    first_names = list(Customer.objects.for_workspace(workspace).order_by("external_id")
                       .values_list("first_name", "email"))
    assert first_names[:40] != first_names[40:]


def test_zero_customers_and_bad_arguments(workspace):
    assert generate(workspace, customers=0)["orders"] == 0
    assert generate(workspace, customers=20, orders_per_customer=0)["orders"] == 0
    with pytest.raises(CommandError, match="orders-per-customer"):
        call_command("demo_data", workspace="alpha", customers=3, seed=1, orders_per_customer=-1, verbosity=0)


def test_command_as_samphan_demo_calls_it(workspace):
    out = io.StringIO()
    call_command("demo_data", workspace="alpha", customers=25, seed=1, verbosity=0, stdout=out)
    assert out.getvalue() == ""
    assert Customer.objects.for_workspace(workspace).count() == 25


def test_command_json_summary(workspace):
    out, err = io.StringIO(), io.StringIO()
    call_command("demo_data", "--workspace", "alpha", "--customers", "30", "--seed", "2",
                 "--orders-per-customer", "3", "--until", "2026-01-31", "--json", stdout=out, stderr=err)
    summary = json.loads(out.getvalue())
    assert {"workspace", "customers", "orders", "order_lines", "seconds"} <= set(summary)
    assert summary["workspace"] == "alpha" and summary["customers"] == 30
    assert summary["orders"] == Order.objects.for_workspace(workspace).count()
    assert summary["until"] == "2026-01-31"
    assert err.getvalue() == ""  # no progress bar with --json (nor without a terminal)


def test_unknown_workspace_is_one_line_error(db):
    with pytest.raises(CommandError, match="no workspace with slug 'nope'") as err:
        call_command("demo_data", workspace="nope", customers=3, seed=1, verbosity=0)
    assert err.value.returncode != 0
    assert "\n" not in str(err.value)


def test_generated_customers_are_visible_through_the_api(api, workspace):
    generate(workspace, customers=60)
    body = api.get("/api/customers?limit=100").json()
    items = body["items"] if isinstance(body, dict) else body
    assert len(items) == 60
    assert any(THAI.search(item["first_name"]) for item in items)
    someone = next(item for item in items if item["email"])
    found = api.get("/api/customers", {"q": someone["email"]}).json()
    found_items = found["items"] if isinstance(found, dict) else found
    assert [c["id"] for c in found_items] == [someone["id"]]


@pytest.mark.django_db(transaction=True)
def test_load_outside_a_transaction_in_several_chunks():
    """The path a real run takes: one transaction per chunk, and on PostgreSQL two loader connections."""
    ws = WorkspaceFactory(slug="chunks", name="Chunk Retail")
    summary = generate(ws, customers=250, chunk_size=60, workers=2)
    assert summary["customers"] == Customer.objects.for_workspace(ws).count() == 250
    assert summary["orders"] == Order.objects.for_workspace(ws).count()
    assert summary["order_lines"] == OrderLine.objects.for_workspace(ws).count()
    ids = sorted(Customer.objects.for_workspace(ws).values_list("external_id", flat=True))
    assert ids == [f"C{i:07d}" for i in range(1, 251)]
    orders = sorted(Order.objects.for_workspace(ws).values_list("external_id", flat=True))
    assert orders == [f"O{i:09d}" for i in range(1, len(orders) + 1)]
    for line in OrderLine.objects.for_workspace(ws).select_related("order")[:200]:
        assert line.order.workspace_id == ws.pk
    # Sequences moved past the generated rows: the ORM can insert right after.
    customer = Customer.objects.create(workspace=ws, first_name="หลัง")
    order = Order.objects.create(workspace=ws, customer=customer, external_id="X-1",
                                 ordered_at=datetime(2026, 7, 1, tzinfo=utc), total=Decimal("10"))
    assert customer.pk > Customer.objects.for_workspace(ws).exclude(pk=customer.pk).order_by("-pk")[0].pk
    assert order.pk > Order.objects.for_workspace(ws).exclude(pk=order.pk).order_by("-pk")[0].pk
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_key_check")
            assert cursor.fetchall() == []
            cursor.execute("PRAGMA foreign_keys")
            assert cursor.fetchone()[0] == 1  # restored after the load
            cursor.execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"
                           " AND name = 'customers_customer_fts_ai'")
            assert cursor.fetchone()[0] == 1  # the search trigger is back
    else:
        with connection.cursor() as cursor:
            cursor.execute("SHOW session_replication_role")
            assert cursor.fetchone()[0] == "origin"
