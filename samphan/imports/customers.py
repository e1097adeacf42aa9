"""Importing customers: one row per customer, matched by customer_id in the workspace.

Blank cells leave what is stored as it is (an import adds and corrects; it
does not erase). Identities (e-mail, phone, LINE, Facebook, X handle) and member
numbers are unique per workspace: one that already belongs to another customer
is a row error naming that customer — never a silent link or move.

Rows are checked one by one (phone numbers need libphonenumber anyway) and
written in chunks: each chunk's customers, identities, membership, consent and
tags go in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from samphan.core.errors import ValidationFailed
from samphan.customers.identity import normalise_identity
from samphan.customers.models import (
    AttributeDefinition,
    Consent,
    Customer,
    CustomerMembership,
    CustomerTag,
    Identity,
    Organisation,
    Tag,
)
from samphan.customers.services import customer_search_text
from samphan.imports.parsing import CellError, clean_text, parse_date
from samphan.imports.reading import ROW, ImportFileError, Table
from samphan.imports.summary import ImportSummary, Progress

REQUIRED = ("customer_id",)
TEXT_FIELDS = {"first_name": 150, "last_name": 150, "display_name": 255, "language": 8, "city": 100, "gender": 16}
IDENTITY_COLUMNS = {
    "email": Identity.Kind.EMAIL, "phone": Identity.Kind.PHONE, "line_id": Identity.Kind.LINE,
    "facebook_psid": Identity.Kind.FACEBOOK, "x_handle": Identity.Kind.X_HANDLE,
}
CONSENT_COLUMNS = {f"consent_{p}": p for p in Consent.Purpose.values}
OPTIONAL = (
    *TEXT_FIELDS, *IDENTITY_COLUMNS, "birth_date", "member_number", "card_number", "joined_on",
    "organisation", "organisation_kind", "tags", *CONSENT_COLUMNS,
)
ATTR_PREFIX = "attr_"
CHUNK_ROWS = 500
CONSENT_SOURCE = "import"

_CONSENT_WORDS = {
    "granted": Consent.Status.GRANTED, "grant": Consent.Status.GRANTED, "yes": Consent.Status.GRANTED,
    "y": Consent.Status.GRANTED, "true": Consent.Status.GRANTED, "1": Consent.Status.GRANTED,
    "ใช่": Consent.Status.GRANTED, "ยินยอม": Consent.Status.GRANTED,
    "denied": Consent.Status.DENIED, "deny": Consent.Status.DENIED, "no": Consent.Status.DENIED,
    "n": Consent.Status.DENIED, "false": Consent.Status.DENIED, "0": Consent.Status.DENIED,
    "ไม่": Consent.Status.DENIED, "ไม่ใช่": Consent.Status.DENIED, "ไม่ยินยอม": Consent.Status.DENIED,
    "withdrawn": Consent.Status.WITHDRAWN, "withdraw": Consent.Status.WITHDRAWN,
    "ถอน": Consent.Status.WITHDRAWN, "ถอนความยินยอม": Consent.Status.WITHDRAWN,
}
_BOOLEAN_WORDS = {"yes": True, "y": True, "true": True, "1": True, "ใช่": True,
                  "no": False, "n": False, "false": False, "0": False, "ไม่": False, "ไม่ใช่": False}
_TAG_SPLIT = re.compile(r"[;|]")


def check_columns(table: Table) -> list[str]:
    missing = [c for c in REQUIRED if c not in table.columns]
    if missing:
        raise ImportFileError(f"missing required column: {', '.join(missing)}")
    return [c for c in table.columns
            if c not in REQUIRED + OPTIONAL and not (c.startswith(ATTR_PREFIX) and len(c) > len(ATTR_PREFIX))]


@dataclass
class CustomerRow:
    row: int
    external_id: str
    fields: dict[str, Any] = field(default_factory=dict)  # Customer fields to set
    identities: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # column → (kind, value, display)
    membership: dict[str, Any] = field(default_factory=dict)
    organisation: tuple[str, str | None] | None = None  # (name, kind or None)
    tags: list[str] = field(default_factory=list)
    consents: dict[str, str] = field(default_factory=dict)  # purpose → status
    attributes: dict[str, Any] = field(default_factory=dict)


def _attribute_value(definition: AttributeDefinition | None, text: str) -> Any:
    if definition is None or definition.type == AttributeDefinition.Type.TEXT:
        return text
    kind = definition.type
    if kind == AttributeDefinition.Type.NUMBER:
        try:
            number = Decimal(text.replace(",", ""))
        except InvalidOperation:
            raise CellError("not a number") from None
        if not number.is_finite():
            raise CellError("not a number")
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == AttributeDefinition.Type.DATE:
        return parse_date(text).isoformat()
    if kind == AttributeDefinition.Type.BOOLEAN:
        value = _BOOLEAN_WORDS.get(text.lower())
        if value is None:
            raise CellError("use yes or no")
        return value
    if kind == AttributeDefinition.Type.CHOICE:
        options = [str(c.get("value", c.get("key", "")) if isinstance(c, dict) else c) for c in definition.choices or []]
        for option in options:
            if option == text or option.lower() == text.lower():
                return option
        raise CellError(f"not one of the choices ({', '.join(options)})")
    return text


def parse_row(raw: dict[str, Any], definitions: dict[str, AttributeDefinition]) -> tuple[CustomerRow | None, list[tuple[str, str]]]:
    """Check one row on its own (no database): the parsed row, or the errors (column, reason)."""
    errors: list[tuple[str, str]] = []
    external_id = clean_text(raw.get("customer_id"))
    if not external_id:
        errors.append(("customer_id", "missing"))
    elif len(external_id) > 100:
        errors.append(("customer_id", "longer than 100 characters"))
    parsed = CustomerRow(row=raw[ROW], external_id=external_id)

    def cell(name: str) -> str:
        return clean_text(raw.get(name))

    for name, limit in TEXT_FIELDS.items():
        value = cell(name)
        if value:
            if len(value) > limit:
                errors.append((name, f"longer than {limit} characters"))
            else:
                parsed.fields[name] = value.lower() if name == "language" else value
    for name in ("birth_date",):
        value = cell(name)
        if value:
            try:
                parsed.fields[name] = parse_date(value)
            except CellError as exc:
                errors.append((name, str(exc)))
    for name, kind in IDENTITY_COLUMNS.items():
        value = cell(name)
        if value:
            try:
                norm = normalise_identity(kind, value)
            except ValidationFailed as exc:
                errors.append((name, exc.message))
            else:
                parsed.identities[name] = (norm.kind, norm.value, norm.display)
    member_number, card_number, joined_on = cell("member_number"), cell("card_number"), cell("joined_on")
    if member_number:
        if len(member_number) > 50:
            errors.append(("member_number", "longer than 50 characters"))
        parsed.membership["member_number"] = member_number
    if card_number:
        if len(card_number) > 50:
            errors.append(("card_number", "longer than 50 characters"))
        parsed.membership["card_number"] = card_number
    if joined_on:
        try:
            parsed.membership["joined_on"] = parse_date(joined_on)
        except CellError as exc:
            errors.append(("joined_on", str(exc)))
    organisation, organisation_kind = cell("organisation"), cell("organisation_kind").lower()
    if organisation_kind and organisation_kind not in Organisation.Kind.values:
        errors.append(("organisation_kind", f"use {', '.join(Organisation.Kind.values)}"))
    elif organisation_kind and not organisation:
        errors.append(("organisation_kind", "needs an organisation"))
    if organisation:
        if len(organisation) > 255:
            errors.append(("organisation", "longer than 255 characters"))
        parsed.organisation = (organisation, organisation_kind or None)
    tags = cell("tags")
    if tags:
        for tag in dict.fromkeys(t.strip() for t in _TAG_SPLIT.split(tags)):
            if not tag:
                continue
            if len(tag) > 64:
                errors.append(("tags", f"tag {tag[:20]}… is longer than 64 characters"))
            else:
                parsed.tags.append(tag)
    for name, purpose in CONSENT_COLUMNS.items():
        value = cell(name)
        if value:
            status = _CONSENT_WORDS.get(value.lower())
            if status is None:
                errors.append((name, "use granted, denied or withdrawn (or yes/no, true/false, ใช่/ไม่)"))
            else:
                parsed.consents[purpose] = str(status)
    for name in raw:
        if name.startswith(ATTR_PREFIX) and len(name) > len(ATTR_PREFIX):
            value = cell(name)
            if value:
                key = name[len(ATTR_PREFIX):]
                try:
                    parsed.attributes[key] = _attribute_value(definitions.get(key), value)
                except CellError as exc:
                    errors.append((name, str(exc)))
    return (None, errors) if errors else (parsed, [])


def import_customers(
    *, workspace: Any, table: Table, actor: Any = None, via: str = "cli", progress: Progress | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportSummary:
    summary = ImportSummary(kind="customers", rows=table.rows)
    summary.ignored_columns = check_columns(table)
    definitions = {d.key: d for d in AttributeDefinition.objects.for_workspace(workspace)}
    writer = _CustomerWriter(workspace, summary)
    done = 0
    rows = table.frame.iter_rows(named=True, buffer_size=chunk_rows)
    batch: list[dict[str, Any]] = []
    for raw in rows:
        batch.append(raw)
        if len(batch) >= chunk_rows:
            writer.process(batch, definitions)
            done += len(batch)
            batch = []
            if progress:
                progress(done, table.rows)
    if batch:
        writer.process(batch, definitions)
        done += len(batch)
    if progress:
        progress(done, table.rows)
    summary.sort_errors()
    return summary


class _CustomerWriter:
    def __init__(self, workspace: Any, summary: ImportSummary) -> None:
        self.workspace = workspace
        self.workspace_id = workspace.pk
        self.summary = summary
        self.seen_ids: dict[str, int] = {}  # customer_id → row where it first appeared
        # Contact points and member numbers claimed by rows of this file: key → customer_id.
        self.claims: dict[tuple[str, str], str] = {}

    def _error(self, row: int, column: str, reason: str) -> None:
        self.summary.errors.append({"row": row, "field": column, "reason": reason})

    def process(self, raws: list[dict[str, Any]], definitions: dict[str, AttributeDefinition]) -> None:
        parsed: list[CustomerRow] = []
        for raw in raws:
            row, errors = parse_row(raw, definitions)
            external_id = clean_text(raw.get("customer_id"))
            if external_id and external_id in self.seen_ids:
                errors.append(("customer_id", f"customer {external_id} is already on row {self.seen_ids[external_id]}"))
                row = None
            elif external_id:
                self.seen_ids[external_id] = raw[ROW]
            for column, reason in errors:
                self._error(raw[ROW], column, reason)
            if row is not None:
                parsed.append(row)
        if parsed:
            with transaction.atomic():
                self._write(parsed)

    # ------------------------------------------------------------------------------
    def _write(self, rows: list[CustomerRow]) -> None:
        ws = self.workspace_id
        now = timezone.now()
        existing = {c.external_id: c for c in Customer.objects.for_workspace(ws).filter(
            external_id__in=[r.external_id for r in rows])}
        existing_ids = [c.pk for c in existing.values()]
        values = {v for r in rows for (_k, v, _d) in r.identities.values()}
        owners: dict[tuple[str, str], tuple[int, str]] = {}
        for kind, value, customer_id, ext in Identity.objects.for_workspace(ws).filter(value__in=values).values_list(
                "kind", "value", "customer_id", "customer__external_id"):
            owners[(kind, value)] = (customer_id, ext or f"#{customer_id}")
        numbers = {r.membership["member_number"] for r in rows if "member_number" in r.membership}
        for number, customer_id, ext in CustomerMembership.objects.for_workspace(ws).filter(
                member_number__in=numbers).values_list("member_number", "customer_id", "customer__external_id"):
            owners[("member_number", number)] = (customer_id, ext or f"#{customer_id}")
        memberships = {m.customer_id: m for m in CustomerMembership.objects.filter(customer_id__in=existing_ids)}
        consents = {(c.customer_id, c.purpose): c for c in Consent.objects.filter(customer_id__in=existing_ids)}
        tag_links = set(CustomerTag.objects.filter(customer_id__in=existing_ids).values_list("customer_id", "tag__name"))
        known_identities = set(Identity.objects.filter(customer_id__in=existing_ids).values_list("customer_id", "kind", "value"))
        org_names = {r.organisation[0] for r in rows if r.organisation}
        organisations: dict[str, Organisation] = {}
        for org in Organisation.objects.for_workspace(ws).filter(name__in=org_names).order_by("id"):
            organisations.setdefault(org.name, org)

        accepted: list[tuple[CustomerRow, Customer | None]] = []
        for row in rows:
            current = existing.get(row.external_id)
            conflicts = []
            keys = [(column, (kind, value)) for column, (kind, value, _d) in row.identities.items()]
            if "member_number" in row.membership:
                keys.append(("member_number", ("member_number", row.membership["member_number"])))
            for column, key in keys:
                claimed_by = self.claims.get(key)
                if claimed_by is None and key in owners:
                    owner_pk, owner_ext = owners[key]
                    if current is None or owner_pk != current.pk:
                        claimed_by = owner_ext
                if claimed_by is not None and claimed_by != row.external_id:
                    conflicts.append((column, f"{column} already belongs to customer {claimed_by}"))
            if conflicts:
                for column, reason in conflicts:
                    self._error(row.row, column, reason)
                continue
            for _column, key in keys:
                self.claims[key] = row.external_id
            accepted.append((row, current))

        # Organisations first: customers point at them.
        for row, _current in accepted:
            if row.organisation and row.organisation[0] not in organisations:
                name, kind = row.organisation
                organisations[name] = Organisation(workspace_id=ws, name=name, kind=kind or Organisation.Kind.OTHER)
        new_orgs = [o for o in organisations.values() if o.pk is None]
        Organisation.objects.bulk_create(new_orgs)

        creates: list[tuple[CustomerRow, Customer]] = []
        updates: list[Customer] = []
        changed_rows: list[tuple[CustomerRow, Customer]] = []
        for row, current in accepted:
            customer = current or Customer(workspace_id=ws, external_id=row.external_id, created_at=now)
            changed = current is None
            for name, value in row.fields.items():
                if getattr(customer, name) != value:
                    setattr(customer, name, value)
                    changed = True
            for kind, value, _display in row.identities.values():
                primary = {"email": "email", "phone": "phone"}.get(kind)
                if primary and getattr(customer, primary) != value:
                    setattr(customer, primary, value)
                    changed = True
                if current is None or (current.pk, kind, value) not in known_identities:
                    changed = True
            if row.organisation:
                org = organisations[row.organisation[0]]
                if customer.organisation_id != org.pk:
                    customer.organisation = org
                    changed = True
            if row.attributes:
                merged = {**(customer.attributes or {}), **row.attributes}
                if merged != customer.attributes:
                    customer.attributes = merged
                    changed = True
            membership = memberships.get(customer.pk) if current else None
            if row.membership:
                if membership is None:
                    changed = True
                else:
                    for name, value in row.membership.items():
                        if getattr(membership, name) != value:
                            changed = True
            if current is not None:
                for purpose, status in row.consents.items():
                    consent = consents.get((current.pk, purpose))
                    if consent is None or consent.status != status:
                        changed = True
                if any((current.pk, tag) not in tag_links for tag in row.tags):
                    changed = True
            member_number = row.membership.get("member_number") or (membership.member_number if membership else "")
            customer.search_text = customer_search_text(customer, member_number)
            if current is None:
                creates.append((row, customer))
                self.summary.imported += 1
                self.summary.customers_created += 1
            elif changed:
                customer.updated_at = now
                updates.append(customer)
                changed_rows.append((row, customer))
                self.summary.updated += 1
            else:
                self.summary.unchanged += 1

        Customer.objects.bulk_create([c for _r, c in creates])
        if updates:
            Customer.objects.bulk_update(updates, ["first_name", "last_name", "display_name", "language", "city",
                                                   "gender", "birth_date", "email", "phone", "organisation",
                                                   "attributes", "search_text", "updated_at"])
        self._write_details(creates + changed_rows, memberships, consents, tag_links, known_identities, now)

    def _write_details(self, rows: list[tuple[CustomerRow, Customer]], memberships: dict[int, CustomerMembership],
                       consents: dict[tuple[int, str], Consent], tag_links: set[tuple[int, str]],
                       known_identities: set[tuple[int, str, str]], now: Any) -> None:
        ws = self.workspace_id
        new_identities, new_memberships, changed_memberships = [], [], []
        new_consents, changed_consents = [], []
        wanted_tags: dict[str, Tag | None] = {}
        links: list[tuple[int, str]] = []
        for row, customer in rows:
            for kind, value, display in row.identities.values():
                if (customer.pk, kind, value) not in known_identities:
                    new_identities.append(Identity(workspace_id=ws, customer=customer, kind=kind, value=value,
                                                   display_value=display[:255], created_at=now))
            if row.membership:
                membership = memberships.get(customer.pk)
                if membership is None:
                    new_memberships.append(CustomerMembership(workspace_id=ws, customer=customer, **row.membership))
                else:
                    for name, value in row.membership.items():
                        setattr(membership, name, value)
                    changed_memberships.append(membership)
            for purpose, status in row.consents.items():
                consent = consents.get((customer.pk, purpose))
                if consent is None:
                    new_consents.append(Consent(workspace_id=ws, customer=customer, purpose=purpose, status=status,
                                                source=CONSENT_SOURCE, recorded_at=now))
                elif consent.status != status:
                    consent.status, consent.source, consent.recorded_at = status, CONSENT_SOURCE, now
                    changed_consents.append(consent)
            for tag in row.tags:
                if (customer.pk, tag) not in tag_links:
                    wanted_tags[tag] = None
                    links.append((customer.pk, tag))
        Identity.objects.bulk_create(new_identities)
        CustomerMembership.objects.bulk_create(new_memberships)
        if changed_memberships:
            CustomerMembership.objects.bulk_update(changed_memberships, ["member_number", "card_number", "joined_on"])
        Consent.objects.bulk_create(new_consents)
        if changed_consents:
            Consent.objects.bulk_update(changed_consents, ["status", "source", "recorded_at"])
        if links:
            tags = {t.name: t for t in Tag.objects.for_workspace(ws).filter(name__in=list(wanted_tags))}
            missing = [Tag(workspace_id=ws, name=name) for name in wanted_tags if name not in tags]
            Tag.objects.bulk_create(missing)
            tags.update({t.name: t for t in missing})
            CustomerTag.objects.bulk_create(
                [CustomerTag(workspace_id=ws, customer_id=pk, tag=tags[name]) for pk, name in dict.fromkeys(links)]
            )
