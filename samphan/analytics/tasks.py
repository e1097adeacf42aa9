"""Background recompute. Tasks take ids, load fresh rows and are safe to run twice."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from samphan.core.jobs import JobTask, job_finish, job_progress, job_start
from samphan.core.models import Job


@shared_task(name="analytics.recompute", base=JobTask)
def analytics_recompute_job(job_id: int) -> dict:
    """Recompute RFM, lifecycle and CLV for the job's workspace, reporting each step as progress."""
    from samphan.accounts.models import Workspace
    from samphan.analytics.services import RECOMPUTE_STEPS, analytics_recompute

    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:  # a redelivered message: the work is done
        return job.result
    workspace = Workspace.objects.get(pk=job.workspace_id)
    as_of = date.fromisoformat(job.params["as_of"]) if job.params.get("as_of") else None
    job_start(job, total=len(RECOMPUTE_STEPS), message="starting")
    summary = analytics_recompute(
        workspace=workspace, as_of=as_of, actor=job.created_by, via="worker",
        progress=lambda step, message: job_progress(job, progress=step, message=message),
    )
    job_finish(job, result=summary)
    return summary
