from __future__ import annotations

from celery import shared_task

from samphan.core.jobs import JobTask, job_finish, job_progress, job_start
from samphan.core.models import Job


@shared_task(name="segments.refresh_all", base=JobTask)
def segments_refresh_all_job(job_id: int) -> dict:
    """Safe to run twice: a refresh applies only the difference."""
    from samphan.segments.services import segments_in_dependency_order, segments_refresh_all

    job = Job.objects.get(pk=job_id)
    job_start(job, total=len(segments_in_dependency_order(job.workspace_id)), message="refreshing segments")
    result = segments_refresh_all(workspace=job.workspace_id,
                                  progress=lambda done, total: job_progress(job, progress=done))
    job_finish(job, result=result)
    return result


@shared_task(name="segments.refresh_customer")
def segments_refresh_customer_task(workspace_id: int, customer_id: int) -> dict:
    from samphan.segments.services import segments_refresh_customer

    return segments_refresh_customer(workspace=workspace_id, customer_id=customer_id)
