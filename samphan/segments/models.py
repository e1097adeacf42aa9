"""Rule-based dynamic segments with materialised membership and its history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import TimeStampedModel, WorkspaceScopedModel


class Segment(WorkspaceScopedModel, TimeStampedModel):
    name = models.CharField(max_length=150)
    description = models.TextField(blank=True)
    # {"op": "and"|"or", "conditions": [{"field", "operator", "value"} | nested group], "negate": bool}
    rule = models.JSONField(default=dict)
    member_count = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="uniq_segment_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMember(WorkspaceScopedModel):
    """Who is in a segment now."""

    merge_moves = False  # recomputed after a merge, never moved

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="members")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="segment_memberships")
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["segment", "customer"], name="uniq_segment_member")]
        indexes = [models.Index(fields=["customer"])]


class SegmentEvent(WorkspaceScopedModel):
    """Every join and leave, so 'who left VIP this month' is one query."""

    merge_moves = False  # history stays with the record it happened to

    class Kind(models.TextChoices):
        JOINED = "joined", _("Joined")
        LEFT = "left", _("Left")

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="events")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="segment_events")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["segment", "-at"]), models.Index(fields=["customer", "-at"])]
