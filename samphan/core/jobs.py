"""Background jobs with progress: create a Job, enqueue its task after commit, report progress."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from samphan.core.models import Job


def job_enqueue(*, workspace: Any, kind: str, task: Any, params: dict[str, Any] | None = None, actor: Any = None) -> Job:
    """Create the Job row and send its task only once the row is committed.

    The task receives the job id; sending before commit would let a fast worker
    look for a row that does not exist yet.
    """
    job = Job.objects.create(
        workspace_id=getattr(workspace, "pk", workspace),
        kind=kind,
        params=params or {},
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    transaction.on_commit(lambda: task.delay(job.pk))
    return job


def job_start(job: Job, *, total: int = 0, message: str = "") -> None:
    job.status = Job.Status.RUNNING
    job.started_at = timezone.now()
    job.total = total
    job.message = message
    job.save(update_fields=["status", "started_at", "total", "message"])


def job_progress(job: Job, *, progress: int, message: str = "") -> None:
    Job.objects.filter(pk=job.pk).update(progress=progress, message=message or job.message)
    job.progress = progress


def job_finish(job: Job, *, result: dict[str, Any] | None = None, error: str = "") -> None:
    job.status = Job.Status.FAILED if error else Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.result = result or {}
    if error:
        job.message = error[:255]
    elif job.total:
        job.progress = job.total
    job.save(update_fields=["status", "finished_at", "result", "message", "progress"])
