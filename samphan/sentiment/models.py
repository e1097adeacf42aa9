"""A workspace's own sentiment model, trained with its agents' corrections.

(The packaged default model is a file in the ``models/`` folder beside this module; this
module holds the database tables.)

The model is stored in the database, not only in var/, so the worker that classifies
inbound messages finds it wherever ``samphan sentiment train`` ran. Each training run adds a
row; the newest row of a workspace is the one used. Workers cache it as a file under
``var/sentiment/cache/`` keyed by the row id.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from samphan.core.models import WorkspaceScopedModel


class WorkspaceModel(WorkspaceScopedModel):
    language = models.CharField(max_length=2, default="th")  # "th" or "en": which model it replaces
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    data = models.BinaryField()  # the .npz file (ThaiSentimentModel.save), ~10 MB
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    n_corrections = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)  # what the training printed

    class Meta:
        indexes = [models.Index(fields=["workspace", "language", "-id"], name="sentiment_ws_model_latest")]
