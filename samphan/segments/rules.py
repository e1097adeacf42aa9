"""Segment rules: validated JSON that compiles to one SQL query over customers.

A rule is a group: {"op": "and"|"or", "negate": false, "conditions": [...]}
where each condition is either a nested group or
{"field": "<name>", "operator": "<op>", "value": ...}.

Fields live in a registry, so other apps add their own (analytics registers
lifecycle stage, RFM segment, CLV and P(alive)). Every field compiles to a
Django Q over Customer; the whole rule is one WHERE clause, nested segments
read the other segment's materialised membership, so nesting costs one
indexed semi-join, not a re-evaluation.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.functional import Promise

from samphan.core.errors import ValidationFailed

MAX_DEPTH = 5
MAX_CONDITIONS = 100


class Compiler(Protocol):
    """(operator, value, workspace, path of the value for error messages) -> Q."""

    def __call__(self, op: str, value: Any, workspace: Any, path: str = ..., /) -> Q: ...


@dataclass(frozen=True)
class Field:
    name: str
    label: str | Promise  # usually a lazy translation, rendered with str()
    type: str  # "choice", "number", "date", "text", "bool", "segment"
    operators: tuple[str, ...]
    compile: Compiler
    choices: Callable[[Any], list[tuple[str, str]]] | None = None  # workspace -> [(value, label)]
    group: str = "customer"


FIELDS: dict[str, Field] = {}


def register_field(f: Field) -> Field:
    FIELDS[f.name] = f
    return f


def field_named(name: Any) -> Field | None:
    """The registered field of that name; None for an unknown name or a non-string (a rule is untrusted JSON)."""
    return FIELDS.get(name) if isinstance(name, str) else None


NUMBER_OPS = ("eq", "ne", "gt", "gte", "lt", "lte", "between")
CHOICE_OPS = ("in", "not_in")
DATE_OPS = ("before", "after", "between", "within_days", "not_within_days")
TEXT_OPS = ("eq", "ne", "contains")
BOOL_OPS = ("is",)


@dataclass
class CompileContext:
    workspace: Any
    depth: int = 0
    count: int = 0
    segment_stack: list[int] = field(default_factory=list)


# --- value parsing -----------------------------------------------------------------

def _number(value: Any, path: str) -> Decimal:
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationFailed(f"{path}: {value!r} is not a number") from None
    if not number.is_finite():  # "NaN", "Infinity": Decimal takes them, a query cannot
        raise ValidationFailed(f"{path}: {value!r} is not a number")
    return number


MAX_DAYS = 36_500  # a hundred years


def _date(value: Any, path: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return datetime.fromisoformat(str(value)).date()
    except ValueError:
        raise ValidationFailed(f"{path}: {value!r} is not a date (YYYY-MM-DD)") from None


def number_q(lookup: str) -> Compiler:
    def compile_(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
        if op == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise ValidationFailed(f"{path}: 'between' needs [low, high]")
            low, high = _number(value[0], path), _number(value[1], path)
            return Q(**{f"{lookup}__gte": low, f"{lookup}__lte": high})
        n = _number(value, path)
        if op == "ne":
            return ~Q(**{lookup: n})
        suffix = {"eq": "", "gt": "__gt", "gte": "__gte", "lt": "__lt", "lte": "__lte"}[op]
        return Q(**{f"{lookup}{suffix}": n})

    return compile_


def date_q(lookup: str) -> Compiler:
    def compile_(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
        if op in ("within_days", "not_within_days"):
            number = _number(value, path)
            if number != number.to_integral_value() or not 0 <= number <= MAX_DAYS:
                raise ValidationFailed(f"{path}: {value!r} is not a whole number of days from 0 to {MAX_DAYS}")
            days = int(number)
            since = timezone.now() - timedelta(days=days)
            q = Q(**{f"{lookup}__gte": since})
            return q if op == "within_days" else ~q
        if op == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise ValidationFailed(f"{path}: 'between' needs [from, to]")
            return Q(**{f"{lookup}__date__gte": _date(value[0], path), f"{lookup}__date__lte": _date(value[1], path)})
        d = _date(value, path)
        return Q(**{f"{lookup}__date__lt" if op == "before" else f"{lookup}__date__gt": d})

    return compile_


def choice_q(lookup: str) -> Compiler:
    def compile_(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str | int) for v in values):
            raise ValidationFailed(f"{path}: choose one or more values")
        q = Q(**{f"{lookup}__in": values})
        return q if op == "in" else ~q

    return compile_


def text_q(lookup: str) -> Compiler:
    def compile_(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
        if not isinstance(value, str):
            raise ValidationFailed(f"{path}: text expected")
        if op == "contains":
            return Q(**{f"{lookup}__icontains": value})
        return Q(**{lookup: value}) if op == "eq" else ~Q(**{lookup: value})

    return compile_


# --- compiling -------------------------------------------------------------------------

def compile_rule(rule: dict[str, Any], *, workspace: Any, segment_id: int | None = None) -> Q:
    """Validate a rule and turn it into a Q over Customer. Errors name the path: conditions[2].value."""
    ctx = CompileContext(workspace=workspace, segment_stack=[segment_id] if segment_id else [])
    return _group(rule, ctx, "rule")


def _group(group: Any, ctx: CompileContext, path: str) -> Q:
    if not isinstance(group, dict):
        raise ValidationFailed(f"{path}: a group must be an object")
    op = group.get("op", "and")
    if op not in ("and", "or"):
        raise ValidationFailed(f"{path}.op: use 'and' or 'or'")
    conditions = group.get("conditions", [])
    if not isinstance(conditions, list):
        raise ValidationFailed(f"{path}.conditions: a list is expected")
    ctx.depth += 1
    if ctx.depth > MAX_DEPTH:
        raise ValidationFailed(f"{path}: groups nest at most {MAX_DEPTH} deep")
    combined = Q()
    for index, cond in enumerate(conditions):
        sub_path = f"{path}.conditions[{index}]"
        ctx.count += 1
        if ctx.count > MAX_CONDITIONS:
            raise ValidationFailed(f"a rule has at most {MAX_CONDITIONS} conditions")
        q = _group(cond, ctx, sub_path) if isinstance(cond, dict) and "conditions" in cond else _condition(
            cond, ctx, sub_path)
        combined = (combined & q) if op == "and" else (combined | q)
    ctx.depth -= 1
    if group.get("negate"):
        combined = ~combined
    return combined


def _condition(cond: Any, ctx: CompileContext, path: str) -> Q:
    if not isinstance(cond, dict):
        raise ValidationFailed(f"{path}: a condition must be an object")
    name = cond.get("field")
    f = field_named(name)
    if f is None:
        raise ValidationFailed(f"{path}.field: unknown field {name!r}", details={"fields": sorted(FIELDS)})
    op = cond.get("operator")
    if op not in f.operators:
        raise ValidationFailed(f"{path}.operator: {f.name} takes {', '.join(f.operators)}, not {op!r}")
    if "value" not in cond:
        raise ValidationFailed(f"{path}.value: missing")
    if f.type == "segment":
        return _segment_q(op, cond["value"], ctx, f"{path}.value")
    return f.compile(op, cond["value"], ctx.workspace, f"{path}.value")


def _segment_q(op: str, value: Any, ctx: CompileContext, path: str) -> Q:
    from samphan.segments.models import Segment, SegmentMember

    try:
        other_id = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(f"{path}: a segment id is expected") from None
    if other_id in ctx.segment_stack:
        raise ValidationFailed(f"{path}: a segment cannot contain itself")
    other = Segment.objects.for_workspace(ctx.workspace).filter(pk=other_id).values("rule").first()
    if other is None:
        raise ValidationFailed(f"{path}: no segment #{other_id} in this workspace")
    # Reject cycles through the other segment's own references.
    _check_cycle(other["rule"], ctx.workspace, [*ctx.segment_stack, other_id], path)
    q = Q(pk__in=SegmentMember.objects.filter(segment_id=other_id).values("customer_id"))
    return q if op == "in" else ~q


def _check_cycle(rule: Any, workspace: Any, stack: list[int], path: str) -> None:
    from samphan.segments.models import Segment

    for ref in _segment_refs(rule):
        if ref in stack:
            raise ValidationFailed(f"{path}: segments would contain each other (#{' → #'.join(map(str, stack))})")
        sub = Segment.objects.for_workspace(workspace).filter(pk=ref).values("rule").first()
        if sub:
            _check_cycle(sub["rule"], workspace, [*stack, ref], path)


def _segment_refs(rule: Any) -> list[int]:
    refs: list[int] = []
    if isinstance(rule, dict):
        value = rule.get("value")
        if rule.get("field") == "segment" and value is not None:
            with contextlib.suppress(TypeError, ValueError):
                refs.append(int(value))
        for cond in rule.get("conditions", []) if isinstance(rule.get("conditions"), list) else []:
            refs.extend(_segment_refs(cond))
    return refs


def segment_queryset(rule: dict[str, Any], *, workspace: Any, segment_id: int | None = None) -> QuerySet:
    from samphan.customers.models import Customer

    q = compile_rule(rule, workspace=workspace, segment_id=segment_id)
    return Customer.objects.for_workspace(workspace).filter(merged_into__isnull=True, erased_at__isnull=True).filter(q)
