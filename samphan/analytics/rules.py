"""The tunable rules of RFM, CLV and the lifecycle: defaults, validation, merging.

A workspace stores only what it changes (AnalyticsSettings.rules); `effective_rules`
fills the rest from DEFAULT_RULES. docs/analytics.md explains every key.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from samphan.core.errors import ValidationFailed


def workspace_today(workspace: Any) -> date:
    """Today's date in the workspace's time zone: the default as-of date of every figure."""
    return timezone.now().astimezone(ZoneInfo(workspace.time_zone)).date()


DEFAULT_RULES: dict[str, dict[str, Any]] = {
    "rfm": {
        "period_days": 365,  # RFM looks at purchases in the last N days up to the as-of date
    },
    "clv": {
        "unit": "week",  # time unit of the BG/NBD fit: "day" or "week"
        "months": 12,  # CLV horizon
        "monthly_discount": 0.01,  # discount rate per month
        "expected_purchases_days": 90,  # horizon of CustomerScore.expected_purchases_90d
    },
    "lifecycle": {
        # lapsed: no purchase for more than N days, or P(alive) below the threshold
        "lapsed_days": 180,
        "lapsed_p_alive": 0.15,
        # die-hard fan: top spenders of the window who buy often, bought lately and engage
        "fan_top_share": 0.10,
        "fan_min_purchase_days": 4,
        "fan_recent_days": 90,
        "fan_min_engagement": 0.0,  # 0 = engagement not required (the inbox will feed it)
        # opinion leader: social reach or referrals (CustomerSignal)
        "leader_min_reach": 5000,
        "leader_min_referrals": 3,
        # bargain hunter: most orders carry a discount
        "bargain_min_orders": 3,
        "bargain_min_share": 0.6,
        # new: one purchase day, recent
        "new_days": 90,
        # hooked: came back within N days of the first purchase, first purchase not long ago
        "hooked_within_days": 30,
        "hooked_window_days": 180,
        # regular: at least N purchase days in the window
        "regular_min_purchase_days": 3,
        # the window of "regular" and "die-hard fan"
        "window_days": 365,
    },
}

_CHOICES = {("clv", "unit"): {"day", "week"}}
_FRACTIONS = {("clv", "monthly_discount"), ("lifecycle", "lapsed_p_alive"), ("lifecycle", "fan_top_share"),
              ("lifecycle", "bargain_min_share")}


def effective_rules(stored: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """The defaults overlaid with a workspace's stored changes."""
    rules = copy.deepcopy(DEFAULT_RULES)
    for section, values in (stored or {}).items():
        if section in rules and isinstance(values, dict):
            rules[section].update({k: v for k, v in values.items() if k in rules[section]})
    return rules


def validate_rules(changes: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Check a partial rules document; return it cleaned. Unknown keys and bad values are errors."""
    errors: list[dict[str, str]] = []
    cleaned: dict[str, dict[str, Any]] = {}
    if not isinstance(changes, dict):
        raise ValidationFailed("rules must be an object like {\"lifecycle\": {\"lapsed_days\": 120}}")
    for section, values in changes.items():
        if section not in DEFAULT_RULES or not isinstance(values, dict):
            errors.append({"field": str(section), "reason": "unknown section"})
            continue
        for key, value in values.items():
            field = f"{section}.{key}"
            if key not in DEFAULT_RULES[section]:
                errors.append({"field": field, "reason": "unknown rule"})
                continue
            default = DEFAULT_RULES[section][key]
            if (section, key) in _CHOICES:
                if value not in _CHOICES[(section, key)]:
                    errors.append({"field": field, "reason": f"one of {sorted(_CHOICES[(section, key)])}"})
                    continue
            elif isinstance(value, bool) or not isinstance(value, int | float):
                errors.append({"field": field, "reason": "a number"})
                continue
            elif value < 0 or ((section, key) in _FRACTIONS and value > 1):
                errors.append({"field": field, "reason": "between 0 and 1" if (section, key) in _FRACTIONS
                               else "zero or more"})
                continue
            elif isinstance(default, int) and not isinstance(default, bool):
                if value != int(value):
                    errors.append({"field": field, "reason": "a whole number"})
                    continue
                value = int(value)
            cleaned.setdefault(section, {})[key] = value
    if errors:
        summary = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        raise ValidationFailed(f"some analytics rules are not valid ({summary})", details=errors)
    return cleaned
