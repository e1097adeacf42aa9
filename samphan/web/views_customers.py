"""Customer pages: the list with filters and exports, the customer 360 and its edits,
duplicates and merge (with undo), PDPA export and erasure, and job progress.

Views only parse input and pick a template: every read goes through a
workspace-scoped selector or `get_scoped_or_404`, every write through the
customers services (which write the audit log).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from samphan.accounts.roles import role_can
from samphan.core.audit import audit_record
from samphan.core.csv_stream import csv_response
from samphan.core.errors import Conflict, NotFound, ValidationFailed
from samphan.core.jobs import job_enqueue
from samphan.core.models import Job
from samphan.core.scoping import get_scoped_or_404
from samphan.customers import services
from samphan.customers.duplicates import duplicate_candidates, duplicate_dismiss
from samphan.customers.merge import customer_merge, customer_merge_undo
from samphan.customers.models import (
    Consent,
    Customer,
    DuplicateCandidate,
    Identity,
    Insight,
    MergeRecord,
    Organisation,
    Tag,
)
from samphan.customers.pdpa import customer_erase, customer_export_all
from samphan.customers.search import SearchResults
from samphan.customers.selectors import CustomerFilters, customer_360, customer_list
from samphan.web.views import workspace_view

PAGE_SIZE = 25

# Reasons a duplicate candidate was proposed, in words.
REASONS = {
    "similar_name": gettext_lazy("Similar name"),
    "same_email_other_form": gettext_lazy("Same e-mail written another way"),
    "same_phone_other_format": gettext_lazy("Same phone in another format"),
    "claimed_identity": gettext_lazy("Gave this customer's e-mail in a chat"),
}
# Most restrictive first, as the merge applies it.
CONSENT_RANK: dict[str, int] = {Consent.Status.WITHDRAWN: 0, Consent.Status.DENIED: 1, Consent.Status.GRANTED: 2}
LANGUAGES = [("th", "ไทย"), ("en", "English")]
GENDERS = [("female", gettext_lazy("Female")), ("male", gettext_lazy("Male")), ("other", gettext_lazy("Other"))]
INSIGHT_BADGES = {"need": "badge-primary", "motive": "badge-teal", "personality": "badge-violet",
                  "emotion": "badge-pink", "preference": "badge-success", "complaint": "badge-danger"}
CONSENT_BADGES = {"granted": "badge-success", "denied": "badge-danger", "withdrawn": "badge-warning"}


def _can(request, capability: str) -> bool:
    return role_can(request.membership.role, capability)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- customer list ----------------------------------------------------------------------------

class CustomerFilterForm(forms.Form):
    q = forms.CharField(required=False)
    organisation_kind = forms.ChoiceField(required=False, choices=[("", ""), *list(Organisation.Kind.choices)])
    tag = forms.CharField(required=False)
    city = forms.CharField(required=False)
    language = forms.ChoiceField(required=False, choices=[("", ""), *LANGUAGES])
    member = forms.ChoiceField(required=False, choices=[("", ""), ("yes", "yes"), ("no", "no")])
    consent = forms.ChoiceField(required=False, choices=[("", ""), *list(Consent.Purpose.choices)])
    created_from = forms.DateField(required=False)
    created_to = forms.DateField(required=False)

    FILTERS = ("organisation_kind", "tag", "city", "language", "member", "consent", "created_from", "created_to")

    def to_filters(self) -> CustomerFilters:
        d = self.cleaned_data
        return CustomerFilters(
            q=d["q"].strip(), organisation_kind=d["organisation_kind"], tag=d["tag"].strip(),
            city=d["city"].strip(), language=d["language"],
            is_member={"yes": True, "no": False}.get(d["member"]),
            consent_purpose=d["consent"], consent_status=Consent.Status.GRANTED if d["consent"] else "",
            created_from=d["created_from"], created_to=d["created_to"],
        )


@workspace_view("customers.view")
def customers(request):
    form = CustomerFilterForm(request.GET)
    form.is_valid()  # invalid values (a bad date) are dropped, the rest still filter
    for name in form.errors:
        form.cleaned_data.setdefault(name, None if name.startswith("created") else "")
    filters = form.to_filters()
    results = customer_list(workspace=request.workspace, filters=filters)
    if isinstance(results, SearchResults):
        results.prime(request.GET.get("page"), PAGE_SIZE)
    page = Paginator(results, PAGE_SIZE).get_page(
        request.GET.get("page"))
    query = urlencode([(k, v) for k, v in request.GET.items() if k != "page" and v])
    active = sum(1 for name in form.FILTERS if form.cleaned_data.get(name) not in ("", None))
    ctx = {"page": page, "q": filters.q, "query": query, "form": form, "active_filters": active,
           "filter_errors": form.errors}
    if _is_htmx(request):
        return render(request, "web/customers/_rows.html", ctx)
    ctx.update({
        "tags": Tag.objects.for_workspace(request.workspace).order_by("name").values_list("name", flat=True),
        "org_kinds": Organisation.Kind.choices, "languages": LANGUAGES, "purposes": Consent.Purpose.choices,
        "can_export": _can(request, "customers.export"), "can_merge": _can(request, "customers.merge"),
    })
    return render(request, "web/customers/list.html", ctx)


_csv_stream = csv_response  # shared with the other CSV downloads (samphan/core/csv_stream.py)


@require_GET
@workspace_view("customers.export")
def customers_export(request):
    from samphan.customers.exports import customers_csv_rows

    return _csv_stream(customers_csv_rows(workspace=request.workspace), f"customers-{request.workspace.slug}.csv")


@require_GET
@workspace_view("customers.export")
def orders_export(request):
    from samphan.customers.exports import orders_csv_rows

    return _csv_stream(orders_csv_rows(workspace=request.workspace), f"orders-{request.workspace.slug}.csv")


# --- customer 360 ---------------------------------------------------------------------------------

class ProfileForm(forms.Form):
    first_name = forms.CharField(required=False, max_length=150)
    last_name = forms.CharField(required=False, max_length=150)
    display_name = forms.CharField(required=False, max_length=255)
    language = forms.CharField(required=False, max_length=8)
    city = forms.CharField(required=False, max_length=100)
    gender = forms.CharField(required=False, max_length=16)
    birth_date = forms.DateField(required=False)

    def clean_birth_date(self):
        value = self.cleaned_data["birth_date"]
        if value and value > date.today():
            raise forms.ValidationError(_("A birth date cannot be in the future."))
        return value


class MembershipForm(forms.Form):
    member_number = forms.CharField(max_length=50)
    card_number = forms.CharField(required=False, max_length=50)
    tier = forms.CharField(required=False, max_length=32)
    joined_on = forms.DateField(required=False)


def _analytics_cards(section: dict[str, Any] | None) -> dict[str, Any] | None:
    """The analytics section's numbers, formatted for the page (None before the first recompute)."""
    if not section:
        return None
    p_alive = section.get("p_alive")
    return {**section, "p_alive_pct": round(float(p_alive) * 100) if p_alive is not None else None}


