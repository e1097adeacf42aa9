from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from samphan.core.errors import Conflict, ValidationFailed
from samphan.customers.identity import normalise_email, normalise_identity, normalise_phone
from samphan.customers.models import Customer
from samphan.customers.services import customer_create, customer_resolve_or_create, identity_attach


@pytest.mark.parametrize("raw", ["081-234-5678", "+66 81 234 5678", "0812345678", "66812345678",
                                 "(081) 234 5678", "๐๘๑-๒๓๔-๕๖๗๘", "+66-81-234-5678"])
def test_thai_mobile_formats_normalise_to_e164(raw):
    assert normalise_phone(raw) == "+66812345678"


def test_bangkok_landline_and_foreign_numbers():
    assert normalise_phone("02-123-4567") == "+6621234567"
    assert normalise_phone("+1 415 555 2671") == "+14155552671"


@pytest.mark.parametrize("raw", ["", "12345", "abc", "081-234", "+66 00 000 0000"])
def test_bad_phones_are_rejected_with_reason(raw):
    with pytest.raises(ValidationFailed):
        normalise_phone(raw)


@given(st.from_regex(r"\A0[689][0-9]{8}\Z"))
def test_any_thai_mobile_survives_reformatting(number):
    dashed = f"{number[:3]}-{number[3:6]}-{number[6:]}"
    international = f"+66 {number[1:3]} {number[3:6]} {number[6:]}"
    try:
        expected = normalise_phone(number)
    except ValidationFailed:
        return  # unallocated ranges are invalid in every format
    assert normalise_phone(dashed) == expected == normalise_phone(international)


def test_email_is_lowercased_and_validated():
    assert normalise_email("  Somchai@Example.CO.TH ") == "somchai@example.co.th"
    with pytest.raises(ValidationFailed):
        normalise_email("not-an-email")


def test_line_id_and_x_handle():
    assert normalise_identity("line", "U" + "a" * 32).value == "U" + "a" * 32
    with pytest.raises(ValidationFailed):
        normalise_identity("line", "somchai")
    handle = normalise_identity("x_handle", "@SamphanCRM")
    assert (handle.value, handle.display) == ("samphancrm", "@SamphanCRM")


@pytest.mark.django_db
def test_exact_identity_links_and_never_moves(workspace, other_workspace):
    first = customer_create(workspace=workspace, first_name="สมชาย", identities={"phone": "081-234-5678"})
    found, created = customer_resolve_or_create(workspace=workspace, identities={"phone": "+66 81 234 5678",
                                                                                 "email": "S@x.co"})
    assert (found.pk, created) == (first.pk, False)
    assert set(found.identities.values_list("kind", "value")) == {("phone", "+66812345678"), ("email", "s@x.co")}
    # The same phone in another workspace is another customer.
    _, created_b = customer_resolve_or_create(workspace=other_workspace, identities={"phone": "0812345678"})
    assert created_b
    # A weak match (same name, no shared identity) creates a new customer, never a link.
    _, created_c = customer_resolve_or_create(workspace=workspace, identities={"email": "other@x.co"},
                                              first_name="สมชาย")
    assert created_c
    assert Customer.objects.for_workspace(workspace).count() == 2


@pytest.mark.django_db
def test_identity_of_another_customer_is_a_conflict(workspace):
    a = customer_create(workspace=workspace, identities={"email": "a@x.co"})
    b = customer_create(workspace=workspace, identities={"email": "b@x.co"})
    with pytest.raises(Conflict, match="already belongs"):
        identity_attach(customer=b, kind="email", raw="A@X.CO")
    assert a.identities.get().value == "a@x.co"
