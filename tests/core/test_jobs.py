"""Job lifecycle: enqueue after commit, progress, failure handling, safe redelivery.

These run the task in-process (eager mode, which goes through the same Celery
tracer and `on_failure` hook as a worker); tests/core/test_worker.py runs the
real worker.
"""

from __future__ import annotations

import pytest
from celery import shared_task
from kombu.exceptions import OperationalError

from samphan.core.errors import ValidationFailed
from samphan.core.jobs import JobTask, job_enqueue, job_finish, job_progress, job_start
from samphan.core.models import Job
from samphan.core.tasks import workspace_census
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@shared_task(name="tests.exploding_job", base=JobTask)
def exploding_job(job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    job_start(job, total=10, message="working")
    job_progress(job, progress=4)
    raise RuntimeError("password=hunter2 in a stack frame")


@shared_task(name="tests.rejecting_job", base=JobTask)
def rejecting_job(job_id: int) -> None:
    raise ValidationFailed("the file has no customer_id column")


ATTEMPTS: list[int] = []


@shared_task(name="tests.flaky_job", base=JobTask, bind=True, max_retries=2)
def flaky_job(self, job_id: int) -> None:
    job = Job.objects.get(pk=job_id)
    job_start(job, total=1)
    ATTEMPTS.append(self.request.retries)
    if self.request.retries == 0:
        raise self.retry(exc=ConnectionError("LINE API timed out"), countdown=0)
    job_finish(job, result={"attempts": len(ATTEMPTS)})


def test_census_through_the_api_runs_after_commit(api, workspace, django_capture_on_commit_callbacks):
    CustomerFactory.create_batch(2, workspace=workspace)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = api.post("/api/jobs/census")
    assert response.status_code == 202
    job_id = response.json()["id"]
    assert response.json()["status"] == "queued"
    assert len(callbacks) == 1, "the task is sent only when the transaction commits"
    assert Job.objects.get(pk=job_id).status == Job.Status.QUEUED
    callbacks[0]()

    body = api.get(f"/api/jobs/{job_id}").json()
    assert body["status"] == "succeeded"
    assert body["result"]["counts"]["customers.customer"] == 2
    assert body["percent"] == 100


def test_unreachable_broker_fails_the_job_instead_of_leaving_it_queued(
    api, workspace, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(workspace_census, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/jobs/census")
    assert response.status_code == 202
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == Job.Status.FAILED
    assert job.message.startswith("The job queue could not be reached")


def test_a_job_whose_task_raises_ends_failed_with_a_safe_message(workspace, owner):
    job = job_enqueue(workspace=workspace, kind="explode", task=exploding_job, actor=owner)
    result = exploding_job.apply(args=[job.pk], throw=False)  # eager, exception captured not raised
    assert result.state == "FAILURE"

    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
    assert job.finished_at is not None
    assert job.message == "The job failed unexpectedly (RuntimeError). The worker's log has the details."
    assert "hunter2" not in job.message
    assert job.progress == 4  # how far it got stays visible


def test_failure_propagates_in_eager_mode_and_still_marks_the_job(workspace, django_capture_on_commit_callbacks):
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(workspace=workspace, kind="explode", task=exploding_job)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED


def test_a_retry_is_not_a_failure(workspace):
    ATTEMPTS.clear()
    job = Job.objects.create(workspace=workspace, kind="flaky")
    flaky_job.apply(args=[job.pk], throw=False)
    job.refresh_from_db()
    assert ATTEMPTS == [0, 1]
    assert (job.status, job.result) == (Job.Status.SUCCEEDED, {"attempts": 2})


def test_domain_error_message_is_shown_to_the_user(workspace):
    job = Job.objects.create(workspace=workspace, kind="import")
    rejecting_job.apply(args=[job.pk], throw=False)
    job.refresh_from_db()
    assert (job.status, job.message) == (Job.Status.FAILED, "the file has no customer_id column")


def test_failure_of_a_deleted_job_does_not_crash_the_hook(workspace):
    job = Job.objects.create(workspace=workspace, kind="import")
    job_id = job.pk
    job.delete()
    assert rejecting_job.apply(args=[job_id], throw=False).state == "FAILURE"


def test_job_failed_api_view(api, workspace):
    job = Job.objects.create(workspace=workspace, kind="import")
    rejecting_job.apply(args=[job.pk], throw=False)
    body = api.get(f"/api/jobs/{job.pk}").json()
    assert body["status"] == "failed"
    assert body["message"] == "the file has no customer_id column"
    assert body["finished_at"] is not None


def test_census_is_safe_to_deliver_twice(workspace):
    CustomerFactory.create_batch(3, workspace=workspace)
    job = Job.objects.create(workspace=workspace, kind="census")
    first = workspace_census(job.pk)
    job.refresh_from_db()
    finished_at = job.finished_at

    CustomerFactory(workspace=workspace)
    second = workspace_census(job.pk)  # e.g. redelivered after a lost acknowledgement
    job.refresh_from_db()
    assert second == first  # the finished job is not redone
    assert job.finished_at == finished_at
    assert job.status == Job.Status.SUCCEEDED


def test_census_rerun_after_a_crash_starts_over(workspace):
    """A worker killed mid-task leaves the job running; redelivery runs it from scratch."""
    CustomerFactory.create_batch(2, workspace=workspace)
    job = Job.objects.create(workspace=workspace, kind="census")
    job_start(job, total=99, message="counting")
    job_progress(job, progress=50)

    counts = workspace_census(job.pk)
    job.refresh_from_db()
    assert counts["customers.customer"] == 2
    assert job.status == Job.Status.SUCCEEDED
    assert job.progress == job.total == len(counts)


def test_unknown_job_is_404_and_path_is_not_confused_with_census(api):
    assert api.get("/api/jobs/999999").status_code == 404
    assert api.get("/api/jobs/census").status_code in (404, 405)