def _label(key: Any) -> str:
    """A key as a heading; translated when the catalogue knows the words (another app's strings)."""
    return _(str(key).replace("_", " ").capitalize())


def _table(items: list[dict[str, Any]]) -> dict[str, Any]:
    columns: list[str] = []
    for item in items:
        columns.extend(k for k in item if k not in columns)
    return {"headers": [_label(c) for c in columns], "rows": [[item.get(c) for c in columns] for item in items]}


def _is_records(value: Any) -> bool:
    return isinstance(value, list | tuple) and bool(value) and all(isinstance(v, dict) for v in value)


def _generic_section(value: Any) -> dict[str, Any]:
    """Render what another app registered without knowing its shape.

    A mapping becomes label/value pairs, a list of mappings a table, a list a
    bullet list; an app that wants more registers its own template here.
    """
    if isinstance(value, dict):
        pairs, tables = [], []
        for key, item in value.items():
            if _is_records(item):
                tables.append((_label(key), _table(list(item))))
            elif isinstance(item, list | tuple):
                pairs.append((_label(key), ", ".join(map(str, item)) or "—"))
            elif not isinstance(item, dict):
                pairs.append((_label(key), item))
        return {"type": "dict", "pairs": pairs, "tables": tables}
    if _is_records(value):
        return {"type": "dict", "pairs": [], "tables": [("", _table(list(value)))]}
    if isinstance(value, list | tuple):
        return {"type": "list", "items": list(value)}
    return {"type": "value", "value": value}


