"""The guard as a service: check a text for a workspace, enforce it on a send, and its settings.

Any service that sends words to customers on the brand's behalf (inbox replies today,
campaigns later) calls ``guard_enforce`` before it writes, and ``guard_override_audit`` after,
when a manager overrode the guard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from samphan.accounts.models import Membership
from samphan.accounts.roles import role_can
from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, PermissionDenied, SamphanError, ValidationFailed
from samphan.guard.checker import BannedPhraseRule, GuardResult, Policy, check_text
from samphan.guard.models import BannedPhrase, GuardSettings, Particle, VoicePreference
from samphan.guard.selectors import guard_settings_get, voice_preference_of

MAX_TEXT = 5000
MAX_REASON = 500
OVERRIDE_CAPABILITY = "guard.override"

_KHRAP = re.compile("ครับ|คับ|ครัช")
_KHA = re.compile("ค่ะ|คะ|ค่า")


class GuardBlocked(SamphanError):
    """The text was stopped by the guard; ``details`` has the findings and the suggestion."""

    code = "guard_blocked"
    status = 422


def _workspace_id(workspace: Any) -> int:
    return getattr(workspace, "pk", workspace)


def _particle(*, workspace: Any, author: Any, text: str) -> str:
    """The agent's chosen particle; else the one the text already uses; else the workspace's."""
    chosen = voice_preference_of(workspace=workspace, user=author) if author is not None else ""
    if chosen:
        return chosen
    khrap, kha = len(_KHRAP.findall(text)), len(_KHA.findall(text))
    if khrap != kha:
        return Particle.KHRAP if khrap > kha else Particle.KHA
    return guard_settings_get(workspace=workspace).default_particle or Particle.KHA


def policy_for(*, workspace: Any, author: Any = None, text: str = "") -> Policy:
    banned = tuple(BannedPhraseRule(phrase, replacement, reason) for phrase, replacement, reason in
                   BannedPhrase.objects.for_workspace(workspace).values_list("phrase", "replacement", "reason"))
    return Policy(banned=banned, particle=_particle(workspace=workspace, author=author, text=text))


def check(*, text: str, workspace: Any, author: Any = None) -> GuardResult:
    """Check a text the brand is about to send. Reads only; safe to call on every keystroke."""
    text = text or ""
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"a text to check is at most {MAX_TEXT} characters")
    return check_text(text, policy_for(workspace=workspace, author=_user_or_none(author), text=text))


def _user_or_none(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


def can_override(*, workspace: Any, actor: Any) -> bool:
    user = _user_or_none(actor)
    if user is None:
        return False
    role = (Membership.objects.filter(workspace_id=_workspace_id(workspace), user_id=user.pk)
            .values_list("role", flat=True).first())
    return role_can(role, OVERRIDE_CAPABILITY)


@dataclass(frozen=True)
class Verdict:
    result: GuardResult
    overridden: bool = False
    reason: str = ""


def guard_enforce(*, text: str, workspace: Any, actor: Any, override: bool = False,
                  override_reason: str = "") -> Verdict:
    """Let a clean text through; stop a flagged one (GuardBlocked, HTTP 422) unless overridden.

    Only a role holding ``guard.override`` (owners and managers) may override, and only with a
    reason; asking to override without it is refused (PermissionDenied) even for a clean text,
    so the flag cannot be used to probe. The caller records the override with
    ``guard_override_audit`` once the message exists.
    """
    override_reason = (override_reason or "").strip()
    if override:
        if not can_override(workspace=workspace, actor=actor):
            raise PermissionDenied("only a manager can send a reply the brand-voice guard stopped")
        if not override_reason:
            raise ValidationFailed("give a reason for overriding the brand-voice guard")
        if len(override_reason) > MAX_REASON:
            raise ValidationFailed(f"the override reason is at most {MAX_REASON} characters")
    result = check(text=text, workspace=workspace, author=actor)
    if result.ok:
        return Verdict(result=result)
    if not override:
        rules = ", ".join(result.rules)
        raise GuardBlocked(f"the reply was not sent: the brand-voice guard flagged it ({rules})",
                           details=result.as_json())
    return Verdict(result=result, overridden=True, reason=override_reason)


def guard_override_audit(*, verdict: Verdict, workspace: Any, actor: Any, target: Any, via: str) -> None:
    if not verdict.overridden:
        return
    result = verdict.result
    audit_record(workspace=workspace, action="guard.overridden", actor=actor, via=via, target=target,
                 summary=f"{', '.join(result.rules)}: {verdict.reason}",
                 changes={"reason": verdict.reason, "rules": result.rules, "text": result.text,
                          "findings": [{"rule": f.rule, "text": f.text, "start": f.start, "end": f.end}
                                       for f in result.findings]})


def guard_meta(verdict: Verdict) -> dict[str, Any]:
    """What a sent message keeps about an override (shown beside it in the conversation)."""
    if not verdict.overridden:
        return {}
    return {"guard": {"overridden": True, "rules": verdict.result.rules, "reason": verdict.reason}}


# --- settings ---------------------------------------------------------------------------------------


def _clean_particle(particle: str) -> str:
    particle = (particle or "").strip()
    if particle not in Particle.values:
        raise ValidationFailed(f"particle must be one of: {', '.join(Particle.values)}")
    return particle


@transaction.atomic
def guard_settings_update(*, workspace: Any, default_particle: str, actor: Any = None,
                          via: str = "system") -> GuardSettings:
    particle = _clean_particle(default_particle)
    current = guard_settings_get(workspace=workspace)
    before = current.default_particle if current.pk else None
    row, _ = GuardSettings.objects.update_or_create(workspace_id=_workspace_id(workspace),
                                                    defaults={"default_particle": particle})
    if before != particle:
        audit_record(workspace=workspace, action="guard.settings_changed", actor=actor, via=via, target=row,
                     summary=f"default particle {particle}", changes={"default_particle": [before, particle]})
    return row


@transaction.atomic
def voice_preference_set(*, workspace: Any, user: Any, particle: str, actor: Any = None,
                         via: str = "system") -> str:
    """An agent's own particle; "" clears it (the workspace default applies)."""
    ws_id = _workspace_id(workspace)
    if not Membership.objects.filter(workspace_id=ws_id, user_id=user.pk).exists():
        raise ValidationFailed(f"user #{user.pk} is not a member of this workspace")
    if not (particle or "").strip():
        VoicePreference.objects.filter(workspace_id=ws_id, user_id=user.pk).delete()
        return ""
    particle = _clean_particle(particle)
    VoicePreference.objects.update_or_create(workspace_id=ws_id, user_id=user.pk, defaults={"particle": particle})
    return particle


