from __future__ import annotations

import logging

from celery import shared_task

from samphan.core.jobs import JobTask, job_finish, job_start
from samphan.core.models import Job
from samphan.customers.duplicates import duplicates_scan

logger = logging.getLogger("samphan.customers")


@shared_task(name="customers.duplicates_scan", base=JobTask)
def duplicates_scan_job(job_id: int) -> int:
    """Safe to run twice: the scan skips pairs it already stored."""
    job = Job.objects.get(pk=job_id)
    job_start(job, message="scanning")
    found = duplicates_scan(workspace=job.workspace_id)
    job_finish(job, result={"new_candidates": found})
    return found


# Customers created by a channel (a new e-mail address, a new LINE user) are compared with the rest
# soon after, so a weak match (ann.lee@gmail.com ~ annlee+shop@gmail.com) becomes a duplicate
# candidate, never a silent merge. One scan per workspace per SCAN_DELAY covers a burst of batches.
SCAN_DELAY = 10  # seconds


def _scan_key(workspace_id: int) -> str:
    return f"samphan:customers:dupscan:{workspace_id}"


def duplicates_scan_soon(*, workspace_id: int, since_id: int) -> None:
    """Queue a duplicate scan of the workspace's customers with id >= since_id (call after commit).

    If one is already waiting it covers these customers too: it forgets its
    cache key before reading, and ids only grow.
    """
    from django.core.cache import cache

    try:
        if not cache.add(_scan_key(workspace_id), since_id, SCAN_DELAY * 6):
            return
    except Exception:
        logger.exception("cache unavailable; scanning for duplicates now")
    try:
        duplicates_scan_new.apply_async((workspace_id, since_id), countdown=SCAN_DELAY)
    except Exception:
        logger.exception("could not queue the duplicate scan of workspace %s", workspace_id)
        cache.delete(_scan_key(workspace_id))


@shared_task(name="customers.duplicates_scan_new")
def duplicates_scan_new(workspace_id: int, since_id: int) -> int:
    from django.core.cache import cache

    from samphan.customers.models import Customer

    cache.delete(_scan_key(workspace_id))  # before reading: customers committed from now on queue a new scan
    ids = list(Customer.objects.filter(workspace_id=workspace_id, pk__gte=since_id).values_list("pk", flat=True))
    return duplicates_scan(workspace=workspace_id, customer_ids=ids) if ids else 0
