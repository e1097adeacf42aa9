"""SLA: a workspace's business hours and holidays, its SLA policies, and the breaches recorded.

The conversation's own clock (which policy applies, its due times, which were
breached) lives on `inbox.Conversation`, so the inbox list can sort and filter
on it with an index; this app computes those fields (`samphan/sla/clock.py`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import WorkspaceScopedModel

DEFAULT_TIME_ZONE = "Asia/Bangkok"


class BusinessHours(WorkspaceScopedModel):
    """The workspace's opening hours. No row: open 24/7 in Asia/Bangkok (business time = wall-clock time).

    `week` is seven lists (Monday first) of [start, end] minutes from local
    midnight, start < end <= 1440, sorted and not overlapping. A shift across
    midnight is two intervals: [1320, 1440] one day and [0, 120] the next.
    """

    time_zone = models.CharField(max_length=64, default=DEFAULT_TIME_ZONE)
    week = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace"], name="uniq_business_hours")]
        verbose_name_plural = "business hours"


class Holiday(WorkspaceScopedModel):
    """A local date on which the workspace is closed all day (e.g. a Thai public holiday)."""

    date = models.DateField()
    name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [models.UniqueConstraint(fields=["workspace", "date"], name="uniq_holiday_date")]


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class SlaPolicy(WorkspaceScopedModel):
    """Response and resolution targets. A conversation gets the first active policy (by position)
    whose conditions all hold; an empty condition matches anything.

    Targets are seconds, counted in business hours (`business_hours=True`) or
    in wall-clock time; an empty target is not measured.
    """

    name = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    channel_account = models.ForeignKey("channels.ChannelAccount", null=True, blank=True, on_delete=models.CASCADE,
                                        related_name="+")
    team = models.ForeignKey("inbox.Team", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    priority = models.CharField(max_length=16, choices=Priority.choices, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    next_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    resolution_seconds = models.PositiveIntegerField(null=True, blank=True)
    business_hours = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_sla_policy_name")]
        verbose_name_plural = "SLA policies"

    def __str__(self) -> str:
        return self.name


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")


class SlaBreach(WorkspaceScopedModel):
    """A target missed: written once per (conversation, target, due time), by the reply or resolution
    that came late ("event") or by the periodic sweep while the customer was still waiting ("sweep")."""

    class Via(models.TextChoices):
        EVENT = "event", _("Late reply or resolution")
        SWEEP = "sweep", _("Still waiting past the due time")

    conversation = models.ForeignKey("inbox.Conversation", on_delete=models.CASCADE, related_name="sla_breaches_log")
    target = models.CharField(max_length=16, choices=Target.choices)
    due_at = models.DateTimeField()
    detected_at = models.DateTimeField(default=timezone.now)
    via = models.CharField(max_length=8, choices=Via.choices)
    policy = models.ForeignKey(SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Who had it when it was missed, for the report.
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              db_index=False)
    team = models.ForeignKey("inbox.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                             db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["conversation", "target", "due_at"], name="uniq_sla_breach")]
        indexes = [models.Index(fields=["workspace", "-detected_at"], name="sla_breach_recent")]
