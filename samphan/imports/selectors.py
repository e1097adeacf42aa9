"""Reads for imports. Every function takes the workspace first."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from samphan.core.scoping import get_scoped_or_404
from samphan.imports.models import ImportRun


def import_runs_recent(*, workspace: Any, limit: int = 10) -> QuerySet[ImportRun]:
    return ImportRun.objects.for_workspace(workspace).select_related("created_by", "job")[:limit]


def import_run_get(*, workspace: Any, run_id: int) -> ImportRun:
    return get_scoped_or_404(ImportRun.objects.select_related("job", "workspace"), workspace, pk=run_id)
