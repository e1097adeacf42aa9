"""Customers import: fields, identities (unique per workspace), consent, tags, attributes, idempotency."""

from __future__ import annotations

from datetime import date

import pytest

from samphan.core.models import AuditEvent
from samphan.customers.models import (
    AttributeDefinition,
    Consent,
    Customer,
    CustomerMembership,
    Identity,
    Organisation,
)
from samphan.customers.services import customer_search_text
from tests.factories import CustomerFactory, IdentityFactory
from tests.imports.helpers import errors_by_row, run

pytestmark = pytest.mark.django_db

HEADER = ["customer_id", "first_name", "last_name", "email", "phone", "line_id", "birth_date", "member_number",
          "tags", "consent_sms", "consent_email_marketing", "organisation", "organisation_kind", "city"]
LINE_ID = "U" + "a" * 32


def row(customer_id, first_name="", last_name="", email="", phone="", line_id="", birth_date="", member_number="",
        tags="", consent_sms="", consent_email_marketing="", organisation="", organisation_kind="", city=""):
    return [customer_id, first_name, last_name, email, phone, line_id, birth_date, member_number, tags, consent_sms,
            consent_email_marketing, organisation, organisation_kind, city]


def test_full_customer_row_with_thai_names(workspace, write_csv):
    path = write_csv([HEADER, row("C1", "สมชาย", "ใจดี", " Somchai@Example.COM ", "081-234-5678", LINE_ID,
                                  "15/08/2533", "M-001", "VIP; coffee|ลูกค้าประจำ", "ใช่", "no", "ร้านกาแฟดี",
                                  "shop", "เชียงใหม่")])
    summary = run(workspace, "customers", path)
    assert summary.counts() == {"rows": 1, "imported": 1, "updated": 0, "unchanged": 0, "customers_created": 1,
                                "rejected": 0}
    c = Customer.objects.get(workspace=workspace, external_id="C1")
    assert (c.first_name, c.last_name, c.city) == ("สมชาย", "ใจดี", "เชียงใหม่")
    assert c.email == "somchai@example.com" and c.phone == "+66812345678"
    assert c.birth_date == date(1990, 8, 15)
    assert set(Identity.objects.filter(customer=c).values_list("kind", "value")) == {
        ("email", "somchai@example.com"), ("phone", "+66812345678"), ("line", LINE_ID)}
    assert c.membership.member_number == "M-001"
    assert sorted(c.tags.values_list("name", flat=True)) == sorted(["VIP", "coffee", "ลูกค้าประจำ"])
    assert dict(Consent.objects.filter(customer=c).values_list("purpose", "status")) == {
        "sms": "granted", "email_marketing": "denied"}
    assert Consent.objects.filter(customer=c).first().source == "import"
    assert c.organisation.name == "ร้านกาแฟดี" and c.organisation.kind == "shop"
    assert c.search_text == customer_search_text(c, "M-001")


def test_thai_round_trip_through_xlsx(workspace, write_xlsx):
    path = write_xlsx([["Customer_ID", "First_Name", "Display_Name", "Phone"],
                       ["C1", "วิภา", "คุณวิภา ศรีสุข", "๐๘๑๒๓๔๕๖๗๘"]])
    run(workspace, "customers", path)
    c = Customer.objects.get(external_id="C1")
    assert (c.first_name, c.display_name, c.phone) == ("วิภา", "คุณวิภา ศรีสุข", "+66812345678")


