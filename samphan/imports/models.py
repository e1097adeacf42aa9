"""One upload through the web UI: the file, what was found in it and what the run did."""

from __future__ import annotations

import uuid
from pathlib import PurePath

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from samphan.core.models import WorkspaceScopedModel


def upload_path(run: ImportRun, filename: str) -> str:
    # The person's file name is kept in original_name, never used as a path.
    return f"imports/{run.workspace_id}/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()}"


class ImportRun(WorkspaceScopedModel):
    class Kind(models.TextChoices):
        CUSTOMERS = "customers", _("Customers")
        ORDERS = "orders", _("Orders")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Waiting for confirmation")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    file = models.FileField(upload_to=upload_path, max_length=255)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    job = models.ForeignKey("core.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Counts (rows, imported, updated, unchanged, customers_created, rejected) and the first errors.
    summary = models.JSONField(default=dict, blank=True)
    error_count = models.PositiveIntegerField(default=0)
    error_report = models.FileField(upload_to="imports/reports/", max_length=255, blank=True)
    message = models.CharField(max_length=255, blank=True)  # why a run failed as a whole
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} import {self.original_name} ({self.status})"
