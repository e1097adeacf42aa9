"""Platform tasks. Tasks take ids, load fresh rows and are safe to retry."""

from __future__ import annotations

from celery import shared_task
from django.db.models import Count

from samphan.core.jobs import JobTask, job_finish, job_progress, job_start
from samphan.core.models import Job


@shared_task(name="core.workspace_census", base=JobTask)
def workspace_census(job_id: int) -> dict:
    """Count what a workspace holds, model by model, reporting progress.

    Small, real work used by the health page and by the end-to-end worker test.
    """
    from django.apps import apps

    from samphan.core.models import WorkspaceScopedModel

    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:  # a redelivered message: the work is done
        return job.result.get("counts", {})
    scoped_models = [
        m for m in apps.get_models() if issubclass(m, WorkspaceScopedModel) and m is not Job
    ]
    job_start(job, total=len(scoped_models), message="counting")
    counts: dict[str, int] = {}
    for index, model in enumerate(scoped_models, start=1):
        counts[model._meta.label_lower] = (
            model._default_manager.filter(workspace_id=job.workspace_id).aggregate(n=Count("pk"))["n"]
        )
        job_progress(job, progress=index)
    job_finish(job, result={"counts": counts})
    return counts
