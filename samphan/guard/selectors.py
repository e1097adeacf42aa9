"""Reads of the guard's settings: the workspace's banned phrases and which particle an agent uses."""

from __future__ import annotations

from typing import Any

from samphan.guard.models import BannedPhrase, GuardSettings, Particle, VoicePreference


def banned_phrase_list(*, workspace: Any):
    return BannedPhrase.objects.for_workspace(workspace).select_related("created_by").order_by("phrase")


def guard_settings_get(*, workspace: Any) -> GuardSettings:
    """The workspace's settings, or the defaults (unsaved) when it never changed them."""
    found = GuardSettings.objects.for_workspace(workspace).first()
    return found or GuardSettings(workspace_id=getattr(workspace, "pk", workspace))


def voice_preference_of(*, workspace: Any, user: Any) -> str:
    """The agent's own particle; "" when they have not chosen one."""
    if getattr(user, "pk", None) is None:
        return ""
    return (VoicePreference.objects.for_workspace(workspace).filter(user_id=user.pk)
            .values_list("particle", flat=True).first()) or ""


def particle_for(*, workspace: Any, user: Any = None) -> str:
    """The particle the rewrite adds: the agent's choice, else the workspace's default."""
    return voice_preference_of(workspace=workspace, user=user) or (
        guard_settings_get(workspace=workspace).default_particle or Particle.KHA)
