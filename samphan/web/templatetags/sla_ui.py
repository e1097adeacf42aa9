"""Template helpers for SLA: short durations, countdowns, the report's figures."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def duration_short(seconds: Any) -> str:
    """3600 → "1 h", 5400 → "1 h 30 min", 90000 → "1 d 1 h", 45 → "45 s"; "" for None."""
    if not isinstance(seconds, (int, float)):
        return ""
    total = abs(round(float(seconds)))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    d, h, m, s = _units()
    parts = []
    if days:
        parts.append(f"{days} {d}")
    if hours:
        parts.append(f"{hours} {h}")
    if minutes and not days:
        parts.append(f"{minutes} {m}")
    if not parts:
        parts.append(f"{secs} {s}")
    return " ".join(parts[:2])


def _units() -> tuple[str, str, str, str]:
    # Translators: short units of time: days, hours, minutes, seconds.
    return _("d"), _("h"), _("min"), _("s")


@register.simple_tag
def sla_units() -> str:
    """The short units for samphan.js's countdown: "d|h|min"."""
    return "|".join(_units()[:3])


@register.filter
def countdown(sla: dict[str, Any] | None) -> str:
    """The badge text: "Overdue 20 min", "Due in 25 min", "SLA missed"."""
    if not sla:
        return ""
    if sla["state"] == "missed":
        return _("SLA missed")
    left = sla["seconds_left"]
    if left <= 0:
        return f"{_('Overdue')} {duration_short(max(-left, 60))}"
    return f"{_('Due in')} {duration_short(max(left, 60))}"


@register.filter
def target_name(target: str | None) -> str:
    return {"first_response": _("First response"), "next_response": _("Next response"),
            "resolution": _("Resolution")}.get(target or "", "")


@register.filter
def percent(value: Any) -> str:
    return f"{value * 100:.0f}%" if isinstance(value, (int, float)) else ""


@register.filter
def pick(mapping: Any, key: str) -> Any:
    """mapping[key] for dicts in templates ({{ row|pick:kind }})."""
    return mapping.get(key) if isinstance(mapping, dict) else None


@register.simple_tag
def form_value(form: Any, key: str) -> str:
    return form.get(key, "") if form is not None and hasattr(form, "get") else ""
