"""Listening's background tasks: spike e-mails, scheduled fetches, imports and topic re-matching."""

from __future__ import annotations

import logging

from celery import shared_task

from samphan.core.jobs import JobTask

logger = logging.getLogger("samphan.listening")


@shared_task(name="listening.alert_email", autoretry_for=(OSError,), retry_backoff=30, max_retries=8)
def alert_email(alert_id: int) -> int:
    """E-mail a spike alert; safe to run twice (see alerts.py). SMTP failures are retried."""
    from samphan.listening.alerts import alert_send_email

    return alert_send_email(alert_id)


@shared_task(name="listening.fetch_due")
def fetch_due() -> dict:
    """Fetch every active source whose time has come (run it from cron or Celery beat)."""
    from samphan.listening.connectors.scheduler import fetch_due_sources

    return fetch_due_sources()


@shared_task(name="listening.fetch_source")
def fetch_source(source_id: int) -> dict:
    from samphan.listening.connectors.scheduler import source_fetch_now

    return source_fetch_now(source_id=source_id)


@shared_task(name="listening.import_file", base=JobTask)
def import_file(job_id: int) -> dict:
    from samphan.listening.connectors.upload import upload_job_run

    return upload_job_run(job_id)


@shared_task(name="listening.topic_rematch", base=JobTask)
def topic_rematch(job_id: int) -> dict:
    from samphan.listening.services import topic_rematch_job_run

    return topic_rematch_job_run(job_id)
