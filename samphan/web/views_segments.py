"""Segment pages: the list, the rule builder with a live count, the detail page with
members and join/leave history, refresh and delete.

The builder needs no JavaScript of its own. The form describes the rule tree in
flat fields named by each node's path ("r" is the root group, "r-1-0" the first
condition of the root's second child):

    node=<path>            once per node, in document order
    <path>:kind            "group" or "cond"
    <path>:op, :negate     a group's AND/OR and its NOT
    <path>:field, :operator, :value (repeated for several choices), :value2, :key

`rule_from_post` turns that into the rule JSON documented in
samphan/segments/rules.py; `builder_tree` turns rule JSON back into what the
templates draw. Adding or removing a node posts the form with an `action`
(htmx swaps the builder; without JavaScript the whole page comes back).
"""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from samphan.accounts.roles import role_can
from samphan.core.errors import Conflict, ValidationFailed
from samphan.core.jobs import job_enqueue
from samphan.core.models import Job
from samphan.core.scoping import get_scoped_or_404
from samphan.customers.models import Customer
from samphan.segments import services
from samphan.segments.models import Segment, SegmentEvent
from samphan.segments.rules import FIELDS, MAX_DEPTH, field_named
from samphan.web.views import workspace_view

PAGE_SIZE = 25
ROOT = "r"

OPERATOR_LABELS = {
    "eq": gettext_lazy("is"),
    "ne": gettext_lazy("is not"),
    "gt": gettext_lazy("more than"),
    "gte": gettext_lazy("at least"),
    "lt": gettext_lazy("less than"),
    "lte": gettext_lazy("at most"),
    "between": gettext_lazy("between"),
    "in": gettext_lazy("is any of"),
    "not_in": gettext_lazy("is none of"),
    "before": gettext_lazy("before"),
    "after": gettext_lazy("after"),
    "within_days": gettext_lazy("in the last … days"),
    "not_within_days": gettext_lazy("not in the last … days"),
    "contains": gettext_lazy("contains"),
    "is": gettext_lazy("is"),
}
SEGMENT_OPERATOR_LABELS = {"in": gettext_lazy("is in"), "not_in": gettext_lazy("is not in")}
GROUP_LABELS = {
    "customer": gettext_lazy("Customer"),
    "purchases": gettext_lazy("Purchases"),
    "analytics": gettext_lazy("Analytics"),
}
_ERROR_PATH = re.compile(r"^rule((?:\.conditions\[\d+\])*)")


def _can(request, capability: str) -> bool:
    return role_can(request.membership.role, capability)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- form ⇄ rule ---------------------------------------------------------------------------------

def _number(text: str) -> Any:
    """A number when it reads as one; the text otherwise, so the rule's validation names it."""
    text = (text or "").strip().replace(",", "")
    try:
        d = Decimal(text)
    except InvalidOperation:
        return text
    return int(d) if d == d.to_integral_value() and "." not in text else float(d)


def value_kind(field_name: str, operator: str) -> str:
    """Which value widget a field and operator need."""
    f = FIELDS.get(field_name)
    if f is None:
        return ""
    if f.type == "segment":
        return "segment"
    if f.type == "choice":
        return "multi"
    if f.type == "number":
        return "number_range" if operator == "between" else "number"
    if f.type == "date":
        if operator == "between":
            return "date_range"
        return "days" if operator in ("within_days", "not_within_days") else "date"
    if f.type == "bool":
        return "bool"
    if f.type == "attribute":
        return "attribute"
    return "text"


def _condition_from_post(post, path: str) -> dict[str, Any]:
    name = post.get(f"{path}:field", "")
    f = FIELDS.get(name)
    operator = post.get(f"{path}:operator", "")
    if f is not None and operator not in f.operators:
        operator = f.operators[0]
    kind = value_kind(name, operator)
    raw, raw2 = post.get(f"{path}:value", ""), post.get(f"{path}:value2", "")
    value: Any
    if kind == "multi":
        value = [v for v in post.getlist(f"{path}:value") if v != ""]
    elif kind == "segment":
        value = _number(raw) if raw else None
    elif kind == "number":
        value = _number(raw)
    elif kind == "number_range":
        value = [_number(raw), _number(raw2)]
    elif kind == "date_range":
        value = [raw.strip(), raw2.strip()]
    elif kind == "days":
        value = _number(raw)
    elif kind == "bool":
        value = {"true": True, "false": False}.get(raw, raw)
    elif kind == "attribute":
        target = _number(raw) if operator in ("gt", "gte", "lt", "lte") else raw
        value = {"key": post.get(f"{path}:key", "").strip(), "value": target}
    else:
        value = raw
    return {"field": name, "operator": operator, "value": value}


