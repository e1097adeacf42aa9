"""Guard API: live check of a draft, the workspace's banned phrases and particle settings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Router, Schema

from samphan.core.api import caller
from samphan.core.scoping import get_scoped_or_404
from samphan.guard import services
from samphan.guard.models import BannedPhrase
from samphan.guard.selectors import banned_phrase_list, guard_settings_get, voice_preference_of

router = Router(tags=["guard"])


class CheckIn(Schema):
    text: str


class Span(Schema):
    start: int
    end: int


class Reasons(Schema):
    en: str
    th: str


class FindingOut(Schema):
    rule: str
    span: Span
    text: str
    reason: str
    reasons: Reasons
    replacement: str | None


class CheckOut(Schema):
    ok: bool
    rules: list[str]
    findings: list[FindingOut]
    suggestion: str | None
    can_override: bool


class BannedIn(Schema):
    phrase: str
    replacement: str = ""
    reason: str = ""


class BannedOut(Schema):
    id: int
    phrase: str
    replacement: str
    reason: str
    created_at: datetime


class SettingsIn(Schema):
    default_particle: str


class SettingsOut(Schema):
    default_particle: str
    my_particle: str


class PreferenceIn(Schema):
    particle: str = ""


@router.post("/check", response=CheckOut,
             summary="Check a draft reply: findings (rule, span, reason in English and Thai) and a polite rewrite")
def check(request, payload: CheckIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    result = services.check(text=payload.text, workspace=workspace, author=c.user)
    return {**result.as_json(), "can_override": services.can_override(workspace=workspace, actor=c.user)}


def _settings_out(workspace: Any, user: Any) -> dict[str, str]:
    return {"default_particle": guard_settings_get(workspace=workspace).default_particle,
            "my_particle": voice_preference_of(workspace=workspace, user=user)}


@router.get("/settings", response=SettingsOut, summary="The workspace's default particle and your own")
def settings_get(request):
    c = caller(request)
    workspace = c.require("inbox.reply")
    return _settings_out(workspace, c.user)


@router.put("/settings", response=SettingsOut, summary="The particle the rewrite adds for agents without their own")
def settings_put(request, payload: SettingsIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    services.guard_settings_update(workspace=workspace, default_particle=payload.default_particle, actor=c.user,
                                   via=c.via)
    return _settings_out(workspace, c.user)


@router.put("/me", response=SettingsOut, summary="Your own polite particle (ครับ or ค่ะ; empty: the workspace's)")
def preference_put(request, payload: PreferenceIn):
    c = caller(request)
    workspace = c.require("inbox.reply")
    services.voice_preference_set(workspace=workspace, user=c.user, particle=payload.particle, actor=c.user,
                                  via=c.via)
    return _settings_out(workspace, c.user)


@router.get("/banned-phrases", response=list[BannedOut])
def banned_list(request):
    workspace = caller(request).require("inbox.reply")
    return list(banned_phrase_list(workspace=workspace))


@router.post("/banned-phrases", response={201: BannedOut}, summary="Ban a phrase, with what to say instead")
def banned_add(request, payload: BannedIn):
    c = caller(request)
    workspace = c.require("workspace.manage")
    return 201, services.banned_phrase_add(workspace=workspace, phrase=payload.phrase,
                                           replacement=payload.replacement, reason=payload.reason, actor=c.user,
                                           via=c.via)


@router.delete("/banned-phrases/{int:phrase_id}", response={204: None})
def banned_delete(request, phrase_id: int):
    c = caller(request)
    workspace = c.require("workspace.manage")
    services.banned_phrase_delete(phrase=get_scoped_or_404(BannedPhrase, workspace, pk=phrase_id), actor=c.user,
                                  via=c.via)
    return 204, None