@transaction.atomic
def banned_phrase_add(*, workspace: Any, phrase: str, replacement: str = "", reason: str = "",
                      actor: Any = None, via: str = "system") -> BannedPhrase:
    phrase = " ".join((phrase or "").split())
    replacement = " ".join((replacement or "").split())
    reason = " ".join((reason or "").split())
    if not phrase:
        raise ValidationFailed("a banned phrase needs text")
    for name, value in (("phrase", phrase), ("replacement", replacement), ("reason", reason)):
        if len(value) > 200:
            raise ValidationFailed(f"{name}: at most 200 characters")
    if replacement:
        # A replacement is a fragment, so a missing particle is fine; anything else is not.
        flagged = set(check_text(replacement, Policy(banned=(BannedPhraseRule(phrase),))).rules) - {"particle"}
        if flagged:
            raise ValidationFailed(f"the replacement would itself be flagged ({', '.join(sorted(flagged))})")
    ws_id = _workspace_id(workspace)
    if BannedPhrase.objects.filter(workspace_id=ws_id, phrase__iexact=phrase).exists():
        raise Conflict(f"“{phrase}” is already banned")
    try:
        with transaction.atomic():
            row = BannedPhrase.objects.create(workspace_id=ws_id, phrase=phrase, replacement=replacement,
                                              reason=reason, created_by=_user_or_none(actor))
    except IntegrityError:
        raise Conflict(f"“{phrase}” is already banned") from None
    audit_record(workspace=ws_id, action="guard.phrase_banned", actor=actor, via=via, target=row, summary=phrase,
                 changes={"phrase": phrase, "replacement": replacement, "reason": reason})
    return row


@transaction.atomic
def banned_phrase_delete(*, phrase: BannedPhrase, actor: Any = None, via: str = "system") -> None:
    audit_record(workspace=phrase.workspace_id, action="guard.phrase_unbanned", actor=actor, via=via, target=phrase,
                 summary=phrase.phrase)
    phrase.delete()