def rule_from_post(post) -> dict[str, Any]:
    """Rebuild the rule JSON from the builder's flat form fields (order kept)."""
    root: dict[str, Any] = {"op": "and", "negate": False, "conditions": []}
    nodes: dict[str, dict[str, Any]] = {ROOT: root}
    node: dict[str, Any]
    for path in post.getlist("node"):
        if path == ROOT:
            root["op"] = "or" if post.get(f"{ROOT}:op") == "or" else "and"
            root["negate"] = bool(post.get(f"{ROOT}:negate"))
            continue
        parent = nodes.get(path.rsplit("-", 1)[0])
        if parent is None or not re.fullmatch(r"r(-\d+)+", path):
            continue  # a node whose group is gone (or a forged name): dropped
        if post.get(f"{path}:kind") == "group":
            node = {"op": "or" if post.get(f"{path}:op") == "or" else "and",
                    "negate": bool(post.get(f"{path}:negate")), "conditions": []}
            nodes[path] = node
        else:
            node = _condition_from_post(post, path)
        parent["conditions"].append(node)
    return root


def _node_at(rule: dict[str, Any], path: str) -> tuple[dict[str, Any] | None, int | None, Any]:
    """(parent group, index, node) for a path; the root has no parent."""
    parts = path.split("-")[1:]
    parent, index, node = None, None, rule
    for part in parts:
        children = node.get("conditions") if isinstance(node, dict) else None
        if not isinstance(children, list) or not part.isdigit() or int(part) >= len(children):
            return None, None, None
        parent, index, node = node, int(part), children[int(part)]
    return parent, index, node


def _depth(path: str) -> int:
    return path.count("-")


def apply_action(rule: dict[str, Any], action: str) -> dict[str, Any]:
    """add_cond:<group path>, add_group:<group path>, remove:<node path>."""
    verb, _sep, path = action.partition(":")
    parent, index, node = _node_at(rule, path)
    if verb in ("add_cond", "add_group") and isinstance(node, dict) and "conditions" in node:
        if verb == "add_cond":
            node["conditions"].append({"field": "", "operator": "", "value": None})
        elif _depth(path) + 1 < MAX_DEPTH:
            node["conditions"].append({"op": "and", "negate": False,
                                       "conditions": [{"field": "", "operator": "", "value": None}]})
    elif verb == "remove" and parent is not None:
        del parent["conditions"][index]
    return rule


def _path_of_error(message: str) -> str:
    """rule.conditions[1].conditions[0].value: … → r-1-0."""
    match = _ERROR_PATH.match(message)
    if not match:
        return ""
    return ROOT + "".join(f"-{i}" for i in re.findall(r"\[(\d+)\]", match.group(1)))


def _choices(field_name: str, workspace, segment_id: int | None, cache: dict) -> list[tuple[str, str]]:
    if field_name not in cache:
        f = FIELDS[field_name]
        options = [(str(v), str(label)) for v, label in f.choices(workspace)] if f.choices else []
        if f.type == "segment" and segment_id:
            options = [(v, label) for v, label in options if v != str(segment_id)]
        cache[field_name] = options
    return cache[field_name]


