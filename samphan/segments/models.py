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


# Membership and its history are derived tables written a million rows at a time by a refresh:
# no database-level foreign keys (PostgreSQL would check and lock the customer and segment rows
# once per inserted row; the ORM still cascades deletes) and no index that another one covers.

# Membership and its history are derived tables that a refresh writes a million rows at a time:
# no database-level foreign keys (PostgreSQL would check and lock the customer and segment rows
# once per inserted row; the ORM still cascades deletes) and no index that another one covers.


class SegmentMember(WorkspaceScopedModel):
    """Who is in a segment now."""

    merge_moves = False  # recomputed after a merge, never moved

    workspace = models.ForeignKey("accounts.Workspace", related_name="+", db_index=False, on_delete=models.CASCADE,
                                 db_constraint=False)
    segment = models.ForeignKey(Segment, related_name="members", db_index=False, on_delete=models.CASCADE,
                                 db_constraint=False)  # unique index below
    customer = models.ForeignKey("customers.Customer", related_name="segment_memberships", db_index=False,
                                 on_delete=models.CASCADE, db_constraint=False)
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

    workspace = models.ForeignKey("accounts.Workspace", related_name="+", db_index=False, on_delete=models.CASCADE,
                                 db_constraint=False)
    segment = models.ForeignKey(Segment, related_name="events", db_index=False, on_delete=models.CASCADE,
                                 db_constraint=False)  # indexes below
    customer = models.ForeignKey("customers.Customer", related_name="segment_events", db_index=False, on_delete=models.CASCADE,
                                 db_constraint=False)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["segment", "-at"]), models.Index(fields=["customer", "-at"])]
