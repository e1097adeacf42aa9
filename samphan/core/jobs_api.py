from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from samphan.core.api import caller
from samphan.core.jobs import job_enqueue
from samphan.core.models import Job
from samphan.core.scoping import get_scoped_or_404
from samphan.core.tasks import workspace_census

router = Router(tags=["jobs"])


class JobOut(Schema):
    id: int
    kind: str
    status: str
    progress: int
    total: int
    percent: int
    message: str
    result: dict
    created_at: datetime
    finished_at: datetime | None


@router.get("/{int:job_id}", response=JobOut, summary="A background job's status and progress")
def job_detail(request, job_id: int):
    workspace = caller(request).require("workspace.view")
    return get_scoped_or_404(Job, workspace, pk=job_id)


@router.post("/census", response={202: JobOut}, summary="Count the workspace's data in the background")
def job_census(request):
    c = caller(request)
    workspace = c.require("workspace.view")
    job = job_enqueue(workspace=workspace, kind="census", task=workspace_census, actor=c.user)
    return 202, job