def condition_widgets(cond: dict[str, Any], path: str, workspace, segment_id: int | None,
                      cache: dict | None = None) -> dict[str, Any]:
    """What the operator and value controls of one condition show."""
    cache = {} if cache is None else cache
    name = cond.get("field") or ""
    f = field_named(name)
    if f is None:
        return {"path": path, "field": name, "operators": [], "kind": ""}
    chosen_op = cond.get("operator")
    operator = chosen_op if isinstance(chosen_op, str) and chosen_op in f.operators else f.operators[0]
    labels = SEGMENT_OPERATOR_LABELS if f.type == "segment" else OPERATOR_LABELS
    kind = value_kind(name, operator)
    value = cond.get("value")
    w: dict[str, Any] = {"path": path, "field": name, "operator": operator, "kind": kind,
                         "operators": [(op, labels.get(op, op)) for op in f.operators]}
    if kind in ("multi", "segment"):
        chosen = {str(v) for v in (value if isinstance(value, list) else [value]) if v not in (None, "")}
        w["options"] = [(v, label, v in chosen) for v, label in _choices(name, workspace, segment_id, cache)]
        w["unknown"] = sorted(chosen - {v for v, _label, _c in w["options"]})
    elif kind in ("number_range", "date_range"):
        pair = value if isinstance(value, list) and len(value) == 2 else ["", ""]
        w["value"], w["value2"] = ("" if pair[0] is None else pair[0]), ("" if pair[1] is None else pair[1])
    elif kind == "attribute":
        v = value if isinstance(value, dict) else {}
        w["key"], w["value"] = v.get("key", ""), v.get("value", "")
    elif kind == "bool":
        w["value"] = "true" if value is True else ("false" if value is False else "")
    else:
        w["value"] = "" if value is None or isinstance(value, list | dict) else value
    return w


def _field_groups() -> list[tuple[str, list[tuple[str, str]]]]:
    groups: dict[str, list[tuple[str, str]]] = {}
    for f in FIELDS.values():
        groups.setdefault(f.group, []).append((f.name, str(f.label)))
    return [(str(GROUP_LABELS.get(g, g.capitalize())), items) for g, items in groups.items()]


def builder_tree(rule: dict[str, Any], workspace, segment_id: int | None, error_path: str = "",
                 error: str = "") -> dict[str, Any]:
    cache: dict[str, Any] = {}

    def walk(node: Any, path: str) -> dict[str, Any]:
        if isinstance(node, dict) and "conditions" in node:
            children = node["conditions"] if isinstance(node["conditions"], list) else []
            return {"kind": "group", "path": path, "op": "or" if node.get("op") == "or" else "and",
                    "negate": bool(node.get("negate")), "depth": _depth(path),
                    "can_nest": _depth(path) + 1 < MAX_DEPTH,
                    "children": [walk(child, f"{path}-{i}") for i, child in enumerate(children)],
                    "error": error if path == error_path else ""}
        cond = node if isinstance(node, dict) else {}
        return {"kind": "cond", "path": path, "widgets": condition_widgets(cond, path, workspace, segment_id, cache),
                "error": error if path == error_path or error_path.startswith(path + "-") else ""}

    return walk(rule if isinstance(rule, dict) else {"op": "and", "conditions": []}, ROOT)


# --- rule in words -------------------------------------------------------------------------------

def describe_rule(rule: dict[str, Any], workspace) -> list[dict[str, Any]]:
    """The rule as nested lines of words for the detail page."""
    cache: dict[str, Any] = {}

    def value_words(cond: dict[str, Any]) -> str:
        f = field_named(cond.get("field"))
        value = cond.get("value")
        if f is None:
            return str(value)
        if f.choices:
            labels = dict(_choices(f.name, workspace, None, cache))
            values = value if isinstance(value, list) else [value]
            return ", ".join(labels.get(str(v), str(v)) for v in values)
        if isinstance(value, list) and len(value) == 2:
            return _("%(low)s and %(high)s") % {"low": value[0], "high": value[1]}
        if isinstance(value, dict):
            return f"{value.get('key')} = {value.get('value')}"
        if value is True:
            return _("yes")
        if value is False:
            return _("no")
        return str(value)

    def walk(node: dict[str, Any]) -> dict[str, Any]:
        if "conditions" in node:
            return {"group": True, "op": node.get("op", "and"), "negate": node.get("negate", False),
                    "children": [walk(c) for c in node.get("conditions", []) if isinstance(c, dict)]}
        f = field_named(node.get("field"))
        op = node.get("operator", "")
        labels = SEGMENT_OPERATOR_LABELS if f and f.type == "segment" else OPERATOR_LABELS
        op_words = str(labels.get(op, op))
        if op in ("within_days", "not_within_days"):
            op_words = op_words.replace("…", str(node.get("value")))
            return {"group": False, "field": str(f.label) if f else node.get("field"), "op": op_words, "value": ""}
        return {"group": False, "field": str(f.label) if f else node.get("field"), "op": op_words,
                "value": value_words(node)}

    return [walk(rule)] if isinstance(rule, dict) else []


# --- pages -----------------------------------------------------------------------------------------

