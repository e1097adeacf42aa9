"""Normalising contact points, and resolving them to customers.

Rule (issue 3): link automatically only on an exact identity match — same LINE
id, same normalised phone, same e-mail in the workspace. Anything weaker
becomes a duplicate *candidate* for a person to decide (see duplicates.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from samphan.core.errors import ValidationFailed
from samphan.customers.models import Identity

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_X_HANDLE_RE = re.compile(r"^@?([A-Za-z0-9_]{1,15})$")
_LINE_ID_RE = re.compile(r"^U[0-9a-f]{32}$")


@dataclass(frozen=True)
class NormalisedIdentity:
    kind: str
    value: str  # what uniqueness and matching use
    display: str  # what a person typed, for showing back


def normalise_phone(raw: str, region: str = "TH") -> str:
    """E.164 for a phone number in any common Thai or international format.

    081-234-5678, +66 81 234 5678, 0812345678, 66812345678 and Thai digits
    (๐๘๑…) all give +66812345678.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationFailed("phone number is empty")
    digits = re.sub(r"\D", "", text.translate(_THAI_DIGITS))
    if text.startswith("66") or (digits.startswith("66") and len(digits) in (10, 11) and not text.startswith("0")):
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise ValidationFailed(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValidationFailed(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_THAI_DIGITS = str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789")


def normalise_email(raw: str) -> str:
    value = (raw or "").strip().lower()
    if not _EMAIL_RE.match(value):
        raise ValidationFailed(f"{raw!r} is not an e-mail address")
    return value


def normalise_identity(kind: str, raw: str) -> NormalisedIdentity:
    raw = (raw or "").strip()
    if not raw:
        raise ValidationFailed(f"{kind} is empty")
    if kind == Identity.Kind.EMAIL:
        return NormalisedIdentity(kind, normalise_email(raw), raw)
    if kind == Identity.Kind.PHONE:
        return NormalisedIdentity(kind, normalise_phone(raw), raw)
    if kind == Identity.Kind.LINE:
        if not _LINE_ID_RE.match(raw):
            raise ValidationFailed(f"{raw!r} is not a LINE user id (U followed by 32 hex digits)")
        return NormalisedIdentity(kind, raw, raw)
    if kind == Identity.Kind.X_HANDLE:
        match = _X_HANDLE_RE.match(raw)
        if not match:
            raise ValidationFailed(f"{raw!r} is not an X handle")
        return NormalisedIdentity(kind, match.group(1).lower(), "@" + match.group(1))
    if kind in (Identity.Kind.FACEBOOK, Identity.Kind.X, Identity.Kind.WEBCHAT):
        if len(raw) > 255 or any(c.isspace() for c in raw):
            raise ValidationFailed(f"{raw!r} is not a valid {kind} id")
        return NormalisedIdentity(kind, raw, raw)
    raise ValidationFailed(f"unknown identity kind {kind!r}")
