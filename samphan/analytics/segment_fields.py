"""Segment-rule fields read from the materialised scores: stage, RFM segment, CLV, P(alive), spend, dates.

Registered with samphan.segments when that app is installed (AnalyticsConfig.ready).
Each compiles to a condition on the customer's one-to-one CustomerScore row.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from samphan.analytics.models import RfmSegment, Stage
from samphan.analytics.rules import workspace_today
from samphan.core.errors import ValidationFailed
from samphan.segments.rules import (
    CHOICE_OPS,
    DATE_OPS,
    NUMBER_OPS,
    Compiler,
    Field,
    choice_q,
    number_q,
    register_field,
)

SCORE = "analytics_score"


def _day(value: Any, path: str) -> date:
    try:
        return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    except ValueError:
        raise ValidationFailed(f"{path}: {value!r} is not a date (YYYY-MM-DD)") from None


def _date_field_q(lookup: str) -> Compiler:
    """Date conditions on a DateField; "within N days" counts back from the workspace's today."""

    def compile_(op: str, value: Any, workspace: Any, path: str = "value") -> Q:
        if op in ("within_days", "not_within_days"):
            try:
                days = int(value)
            except (TypeError, ValueError):
                raise ValidationFailed(f"{path}: a number of days") from None
            today = workspace_today(workspace) if hasattr(workspace, "time_zone") else date.today()
            q = Q(**{f"{lookup}__gte": today - timedelta(days=days)})
            return q if op == "within_days" else ~q
        if op == "between":
            if not isinstance(value, list | tuple) or len(value) != 2:
                raise ValidationFailed(f"{path}: 'between' needs [from, to]")
            return Q(**{f"{lookup}__gte": _day(value[0], path), f"{lookup}__lte": _day(value[1], path)})
        return Q(**{f"{lookup}__lt" if op == "before" else f"{lookup}__gt": _day(value, path)})

    return compile_


def _choices(enum) -> Any:
    return lambda workspace: [(c.value, str(c.label)) for c in enum]


GROUP = "analytics"
for f in (
    Field("stage", _("Lifecycle stage"), "choice", CHOICE_OPS, choice_q(f"{SCORE}__stage"),
          _choices(Stage), group=GROUP),
    Field("rfm_segment", _("RFM segment"), "choice", CHOICE_OPS, choice_q(f"{SCORE}__rfm_segment"),
          _choices(RfmSegment), group=GROUP),
    Field("clv", _("Customer lifetime value (12 months)"), "number", NUMBER_OPS, number_q(f"{SCORE}__clv"),
          group=GROUP),
    Field("p_alive", _("Probability still active"), "number", NUMBER_OPS, number_q(f"{SCORE}__p_alive"),
          group=GROUP),
    Field("total_spend", _("Total spend"), "number", NUMBER_OPS, number_q(f"{SCORE}__total_spend"), group=GROUP),
    Field("order_count", _("Number of orders"), "number", NUMBER_OPS, number_q(f"{SCORE}__order_count"),
          group=GROUP),
    Field("last_purchase", _("Last purchase"), "date", DATE_OPS, _date_field_q(f"{SCORE}__last_purchase"),
          group=GROUP),
    Field("first_purchase", _("First purchase"), "date", DATE_OPS, _date_field_q(f"{SCORE}__first_purchase"),
          group=GROUP),
):
    register_field(f)