def _consent_rows(consents: list[Consent]) -> list[dict[str, Any]]:
    by_purpose = {c.purpose: c for c in consents}
    return [{"purpose": value, "label": label, "consent": by_purpose.get(value),
             "badge": CONSENT_BADGES.get(getattr(by_purpose.get(value), "status", ""), "")}
            for value, label in Consent.Purpose.choices]


def _360_context(request, customer_id: int) -> dict[str, Any]:
    """Everything the 360 page shows: customer_360 plus segments, duplicates and merges (3 queries)."""
    from samphan.segments.models import SegmentMember

    ws = request.workspace
    data = customer_360(workspace=ws, customer_id=customer_id)
    customer = data["customer"]
    sections = dict(data["sections"])
    analytics = sections.pop("analytics", None) if "analytics" in sections else None
    last = data["summary"].get("last_purchase")
    ctx = {
        **data,
        "days_since_last": (timezone.now() - last).days if last else None,
        "has_analytics": "analytics" in data["sections"],
        "analytics": _analytics_cards(analytics),
        "other_sections": [(name, _(name.replace("_", " ").capitalize()), _generic_section(value))
                           for name, value in sections.items()],
        "consent_rows": _consent_rows(data["consents"]),
        "insights": [(i, INSIGHT_BADGES.get(i.kind, "")) for i in data["insights"]],
        "segments": list(SegmentMember.objects.for_workspace(ws).filter(customer=customer)
                         .select_related("segment").order_by("segment__name")),
        "candidates": list(duplicate_candidates(workspace=ws, customer=customer)[:5]),
        "merges": list(MergeRecord.objects.for_workspace(ws).filter(Q(survivor=customer) | Q(merged=customer))
                       .select_related("survivor", "merged", "actor").order_by("-created_at")[:10]),
        "identity_kinds": Identity.Kind.choices, "insight_kinds": Insight.Kind.choices,
        "purposes": Consent.Purpose.choices, "statuses": Consent.Status.choices,
        "languages": LANGUAGES, "genders": GENDERS,
        "can_edit": _can(request, "customers.edit"), "can_merge": _can(request, "customers.merge"),
        "can_export": _can(request, "customers.export"), "can_erase": _can(request, "customers.erase"),
        "errors": {}, "values": {}, "saved": "",
    }
    return ctx


def _gone(request, customer_id: int):
    """A merged-away or erased customer's page says what happened instead of a bare 404."""
    row = (Customer.objects.for_workspace(request.workspace).filter(pk=customer_id)
           .values("merged_into_id", "erased_at").first())
    if row is None:
        raise Http404("no such customer")
    if row["merged_into_id"]:
        target = get_scoped_or_404(Customer, request.workspace, pk=row["merged_into_id"])
        hops = 0
        while target.merged_into_id and hops < 10:  # a chain of merges ends at the live record
            target = get_scoped_or_404(Customer, request.workspace, pk=target.merged_into_id)
            hops += 1
        record = (MergeRecord.objects.for_workspace(request.workspace)
                  .filter(merged_id=customer_id, undone_at__isnull=True).order_by("-created_at").first())
        return render(request, "web/customers/gone.html", {"target": target, "record": record,
                                                           "customer_id": customer_id,
                                                           "can_merge": _can(request, "customers.merge")})
    return render(request, "web/customers/gone.html", {"erased": True, "customer_id": customer_id}, status=410)


