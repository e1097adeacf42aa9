from __future__ import annotations

from celery import shared_task

from samphan.core.jobs import job_finish, job_start
from samphan.core.models import Job
from samphan.customers.duplicates import duplicates_scan


@shared_task(name="customers.duplicates_scan")
def duplicates_scan_job(job_id: int) -> int:
    job = Job.objects.get(pk=job_id)
    job_start(job, message="scanning")
    try:
        found = duplicates_scan(workspace=job.workspace_id)
    except Exception as exc:
        job_finish(job, error=f"{type(exc).__name__}: {exc}")
        raise
    job_finish(job, result={"new_candidates": found})
    return found