@pytest.mark.parametrize(("cells", "field", "reason"), [
    ({"customer_id": "", "first_name": "X"}, "customer_id", "missing"),
    ({"email": "not-an-email"}, "email", "'not-an-email' is not an e-mail address"),
    ({"phone": "12"}, "phone", "'12' is not a valid phone number"),
    ({"line_id": "someone"}, "line_id", "is not a LINE user id"),
    ({"birth_date": "1990-13-01"}, "birth_date", "no such date"),
    ({"birth_date": "yesterday"}, "birth_date", "not a date"),
    ({"consent_sms": "maybe"}, "consent_sms", "use granted, denied or withdrawn"),
    ({"organisation_kind": "shop"}, "organisation_kind", "needs an organisation"),
    ({"organisation": "X", "organisation_kind": "ngo"}, "organisation_kind", "use shop, corporate, other"),
    ({"first_name": "ก" * 151}, "first_name", "longer than 150 characters"),
])
def test_bad_rows(workspace, write_csv, cells, field, reason):
    bad = dict(zip(HEADER, row("C2"), strict=True)) | cells
    summary = run(workspace, "customers", write_csv([HEADER, row("C1", "Good"), [bad[h] for h in HEADER]]))
    assert summary.imported == 1
    assert reason in errors_by_row(summary)[3][field]
    assert list(Customer.objects.values_list("external_id", flat=True)) == ["C1"]


def test_identity_owned_by_another_customer_is_an_error_not_a_move(workspace, write_csv):
    owner = CustomerFactory(workspace=workspace, external_id="C000123", email="a@example.com")
    IdentityFactory(customer=owner, workspace=workspace, kind="email", value="a@example.com")
    IdentityFactory(customer=owner, workspace=workspace, kind="line", value=LINE_ID)
    summary = run(workspace, "customers", write_csv([HEADER, row("C9", email="A@example.com", line_id=LINE_ID)]))
    assert errors_by_row(summary)[2] == {"email": "email already belongs to customer C000123",
                                         "line_id": "line_id already belongs to customer C000123"}
    assert not Customer.objects.filter(external_id="C9").exists()
    assert Identity.objects.get(value="a@example.com").customer == owner


def test_identity_conflict_inside_one_file(workspace, write_csv):
    summary = run(workspace, "customers", write_csv([HEADER, row("C1", phone="0812345678"),
                                                     row("C2", phone="+66 81 234 5678"),
                                                     row("C1", phone="0812345678")]))
    errors = errors_by_row(summary)
    assert errors[3] == {"phone": "phone already belongs to customer C1"}
    assert errors[4] == {"customer_id": "customer C1 is already on row 2"}
    assert summary.imported == 1


def test_member_number_belongs_to_one_customer(workspace, write_csv):
    run(workspace, "customers", write_csv([HEADER, row("C1", member_number="M1")], name="a.csv"))
    summary = run(workspace, "customers", write_csv([HEADER, row("C2", member_number="M1")], name="b.csv"))
    assert errors_by_row(summary)[2] == {"member_number": "member_number already belongs to customer C1"}


def test_reimport_is_unchanged_and_changes_are_updates(workspace, write_csv):
    rows = [HEADER, row("C1", "Anna", email="anna@example.com", tags="a;b", consent_sms="yes", member_number="1"),
            row("C2", "Bee", phone="0899999999", organisation="Acme", organisation_kind="corporate")]
    first = run(workspace, "customers", write_csv(rows, name="v1.csv"))
    assert first.imported == 2
    snapshot = list(Customer.objects.order_by("id").values())
    second = run(workspace, "customers", write_csv(rows, name="v1.csv"))
    assert second.counts() == {"rows": 2, "imported": 0, "updated": 0, "unchanged": 2, "customers_created": 0,
                               "rejected": 0}
    assert list(Customer.objects.order_by("id").values()) == snapshot
    assert AuditEvent.objects.filter(action="import.customers").count() == 1

    rows[1] = row("C1", "Anna", email="anna@example.com", tags="a;b;c", consent_sms="withdrawn", member_number="1")
    third = run(workspace, "customers", write_csv(rows, name="v2.csv"))
    assert (third.updated, third.unchanged) == (1, 1)
    c1 = Customer.objects.get(external_id="C1")
    assert sorted(c1.tags.values_list("name", flat=True)) == ["a", "b", "c"]
    assert Consent.objects.get(customer=c1, purpose="sms").status == "withdrawn"
    assert AuditEvent.objects.filter(action="import.customers").count() == 2