@workspace_view("customers.view")
def customer_detail(request, customer_id: int):
    try:
        ctx = _360_context(request, customer_id)
    except NotFound:
        return _gone(request, customer_id)
    merged_id = request.GET.get("merged")
    if merged_id and merged_id.isdigit():
        ctx["just_merged"] = next((m for m in ctx["merges"] if m.pk == int(merged_id)), None)
    return render(request, "web/customers/detail.html", ctx)


def _live_customer(request, customer_id: int) -> Customer:
    return get_scoped_or_404(Customer.objects.filter(merged_into__isnull=True, erased_at__isnull=True),
                             request.workspace, pk=customer_id)


def _section_response(request, customer_id: int, section: str, *, error: str = "", values: dict | None = None,
                      extra: dict | None = None, saved: str = ""):
    """After a write on the 360 page: htmx gets the card back; a plain form post gets the page.

    A failed plain post re-renders the whole page with the error next to the form
    (422); a successful one redirects, so a reload does not post twice.
    """
    if not error and not _is_htmx(request):
        if saved:
            messages.success(request, saved)
        return redirect(reverse("web:customer_detail", args=[request.workspace.slug, customer_id]) + f"#{section}")
    ctx = _360_context(request, customer_id)
    ctx["errors"] = {section: error, **(extra or {})} if error else {}
    ctx["values"] = values or {}
    ctx["saved"] = saved
    if _is_htmx(request):
        # htmx swaps only 2xx answers, so an error comes back as a 200 with the message in the card.
        return render(request, f"web/customers/_{section}.html", ctx)
    return render(request, "web/customers/detail.html", ctx, status=422)