@workspace_view("customers.view")
def segments(request):
    rows = Segment.objects.for_workspace(request.workspace).select_related("created_by").order_by("name")
    return render(request, "web/segments/list.html", {
        "segments": rows, "can_manage": _can(request, "campaigns.manage"),
        "total_customers": Customer.objects.for_workspace(request.workspace)
        .filter(merged_into__isnull=True, erased_at__isnull=True).count(),
    })


def _builder_context(request, *, segment: Segment | None, rule: dict[str, Any], name: str, description: str,
                     error: str = "") -> dict[str, Any]:
    error_path = _path_of_error(error) if error else ""
    return {
        "segment": segment, "name": name, "description": description, "error": error,
        "tree": builder_tree(rule, request.workspace, segment.pk if segment else None, error_path, error),
        "field_groups": _field_groups(), "segment_id": segment.pk if segment else "",
    }


def _builder(request, segment: Segment | None):
    if request.method == "POST":
        rule = rule_from_post(request.POST)
        name, description = request.POST.get("name", ""), request.POST.get("description", "")
        action = request.POST.get("action", "save")
        if action != "save":
            return render(request, "web/segments/builder.html", _builder_context(
                request, segment=segment, rule=apply_action(rule, action), name=name, description=description))
        try:
            saved = services.segment_save(workspace=request.workspace, segment=segment, name=name, rule=rule,
                                          description=description.strip(), actor=request.user, via="web")
        except ValidationFailed as exc:
            error = exc.message if exc.message != "a segment needs a name" else _("Give the segment a name.")
            return render(request, "web/segments/builder.html", _builder_context(
                request, segment=segment, rule=rule, name=name, description=description, error=error), status=422)
        except Conflict:
            return render(request, "web/segments/builder.html", _builder_context(
                request, segment=segment, rule=rule, name=name, description=description,
                error=_("A segment with this name already exists.")), status=422)
        from samphan.segments.tasks import segments_refresh_all_job

        job = job_enqueue(workspace=request.workspace, kind="segments_refresh", task=segments_refresh_all_job,
                          actor=request.user)
        messages.success(request, _("Segment saved. Its members are being worked out in the background."))
        url = reverse("web:segment_detail", args=[request.workspace.slug, saved.pk])
        return redirect(f"{url}?job={job.pk}")
    rule = segment.rule if segment else {"op": "and", "negate": False, "conditions": []}
    return render(request, "web/segments/builder.html", _builder_context(
        request, segment=segment, rule=rule, name=segment.name if segment else "",
        description=segment.description if segment else ""))


@workspace_view("campaigns.manage")
def segment_new(request):
    return _builder(request, None)


@workspace_view("campaigns.manage")
def segment_edit(request, segment_id: int):
    return _builder(request, get_scoped_or_404(Segment, request.workspace, pk=segment_id))


@require_POST
@workspace_view("campaigns.manage")
def segment_builder(request):
    """htmx: add or remove a condition or group, and draw the builder again."""
    segment_id = _int(request.POST.get("segment_id"))
    segment = get_scoped_or_404(Segment, request.workspace, pk=segment_id) if segment_id else None
    rule = apply_action(rule_from_post(request.POST), request.POST.get("action", ""))
    response = render(request, "web/segments/_builder.html", _builder_context(
        request, segment=segment, rule=rule, name="", description=""))
    response["HX-Trigger-After-Settle"] = "rule-changed"
    return response


@require_GET
@workspace_view("campaigns.manage")
def segment_widgets(request):
    """htmx: the operator and value controls for the field (and operator) just chosen."""
    path = request.GET.get("path", "")
    if not re.fullmatch(r"r(-\d+)+", path):
        raise Http404("bad path")
    segment_id = _int(request.GET.get("segment_id"))
    cond = {"field": request.GET.get(f"{path}:field", ""), "operator": request.GET.get(f"{path}:operator", ""),
            "value": None}
    if request.GET.get("keep") == "operator" and cond["field"] in FIELDS:
        # The operator changed: keep a value the new widget can still show.
        cond = _condition_from_post(request.GET, path)
    return render(request, "web/segments/_widgets.html", {
        "w": condition_widgets(cond, path, request.workspace, segment_id), "segment_id": segment_id or ""})


