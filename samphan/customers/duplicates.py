"""Finding customers who may be the same person — candidates only, never a silent merge.

Evidence, each a reason on the candidate:
- same_email_other_form: e-mails equal once case, dots and +tags of the local
  part are ignored (Somchai.J+shop@Gmail.com ~ somchaij@gmail.com);
- same_phone_other_format: the same national number written differently
  (the last nine digits agree);
- similar_name: names alike after Thai titles are dropped and Thai script is
  romanised (สมชาย ใจดี ~ Somchai Jaidee), scored with rapidfuzz.

Names are compared only inside blocks (same romanised first-name prefix and
last-name initial) so the scan stays near-linear on a million customers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache
from itertools import combinations
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rapidfuzz import fuzz

from samphan.core.audit import audit_record
from samphan.core.errors import Conflict
from samphan.customers.models import Customer, DuplicateCandidate

NAME_THRESHOLD = 88
MAX_BLOCK = 200  # larger blocks are common names; comparing them all gives noise, not candidates

_THAI = re.compile(r"[\u0E00-\u0E7F]")
_TITLES = {"นาย", "นาง", "นางสาว", "น.ส.", "คุณ", "ดร.", "mr", "mrs", "ms", "miss", "dr", "khun"}


@lru_cache(maxsize=200_000)
def name_key(name: str) -> str:
    """A comparable, Latin, lower-case form of a Thai or English name."""
    words = [w for w in re.split(r"[\s.]+", name.strip().lower()) if w and w not in _TITLES]
    out = []
    for word in words:
        if _THAI.search(word):
            from pythainlp.transliterate import romanize

            word = romanize(word, engine="royin")
        out.append(re.sub(r"[^a-z0-9]", "", word))
    return " ".join(w for w in out if w)


# Spelling variants of romanised Thai: the Royal Institute system writes ใจดี as
# "chaidi", people write "Jaidee"; both reduce to "caidi".
_PHONETIC = [("ph", "p"), ("th", "t"), ("kh", "k"), ("ch", "c"), ("j", "c"), ("sh", "s"), ("ee", "i"),
             ("ii", "i"), ("oo", "u"), ("ou", "u"), ("ue", "u"), ("aa", "a"), ("y", "i"), ("v", "w"), ("r", "")]


@lru_cache(maxsize=200_000)
def phonetic_key(key: str) -> str:
    for a, b in _PHONETIC:
        key = key.replace(a, b)
    return re.sub(r"(.)\1+", r"\1", key)


def email_key(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email:
        return ""
    local, _, domain = email.partition("@")
    local = local.split("+", 1)[0]
    if domain in {"gmail.com", "googlemail.com"}:
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def phone_key(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    return digits[-9:] if len(digits) >= 9 else ""


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def duplicates_scan(*, workspace: Any, customer_ids: list[int] | None = None) -> int:
    """Find candidate pairs (for the whole workspace, or pairs involving `customer_ids`).

    Returns how many new candidates were stored. Pairs already decided
    (dismissed or merged) are not proposed again.
    """
    qs = Customer.objects.for_workspace(workspace).filter(merged_into__isnull=True, erased_at__isnull=True)
    rows = list(qs.values_list("id", "first_name", "last_name", "display_name", "email", "phone"))
    focus = set(customer_ids) if customer_ids is not None else None
    found: dict[tuple[int, int], dict[str, float]] = defaultdict(dict)

    by_email: dict[str, list[tuple[int, str]]] = defaultdict(list)
    by_phone: dict[str, list[tuple[int, str]]] = defaultdict(list)
    blocks: dict[tuple[str, str], list[tuple[int, str]]] = defaultdict(list)
    for cid, first, last, display, email, phone in rows:
        if email and (k := email_key(email)):
            by_email[k].append((cid, email))
        if phone and (k := phone_key(phone)):
            by_phone[k].append((cid, phone))
        full = phonetic_key(name_key(f"{first} {last}".strip() or display))
        if full:
            parts = full.split()
            blocks[(parts[0][:3], parts[-1][:1] if len(parts) > 1 else "")].append((cid, full))

    def consider(group: list[tuple[int, str]], reason: str, score_of) -> None:
        if len(group) < 2 or len(group) > MAX_BLOCK:
            return
        for (a, va), (b, vb) in combinations(group, 2):
            if focus is not None and a not in focus and b not in focus:
                continue
            score = score_of(va, vb)
            if score is not None:
                found[_pair(a, b)][reason] = score

    for group in by_email.values():
        consider(group, "same_email_other_form", lambda a, b: 95.0 if a != b else 99.0)
    for group in by_phone.values():
        consider(group, "same_phone_other_format", lambda a, b: 95.0)
    for group in blocks.values():
        def name_score(a: str, b: str) -> float | None:
            s = fuzz.token_sort_ratio(a, b)
            return float(s) if s >= NAME_THRESHOLD else None

        consider(group, "similar_name", name_score)

    if not found:
        return 0
    existing = set(DuplicateCandidate.objects.for_workspace(workspace).values_list("customer_a_id", "customer_b_id"))
    new = [
        DuplicateCandidate(workspace_id=getattr(workspace, "pk", workspace), customer_a_id=a, customer_b_id=b,
                           reasons=sorted(reasons), score=round(min(100.0, max(reasons.values()) + 2 * (len(reasons) - 1)), 1))
        for (a, b), reasons in found.items() if (a, b) not in existing
    ]
    DuplicateCandidate.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    return len(new)


def duplicate_propose(*, workspace: Any, a: int, b: int, reasons: dict[str, float]) -> bool:
    """Store one candidate pair (unless the pair is already known, decided or not). True if new."""
    first, second = _pair(a, b)
    if first == second:
        return False
    ws_id = getattr(workspace, "pk", workspace)
    if DuplicateCandidate.objects.filter(customer_a_id=first, customer_b_id=second).exists():
        return False
    created = DuplicateCandidate.objects.bulk_create(
        [DuplicateCandidate(workspace_id=ws_id, customer_a_id=first, customer_b_id=second, reasons=sorted(reasons),
                            score=round(min(100.0, max(reasons.values()) + 2 * (len(reasons) - 1)), 1))],
        ignore_conflicts=True)
    return bool(created)


def duplicates_for_email(*, workspace: Any, customer: Customer, email: str) -> int:
    """Weak e-mail matches for one customer who just gained an address, without scanning every name.

    For channels that learn contact points one at a time (a web-chat visitor
    leaving an e-mail): the same rule as the scan's `same_email_other_form`
    (case, dots and +tags of Gmail-style local parts), looked up among the
    workspace's addresses on the same domain only. Returns how many new
    candidates were stored.
    """
    key = email_key(email)
    if not key:
        return 0
    local, _, domain = key.partition("@")
    domains = ["gmail.com", "googlemail.com"] if domain == "gmail.com" else [domain]
    domain_match = Q()
    for d in domains:
        domain_match |= Q(email__endswith=f"@{d}")
    rows = (Customer.objects.for_workspace(workspace)
            .filter(domain_match, email__startswith=local[:1], merged_into__isnull=True, erased_at__isnull=True)
            .exclude(pk=customer.pk).values_list("pk", "email"))
    new = 0
    for other_id, other_email in rows:
        if email_key(other_email) == key:
            score = 99.0 if other_email == email.strip().lower() else 95.0
            new += duplicate_propose(workspace=workspace, a=customer.pk, b=other_id,
                                     reasons={"same_email_other_form": score})
    return new


def duplicate_candidates(*, workspace: Any, customer: Customer | None = None, status: str = "open"):
    qs = DuplicateCandidate.objects.for_workspace(workspace).filter(status=status).select_related(
        "customer_a", "customer_b")
    qs = qs.filter(customer_a__merged_into__isnull=True, customer_b__merged_into__isnull=True)
    if customer is not None:
        qs = qs.filter(Q(customer_a=customer) | Q(customer_b=customer))
    return qs.order_by("-score", "-id")


@transaction.atomic
def duplicate_dismiss(*, candidate: DuplicateCandidate, actor: Any = None, via: str = "system") -> DuplicateCandidate:
    if candidate.status != DuplicateCandidate.Status.OPEN:
        raise Conflict(f"this candidate is already {candidate.status}")
    candidate.status = DuplicateCandidate.Status.DISMISSED
    candidate.decided_at = timezone.now()
    candidate.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    candidate.save(update_fields=["status", "decided_at", "decided_by"])
    audit_record(workspace=candidate.workspace_id, action="customer.duplicate_dismissed", actor=actor, via=via,
                 target=candidate, summary=f"#{candidate.customer_a_id} and #{candidate.customer_b_id} are different people")
    return candidate
