from __future__ import annotations

from celery import shared_task

from samphan.core.jobs import job_finish, job_progress, job_start
from samphan.core.models import Job


@shared_task(name="segments.refresh_all")
def segments_refresh_all_job(job_id: int) -> dict:
    from samphan.segments.services import segments_refresh_all

    job = Job.objects.get(pk=job_id)
    job_start(job, message="refreshing segments")
    try:
        result = segments_refresh_all(workspace=job.workspace_id,
                                      progress=lambda done, total: job_progress(job, progress=done))
    except Exception as exc:
        job_finish(job, error=f"{type(exc).__name__}: {exc}")
        raise
    job_finish(job, result=result)
    return result


@shared_task(name="segments.refresh_customer")
def segments_refresh_customer_task(workspace_id: int, customer_id: int) -> dict:
    from samphan.segments.services import segments_refresh_customer

    return segments_refresh_customer(workspace=workspace_id, customer_id=customer_id)
