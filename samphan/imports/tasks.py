"""Background import: the task takes the Job id, loads fresh rows and is safe to retry."""

from __future__ import annotations

from celery import shared_task

from samphan.core.models import Job


@shared_task(name="imports.run")
def run_import(job_id: int) -> None:
    from samphan.imports.models import ImportRun
    from samphan.imports.services import import_run_execute

    job = Job.objects.get(pk=job_id)
    run = ImportRun.objects.for_workspace(job.workspace_id).get(pk=job.params["run_id"])
    import_run_execute(run=run, job=job)
