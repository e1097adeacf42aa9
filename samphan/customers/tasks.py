from __future__ import annotations

from celery import shared_task

from samphan.core.jobs import JobTask, job_finish, job_start
from samphan.core.models import Job
from samphan.customers.duplicates import duplicates_scan


@shared_task(name="customers.duplicates_scan", base=JobTask)
def duplicates_scan_job(job_id: int) -> int:
    """Safe to run twice: the scan skips pairs it already stored."""
    job = Job.objects.get(pk=job_id)
    job_start(job, message="scanning")
    found = duplicates_scan(workspace=job.workspace_id)
    job_finish(job, result={"new_candidates": found})
    return found
