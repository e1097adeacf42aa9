"""Small presentation helpers for the web UI: avatars, phone display, money."""

from __future__ import annotations

from decimal import Decimal

import phonenumbers
from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat

register = template.Library()

# Thai vowels written before the consonant they follow in speech (เ แ โ ใ ไ)
# make a poor initial: "เกศินี" should show "ก", not "เ".
_THAI_LEADING_VOWELS = frozenset("เแโใไ")
# Avatar backgrounds: calm tints that keep white text readable.
_AVATAR_HUES = (222, 262, 190, 160, 28, 340, 205, 290)


@register.filter
def initials(name: str) -> str:
    """One or two letters for an avatar: first letters of the first two words."""
    letters = []
    for word in str(name or "").split()[:2]:
        word = word.lstrip("".join(_THAI_LEADING_VOWELS) + "#@+(")
        if word:
            letters.append(word[0].upper())
    # Thai names read best with one letter; two Thai letters look like a word.
    if letters and "\u0e00" <= letters[0] <= "\u0e7f":
        return letters[0]
    return "".join(letters) or "?"


@register.filter
def avatar_hue(key) -> int:
    """A stable hue per customer so the same person keeps the same colour."""
    try:
        index = int(key)
    except (TypeError, ValueError):
        index = sum(map(ord, str(key)))
    return _AVATAR_HUES[index % len(_AVATAR_HUES)]


@register.filter
def phone_display(value: str) -> str:
    """+66812345678 → 081 234 5678 for Thai numbers; international format otherwise."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "TH")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_possible_number(number):
        return value
    if number.country_code == 66:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@register.filter
def money(value, places: int = 0) -> str:
    """Amount with thousands separators, or an em dash when there is none."""
    if value in (None, ""):
        return "—"
    return intcomma(floatformat(Decimal(value), places))
