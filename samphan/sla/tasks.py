"""SLA tasks: the periodic breach sweep and the recompute after a settings change."""

from __future__ import annotations

from celery import shared_task

from samphan.core.jobs import JobTask, job_finish, job_start
from samphan.core.models import Job
from samphan.sla.clock import sla_recompute_workspace, sla_sweep


@shared_task(name="sla.sweep", ignore_result=True)
def sla_sweep_task() -> int:
    """Flag targets missed while nobody acted. Scheduled every minute (CELERY_BEAT_SCHEDULE); idempotent."""
    return sla_sweep()


@shared_task(name="sla.recompute", base=JobTask)
def sla_recompute(job_id: int) -> dict:
    """Recompute the active conversations' due times after business hours, holidays or policies changed.

    Safe to run twice: the due times are a function of each conversation's state.
    """
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return job.result
    job_start(job, message="recomputing due times")
    done = sla_recompute_workspace(job.workspace_id)
    # A due time moved into the past is a breach now: flag it without waiting for the next sweep.
    flagged = sla_sweep(workspace_id=job.workspace_id)
    result = {"conversations": done, "breaches_flagged": flagged}
    job_finish(job, result=result)
    return result