def test_blank_cells_keep_what_is_stored(workspace, write_csv):
    run(workspace, "customers", write_csv([HEADER, row("C1", "Anna", city="Bangkok")], name="a.csv"))
    summary = run(workspace, "customers", write_csv([HEADER, row("C1", "", city="")], name="b.csv"))
    assert summary.unchanged == 1
    assert Customer.objects.get(external_id="C1").city == "Bangkok"


def test_attributes_follow_their_definitions(workspace, write_csv):
    AttributeDefinition.objects.create(workspace=workspace, key="visits", label="Visits", type="number")
    AttributeDefinition.objects.create(workspace=workspace, key="vip", label="VIP", type="boolean")
    AttributeDefinition.objects.create(workspace=workspace, key="since", label="Since", type="date")
    AttributeDefinition.objects.create(workspace=workspace, key="size", label="Size", type="choice",
                                       choices=["S", "M", "L"])
    header = ["customer_id", "attr_visits", "attr_vip", "attr_since", "attr_size", "attr_note"]
    summary = run(workspace, "customers", write_csv([header, ["C1", "1,200", "ใช่", "2568-01-31", "m", "ชอบหวาน"],
                                                     ["C2", "many", "perhaps", "x", "XL", ""]]))
    assert Customer.objects.get(external_id="C1").attributes == {
        "visits": 1200, "vip": True, "since": "2025-01-31", "size": "M", "note": "ชอบหวาน"}
    errors = errors_by_row(summary)[3]
    assert errors["attr_visits"] == "not a number"
    assert errors["attr_vip"] == "use yes or no"
    assert errors["attr_since"].startswith("not a date")
    assert errors["attr_size"] == "not one of the choices (S, M, L)"


def test_organisation_is_reused_by_name(workspace, write_csv):
    Organisation.objects.create(workspace=workspace, name="Acme", kind="corporate")
    run(workspace, "customers", write_csv([HEADER, row("C1", organisation="Acme"), row("C2", organisation="Acme")]))
    assert Organisation.objects.filter(workspace=workspace).count() == 1
    assert Customer.objects.filter(organisation__name="Acme").count() == 2


def test_membership_update(workspace, write_csv):
    header = ["customer_id", "member_number", "card_number", "joined_on"]
    run(workspace, "customers", write_csv([header, ["C1", "M1", "", "20240101"]], name="a.csv"))
    summary = run(workspace, "customers", write_csv([header, ["C1", "M1", "CARD-9", ""]], name="b.csv"))
    assert summary.updated == 1
    m = CustomerMembership.objects.get(customer__external_id="C1")
    assert (m.card_number, m.joined_on) == ("CARD-9", date(2024, 1, 1))


def test_workspace_isolation(workspace, other_workspace, write_csv):
    theirs = CustomerFactory(workspace=other_workspace, external_id="C1", email="same@example.com", first_name="B")
    IdentityFactory(customer=theirs, workspace=other_workspace, kind="email", value="same@example.com")
    before = list(Customer.objects.filter(workspace=other_workspace).values())
    summary = run(workspace, "customers", write_csv([HEADER, row("C1", "A", email="same@example.com")]))
    assert summary.imported == 1 and not summary.errors
    assert Customer.objects.get(workspace=workspace, external_id="C1").first_name == "A"
    assert list(Customer.objects.filter(workspace=other_workspace).values()) == before


def test_missing_customer_id_column(workspace, write_csv):
    from samphan.imports.reading import ImportFileError

    with pytest.raises(ImportFileError, match="missing required column: customer_id"):
        run(workspace, "customers", write_csv([["id", "email"], ["1", "a@b.co"]]))
    assert not Customer.objects.exists()