@require_POST
@workspace_view("customers.edit")
def customer_profile(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    form = ProfileForm(request.POST)
    if not form.is_valid():
        error = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return _section_response(request, customer_id, "profile", error=error, values=request.POST.dict())
    # An empty birth date keeps the one on record (customer_update skips None, like the API's PATCH).
    fields = {k: (v.strip() if isinstance(v, str) else v) for k, v in form.cleaned_data.items()}
    services.customer_update(customer=customer, actor=request.user, via="web", **fields)
    return _section_response(request, customer_id, "profile", saved=_("Profile saved."))


def _identity_error(exc: Exception, kind: str) -> str:
    if isinstance(exc, Conflict):
        return _("This %(kind)s already belongs to another customer.") % {
            "kind": dict(Identity.Kind.choices).get(kind, kind)}
    messages_by_kind: dict[str, str] = {
        Identity.Kind.PHONE: _("That is not a phone number we recognise. Try 081-234-5678 or +66 81 234 5678."),
        Identity.Kind.EMAIL: _("That is not an e-mail address."),
        Identity.Kind.LINE: _("A LINE user id is U followed by 32 letters and digits (0–9, a–f)."),
        Identity.Kind.X_HANDLE: _("An X handle has up to 15 letters, digits or _."),
    }
    return messages_by_kind.get(kind, getattr(exc, "message", str(exc)))


@require_POST
@workspace_view("customers.edit")
def customer_identity_add(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    kind, value = request.POST.get("kind", ""), request.POST.get("value", "")
    if kind not in Identity.Kind.values:
        return _section_response(request, customer_id, "identities", error=_("Choose the kind of contact point."),
                                 values=request.POST.dict())
    try:
        services.identity_attach(customer=customer, kind=kind, raw=value)
    except (Conflict, ValidationFailed) as exc:
        owner = None
        if isinstance(exc, Conflict) and isinstance(exc.details, dict) and exc.details.get("customer_id"):
            owner = Customer.objects.for_workspace(request.workspace).filter(pk=exc.details["customer_id"]).first()
        return _section_response(request, customer_id, "identities", error=_identity_error(exc, kind),
                                 values=request.POST.dict(), extra={"identity_owner": owner})
    return _section_response(request, customer_id, "identities", saved=_("Contact point added."))


@require_POST
@workspace_view("customers.edit")
def customer_membership(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    form = MembershipForm(request.POST)
    if not form.is_valid():
        error = (_("A member number is required.") if "member_number" in form.errors
                 else "; ".join(str(e) for errs in form.errors.values() for e in errs))
        return _section_response(request, customer_id, "membership", error=error, values=request.POST.dict())
    try:
        services.membership_set(customer=customer, actor=request.user, via="web", **form.cleaned_data)
    except Conflict:
        return _section_response(request, customer_id, "membership", values=request.POST.dict(),
                                 error=_("Member number %(number)s already belongs to another customer.")
                                 % {"number": form.cleaned_data["member_number"]})
    return _section_response(request, customer_id, "membership", saved=_("Membership saved."))


@require_POST
@workspace_view("customers.edit")
def customer_consent(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    purpose, status = request.POST.get("purpose", ""), request.POST.get("status", "")
    source = request.POST.get("source", "")
    if not source.strip():
        return _section_response(request, customer_id, "consent", values=request.POST.dict(),
                                 error=_("Say where the consent came from (for example: signed form at the shop, "
                                         "phone call, LINE chat). PDPA asks for the source."))
    try:
        services.consent_set(customer=customer, purpose=purpose, status=status, source=source, actor=request.user,
                             via="web")
    except ValidationFailed:
        return _section_response(request, customer_id, "consent", values=request.POST.dict(),
                                 error=_("Choose a purpose and a status."))
    return _section_response(request, customer_id, "consent", saved=_("Consent recorded."))


@require_POST
@workspace_view("customers.edit")
def customer_tag_add(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    try:
        services.tag_add(customer=customer, name=request.POST.get("name", ""), actor=request.user, via="web")
    except ValidationFailed:
        return _section_response(request, customer_id, "tags", error=_("A tag has 1 to 64 characters."),
                                 values=request.POST.dict())
    return _section_response(request, customer_id, "tags")


@require_POST
@workspace_view("customers.edit")
def customer_tag_remove(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    services.tag_remove(customer=customer, name=request.POST.get("name", ""), actor=request.user, via="web")
    return _section_response(request, customer_id, "tags")


@require_POST
@workspace_view("customers.view")  # anyone who talks with customers may note what they learn
def customer_insight_add(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    try:
        services.insight_add(customer=customer, kind=request.POST.get("kind", ""), text=request.POST.get("text", ""),
                             actor=request.user, via="web")
    except ValidationFailed:
        error = (_("Write what you learned.") if request.POST.get("kind") in Insight.Kind.values
                 else _("Choose what kind of insight this is."))
        return _section_response(request, customer_id, "insights", error=error, values=request.POST.dict())
    return _section_response(request, customer_id, "insights", saved=_("Insight added."))


# --- PDPA -------------------------------------------------------------------------------------------

@require_POST
@workspace_view("customers.export")
def customer_export_json(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    audit_record(workspace=request.workspace, action="customer.exported", actor=request.user, via="web",
                 target=customer)
    body = json.dumps(customer_export_all(customer=customer), ensure_ascii=False, indent=2, default=str)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}.json"'
    return response


@workspace_view("customers.erase")
def customer_erase_view(request, customer_id: int):
    customer = _live_customer(request, customer_id)
    ctx = {"customer": customer, "error": "", "confirm": "", "reason": ""}
    if request.method == "POST":
        confirm = request.POST.get("confirm", "").strip()
        reason = request.POST.get("reason", "").strip()
        ctx.update(confirm=confirm, reason=reason)
        if confirm.casefold() not in {customer.name.strip().casefold(), "erase"}:
            ctx["error"] = _("Type the customer's name exactly as shown, or ERASE, to confirm.")
        elif not reason:
            ctx["error"] = _("Give a reason: it is kept in the audit log.")
        else:
            try:
                customer_erase(customer=customer, actor=request.user, via="web", reason=reason)
            except Conflict as exc:
                ctx["error"] = exc.message
            else:
                messages.success(request, _("Personal data of customer #%(id)s was erased. Order totals are kept "
                                            "for reports, unlinked from the person.") % {"id": customer.pk})
                return redirect("web:customers", slug=request.workspace.slug)
        return render(request, "web/customers/erase.html", ctx, status=422)
    return render(request, "web/customers/erase.html", ctx)


# --- duplicates and merge -----------------------------------------------------------------------------

def _latest_job(workspace, kind: str) -> Job | None:
    return Job.objects.for_workspace(workspace).filter(kind=kind).order_by("-created_at", "-id").first()


@workspace_view("customers.view")
def duplicates(request):
    qs = duplicate_candidates(workspace=request.workspace)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(c, [REASONS.get(r, r) for r in c.reasons]) for c in page]
    job = _latest_job(request.workspace, "duplicates_scan")
    return render(request, "web/customers/duplicates.html", {
        "page": page, "rows": rows, "can_merge": _can(request, "customers.merge"),
        "job": job if job and job.status in (Job.Status.QUEUED, Job.Status.RUNNING) else None,
        "last_scan": job,
    })


@require_POST
@workspace_view("customers.merge")
def duplicates_scan(request):
    from samphan.customers.tasks import duplicates_scan_job

    job = job_enqueue(workspace=request.workspace, kind="duplicates_scan", task=duplicates_scan_job,
                      actor=request.user)
    if _is_htmx(request):
        return render(request, "web/customers/_job.html", {"job": job})
    messages.info(request, _("Looking for duplicates in the background."))
    return redirect("web:duplicates", slug=request.workspace.slug)


@require_POST
@workspace_view("customers.merge")
def duplicate_dismiss_view(request, candidate_id: int):
    candidate = get_scoped_or_404(DuplicateCandidate.objects.select_related("customer_a", "customer_b"),
                                  request.workspace, pk=candidate_id)
    try:
        duplicate_dismiss(candidate=candidate, actor=request.user, via="web")
    except Conflict:
        messages.warning(request, _("Someone has already decided about this pair."))
    else:
        messages.success(request, _("Marked %(a)s and %(b)s as different people.")
                         % {"a": candidate.customer_a.name, "b": candidate.customer_b.name})
    return redirect("web:duplicates", slug=request.workspace.slug)


@workspace_view("workspace.view")
def job_status(request, job_id: int):
    job = get_scoped_or_404(Job, request.workspace, pk=job_id)
    return render(request, "web/customers/_job.html", {"job": job})


def _compare_facts(workspace, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per customer: identities, consent, tags, order count and spend, insight count (a few queries)."""
    from samphan.commerce.models import Order

    people = {c.pk: c for c in Customer.objects.for_workspace(workspace).filter(pk__in=ids)
              .select_related("organisation", "membership")
              .prefetch_related("identities", "consents", "customertag_set__tag")}
    orders = {row["customer_id"]: row for row in Order.objects.for_workspace(workspace)
              .filter(customer_id__in=ids, status=Order.Status.COMPLETED)
              .values("customer_id").annotate(count=Count("id"), spend=Sum("total"))}
    all_orders = dict(Order.objects.for_workspace(workspace).filter(customer_id__in=ids)
                      .values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n"))
    insights = dict(Insight.objects.for_workspace(workspace).filter(customer_id__in=ids)
                    .values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n"))
    facts = {}
    for pk, c in people.items():
        facts[pk] = {
            "customer": c,
            "identities": list(c.identities.all()),
            "consents": {x.purpose: x for x in c.consents.all()},
            "tags": [ct.tag.name for ct in c.customertag_set.all()],
            "order_count": orders.get(pk, {}).get("count", 0),
            "all_orders": all_orders.get(pk, 0),
            "spend": orders.get(pk, {}).get("spend"),
            "insight_count": insights.get(pk, 0),
            "membership": getattr(c, "membership", None),
        }
    return facts


def _merged_consent(a: Consent | None, b: Consent | None) -> Consent | None:
    if a is None or b is None:
        return a or b
    return a if CONSENT_RANK[a.status] <= CONSENT_RANK[b.status] else b


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@workspace_view("customers.view")
def customer_compare(request):
    source = request.POST if request.method == "POST" else request.GET
    a_id, b_id = _int(source.get("a")), _int(source.get("b"))
    candidate = None
    if cand_id := _int(source.get("candidate")):
        candidate = get_scoped_or_404(DuplicateCandidate, request.workspace, pk=cand_id)
        a_id, b_id = a_id or candidate.customer_a_id, b_id or candidate.customer_b_id
    if a_id is None or b_id is None:
        raise Http404("two customers are needed")
    error = ""
    status = 200
    if request.method == "POST":
        if not _can(request, "customers.merge"):
            return render(request, "web/forbidden.html", {"capability": "customers.merge"}, status=403)
        survivor_id = _int(request.POST.get("survivor"))
        if survivor_id not in (a_id, b_id):
            error = _("Choose which record to keep.")
        else:
            merged_id = b_id if survivor_id == a_id else a_id
            survivor = get_scoped_or_404(Customer, request.workspace, pk=survivor_id)
            merged = get_scoped_or_404(Customer, request.workspace, pk=merged_id)
            try:
                record = customer_merge(survivor=survivor, merged=merged, actor=request.user, via="web")
            except ValidationFailed:
                error = _("A customer cannot be merged into itself. Choose two different customers.")
            except Conflict as exc:
                error = exc.message
            else:
                url = reverse("web:customer_detail", args=[request.workspace.slug, survivor.pk])
                return redirect(f"{url}?merged={record.pk}")
        status = 422
    facts = _compare_facts(request.workspace, [a_id, b_id])
    if a_id not in facts or b_id not in facts:
        raise Http404("no such customer")
    same = a_id == b_id
    if same and not error:
        error = _("A customer cannot be merged into itself. Choose two different customers.")
    gone = [f["customer"] for f in facts.values() if f["customer"].merged_into_id or f["customer"].erased_at]
    a, b = facts[a_id], facts[b_id]
    # Default survivor: the record with more orders, then the older one; the person still chooses.
    default = a_id if (a["all_orders"], -a_id) >= (b["all_orders"], -b_id) else b_id
    consent_rows = []
    for value, label in Consent.Purpose.choices:
        ca, cb = a["consents"].get(value), b["consents"].get(value)
        result = _merged_consent(ca, cb)
        consent_rows.append({"label": label, "a": ca, "b": cb, "result": result,
                             "a_badge": CONSENT_BADGES.get(getattr(ca, "status", ""), ""),
                             "b_badge": CONSENT_BADGES.get(getattr(cb, "status", ""), ""),
                             "result_badge": CONSENT_BADGES.get(getattr(result, "status", ""), ""),
                             "changes": bool(ca and cb and ca.status != cb.status)})
    return render(request, "web/customers/compare.html", {
        "a": a, "b": b, "candidate": candidate, "error": error, "same": same, "gone": gone,
        "survivor_id": _int(source.get("survivor")) or default,
        "reasons": [REASONS.get(r, r) for r in candidate.reasons] if candidate else [],
        "consent_rows": consent_rows, "can_merge": _can(request, "customers.merge"),
    }, status=status)


@require_POST
@workspace_view("customers.merge")
def merge_undo(request, merge_id: int):
    record = get_scoped_or_404(MergeRecord.objects.select_related("survivor", "merged"), request.workspace,
                               pk=merge_id)
    try:
        merged = customer_merge_undo(record=record, actor=request.user, via="web")
    except Conflict as exc:
        messages.error(request, exc.message)
        return redirect("web:customer_detail", slug=request.workspace.slug, customer_id=record.survivor_id)
    messages.success(request, _("Merge undone: %(merged)s and %(survivor)s are separate records again.")
                     % {"merged": merged.name, "survivor": record.survivor.name})
    return redirect("web:customer_detail", slug=request.workspace.slug, customer_id=record.survivor_id)
