"""Background jobs with progress: create a Job, enqueue its task after commit, report progress.

A job's task is a Celery task whose first argument is the Job id and whose base
class is `JobTask`: if the task raises, the Job ends as "failed" with a message,
so the UI and the API never show a job "running" forever.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from celery.exceptions import Ignore, Reject, Retry
from django.db import transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from samphan.core.errors import SamphanError
from samphan.core.models import Job

logger = logging.getLogger("samphan.jobs")


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
    transaction.on_commit(lambda: _job_send(job, task))
    return job


def _job_send(job: Job, task: Any) -> None:
    """Send the task; if the broker cannot be reached, say so on the Job instead of leaving it queued."""
    try:
        task.delay(job.pk)
    except OperationalError:  # kombu's "cannot connect", raised after Celery's publish retries
        logger.exception("could not send job %s (%s) to the broker", job.pk, job.kind)
        job_finish(job, error="The job queue could not be reached, so the job did not start. Try again later.")


def job_start(job: Job, *, total: int = 0, message: str = "") -> None:
    job.status = Job.Status.RUNNING
    job.started_at = timezone.now()
    job.total = total
    job.progress = 0
    job.message = message
    job.save(update_fields=["status", "started_at", "total", "progress", "message"])


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


def job_error_message(exc: BaseException) -> str:
    """What a user may read about a failure: a domain error's own message, else only its type.

    Internals (SQL, paths, secrets in exception text) stay in the worker's log,
    as they stay out of API error bodies.
    """
    if isinstance(exc, SamphanError):
        return exc.message
    return f"The job failed unexpectedly ({type(exc).__name__}). The worker's log has the details."


class JobTask(Task):
    """Base class for Samphan job tasks: `@shared_task(base=JobTask)`; first argument the Job id.

    When the task body raises, the Job ends "failed" with `job_error_message`
    and the exception goes on to Celery (worker log, retry policy, eager
    propagation). A retry (`self.retry`, `autoretry_for`) is not a failure: the
    Job stays as it is and the next attempt starts it again, as does a
    redelivery after a lost worker — so job tasks must be safe to run twice.

    The marking happens in `__call__`, not only in Celery's `on_failure` hook,
    because in eager mode with propagation Celery re-raises without calling
    `on_failure`; the hook remains as a safety net for failures outside the body.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().__call__(*args, **kwargs)
        except (Retry, Ignore, Reject):
            raise
        except Exception as exc:
            _job_mark_failed(args[0] if args else kwargs.get("job_id"), exc, task_name=self.name)
            raise

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        _job_mark_failed(args[0] if args else kwargs.get("job_id"), exc, task_name=self.name)
        super().on_failure(exc, task_id, args, kwargs, einfo)


def _job_mark_failed(job_id: Any, exc: BaseException, *, task_name: str) -> None:
    try:
        job = Job.objects.filter(pk=job_id).first()
        if job is None:
            logger.error("job task %s failed and job %s does not exist", task_name, job_id)
        elif job.status != Job.Status.FAILED:
            job_finish(job, error=job_error_message(exc))
    except Exception:  # the database itself may be what failed; the worker log keeps both
        logger.exception("could not mark job %s failed", job_id)