@require_POST
@workspace_view("campaigns.manage")
def segment_preview(request):
    """htmx: how many customers the rule being edited matches now."""
    rule = rule_from_post(request.POST)
    segment_id = _int(request.POST.get("segment_id"))
    if segment_id:
        get_scoped_or_404(Segment, request.workspace, pk=segment_id)
    try:
        count = services.segment_count(workspace=request.workspace, rule=rule, segment_id=segment_id)
    except ValidationFailed as exc:
        return render(request, "web/segments/_preview.html", {"error": exc.message,
                                                              "error_node": _node_label(exc.message)})
    return render(request, "web/segments/_preview.html", {"count": count})


def _node_label(message: str) -> str:
    """rule.conditions[1].conditions[0].value → “Condition 2 › 1” for people."""
    path = _path_of_error(message)
    if not path or path == ROOT:
        return ""
    return _("Condition %(path)s") % {"path": " › ".join(str(int(i) + 1) for i in path.split("-")[1:])}


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@workspace_view("customers.view")
def segment_detail(request, segment_id: int):
    ws = request.workspace
    segment = get_scoped_or_404(Segment.objects.select_related("created_by"), ws, pk=segment_id)
    members = (Customer.objects.for_workspace(ws).filter(segment_memberships__segment=segment)
               .select_related("organisation").order_by("-segment_memberships__joined_at", "-id"))
    member_page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    history = _history(request, segment)
    if _is_htmx(request):
        return render(request, "web/segments/_history.html", {"segment": segment, **history})
    since = timezone.now() - timedelta(days=30)
    recent = dict(SegmentEvent.objects.filter(segment=segment, at__gte=since).values("kind")
                  .annotate(n=Count("id")).values_list("kind", "n"))
    job = None
    if job_id := _int(request.GET.get("job")):
        job = Job.objects.for_workspace(ws).filter(pk=job_id).first()
    return render(request, "web/segments/detail.html", {
        "segment": segment, "member_page": member_page, "rule_words": describe_rule(segment.rule, ws),
        "joined_30": recent.get("joined", 0), "left_30": recent.get("left", 0), "job": job,
        "can_manage": _can(request, "campaigns.manage"), **history,
    })


def _history(request, segment: Segment) -> dict[str, Any]:
    kind = request.GET.get("kind", "")
    since, until = parse_date(request.GET.get("from", "") or ""), parse_date(request.GET.get("to", "") or "")
    qs = SegmentEvent.objects.filter(segment=segment).select_related("customer").order_by("-at", "-id")
    if kind in SegmentEvent.Kind.values:
        qs = qs.filter(kind=kind)
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("hpage"))
    query = urlencode([(k, v) for k, v in (("kind", kind), ("from", request.GET.get("from", "")),
                                             ("to", request.GET.get("to", ""))) if v])
    return {"history_page": page, "history_kind": kind, "history_from": request.GET.get("from", ""),
            "history_to": request.GET.get("to", ""), "history_query": query, "event_kinds": SegmentEvent.Kind.choices}


@require_POST
@workspace_view("customers.view")
def segment_refresh(request, segment_id: int):
    from samphan.segments.tasks import segments_refresh_all_job

    segment = get_scoped_or_404(Segment, request.workspace, pk=segment_id)
    job = job_enqueue(workspace=request.workspace, kind="segments_refresh", task=segments_refresh_all_job,
                      actor=request.user)
    if _is_htmx(request):
        return render(request, "web/customers/_job.html", {"job": job})
    url = reverse("web:segment_detail", args=[request.workspace.slug, segment.pk])
    return redirect(f"{url}?job={job.pk}")


@require_POST
@workspace_view("campaigns.manage")
def segment_delete(request, segment_id: int):
    segment = get_scoped_or_404(Segment, request.workspace, pk=segment_id)
    users = [s.name for s in Segment.objects.for_workspace(request.workspace).exclude(pk=segment.pk)
             if segment.pk in _refs(s.rule)]
    try:
        services.segment_delete(segment=segment, actor=request.user, via="web")
    except Conflict:
        messages.error(request, _("“%(name)s” cannot be deleted: it is used by %(users)s. Change those segments "
                                  "first.") % {"name": segment.name, "users": ", ".join(users)})
        return redirect("web:segment_detail", slug=request.workspace.slug, segment_id=segment.pk)
    messages.success(request, _("Segment “%(name)s” deleted.") % {"name": segment.name})
    return redirect("web:segments", slug=request.workspace.slug)


def _refs(rule: Any) -> list[int]:
    from samphan.segments.rules import _segment_refs

    return _segment_refs(rule)
