"""The guard's settings per workspace and per agent, and the phrases a workspace bans."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import WorkspaceScopedModel


class Particle(models.TextChoices):
    KHA = "ค่ะ", "ค่ะ"
    KHRAP = "ครับ", "ครับ"


class GuardSettings(WorkspaceScopedModel):
    """One row per workspace, created when first changed; absent means the defaults."""

    # The particle the suggested rewrite adds for agents who have not chosen theirs.
    default_particle = models.CharField(max_length=8, choices=Particle.choices, default=Particle.KHA)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="uniq_guard_settings")]
        verbose_name_plural = "guard settings"


class VoicePreference(WorkspaceScopedModel):
    """An agent's own polite particle (ครับ or ค่ะ) in one workspace."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    particle = models.CharField(max_length=8, choices=Particle.choices)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "user"], name="uniq_voice_preference")]


class BannedPhrase(WorkspaceScopedModel):
    """A word or phrase the workspace never sends (a competitor's name, an old slogan, a promise
    it cannot keep), with what to say instead."""

    phrase = models.CharField(max_length=200)
    replacement = models.CharField(max_length=200, blank=True,
                                   help_text=_("What the suggested rewrite uses instead; empty: leave it out."))
    reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["phrase"]
        constraints = [models.UniqueConstraint(fields=["workspace", "phrase"], name="uniq_banned_phrase")]

    def __str__(self) -> str:
        return self.phrase
