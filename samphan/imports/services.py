"""Writes for imports: run an import (CLI, task), and the web upload → preview → run flow."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from samphan.core.audit import audit_record
from samphan.core.errors import ValidationFailed
from samphan.core.jobs import job_enqueue, job_finish, job_progress, job_start
from samphan.core.models import Job
from samphan.imports import customers as customer_import
from samphan.imports import orders as order_import
from samphan.imports.models import ImportRun
from samphan.imports.reading import ROW, ImportFileError, Table, file_kind, read_table
from samphan.imports.summary import ImportSummary, Progress, errors_csv

logger = logging.getLogger(__name__)

KINDS = ("customers", "orders")
PREVIEW_ROWS = 10
PREVIEW_CHECK_ROWS = 200
SUMMARY_ERRORS = 100  # errors kept on the run for the result page; all are in the CSV report


def _engine(kind: str):
    if kind == "orders":
        return order_import
    if kind == "customers":
        return customer_import
    raise ValidationFailed(f"unknown import kind {kind!r}; use customers or orders")


def import_table(
    *, workspace: Any, kind: str, table: Table, actor: Any = None, via: str = "cli",
    progress: Progress | None = None, run: ImportRun | None = None,
) -> ImportSummary:
    """Import an already-read table and record one audit entry for the run if it changed anything."""
    engine = _engine(kind)
    if kind == "orders":
        summary = engine.import_orders(workspace=workspace, table=table, actor=actor, via=via, progress=progress)
    else:
        summary = engine.import_customers(workspace=workspace, table=table, actor=actor, via=via, progress=progress)
    summary.sort_errors()
    if summary.imported or summary.updated or summary.customers_created:
        counts = summary.counts()
        audit_record(
            workspace=workspace, action=f"import.{kind}", actor=actor, via=via,
            target_type="imports.importrun" if run else "", target_id=run.pk if run else "",
            summary=(f"{kind} from {table.source_name}: {counts['imported']} imported, {counts['updated']} updated, "
                     f"{counts['unchanged']} unchanged, {counts['rejected']} rejected"),
            changes={"file": table.source_name, **counts, "errors": len(summary.errors)},
        )
    return summary


def import_file(
    *, workspace: Any, kind: str, path: str | Path, name: str | None = None, actor: Any = None, via: str = "cli",
    progress: Progress | None = None, on_total: Callable[[int], None] | None = None, run: ImportRun | None = None,
) -> ImportSummary:
    """Read and import a file. A file-level problem raises ImportFileError before anything is written."""
    _engine(kind)
    table = read_table(path, name=name)
    _engine(kind).check_columns(table)
    if on_total:
        on_total(table.rows)
    return import_table(workspace=workspace, kind=kind, table=table, actor=actor, via=via, progress=progress,
                        run=run)


# --- the web flow ------------------------------------------------------------------


def import_run_create(*, workspace: Any, kind: str, upload: Any, actor: Any = None) -> ImportRun:
    """Store an uploaded file for a person to preview and confirm."""
    if kind not in KINDS:
        raise ValidationFailed("choose what the file holds: customers or orders")
    if upload is None:
        raise ValidationFailed("choose a file")
    try:
        file_kind(upload.name)
    except ImportFileError as exc:
        raise ValidationFailed(str(exc)) from None
    run = ImportRun(workspace_id=workspace.pk, kind=kind, original_name=Path(upload.name).name[:255],
                    size=upload.size or 0, created_by=actor if getattr(actor, "is_authenticated", False) else None)
    run.file.save(upload.name, upload, save=False)
    run.save()
    return run


@contextlib.contextmanager
def _local_path(run: ImportRun) -> Iterator[Path]:
    """The run's file as a local path (a copy when the storage is not the local disk)."""
    try:
        local: Path | None = Path(run.file.path)
    except NotImplementedError:
        local = None
    if local is not None:
        yield local
        return
    assert run.file.name, "run.file.path above raises ValueError for a run without a file"
    with tempfile.NamedTemporaryFile(suffix=Path(run.file.name).suffix) as tmp:
        with run.file.open("rb") as src:
            shutil.copyfileobj(src, tmp)
        tmp.flush()
        yield Path(tmp.name)


def import_run_preview(*, run: ImportRun) -> dict[str, Any]:
    """The first rows, the columns found, and the errors a real run would report for the first rows.

    The check runs the real import inside a transaction that is rolled back, so
    the errors include conflicts with what is stored.
    """
    engine = _engine(run.kind)
    preview: dict[str, Any] = {"columns": [], "ignored": [], "missing": [], "rows": [], "errors": [],
                               "error": "", "checked": 0}
    try:
        with _local_path(run) as path:
            table = read_table(path, max_rows=PREVIEW_CHECK_ROWS, name=run.original_name)
    except ImportFileError as exc:
        preview["error"] = str(exc)
        return preview
    preview["columns"] = table.columns
    preview["rows"] = [[row.get(c) or "" for c in table.columns] + [row[ROW]]
                       for row in table.frame.head(PREVIEW_ROWS).iter_rows(named=True)]
    try:
        preview["ignored"] = engine.check_columns(table)
    except ImportFileError as exc:
        preview["error"] = str(exc)
        preview["missing"] = [c for c in engine.REQUIRED if c not in table.columns]
        return preview
    with transaction.atomic():
        summary = import_table(workspace=run.workspace, kind=run.kind, table=table, actor=None, via="web")
        transaction.set_rollback(True)
    preview["errors"] = summary.errors[:20]
    preview["error_rows"] = summary.rejected
    preview["checked"] = table.rows
    return preview


def import_run_start(*, run: ImportRun, actor: Any = None) -> Job:
    """Queue the confirmed run; its task starts once this transaction commits."""
    from samphan.imports.tasks import run_import

    if run.status != ImportRun.Status.UPLOADED:
        raise ValidationFailed("this import has already been started")
    with transaction.atomic():
        job = job_enqueue(workspace=run.workspace_id, kind="imports.run", task=run_import,
                          params={"run_id": run.pk, "kind": run.kind}, actor=actor)
        run.job = job
        run.status = ImportRun.Status.QUEUED
        run.save(update_fields=["job", "status"])
    return job


def import_run_execute(*, run: ImportRun, job: Job) -> None:
    """The work of the background task: import, keep the error report, report progress on the Job."""
    if run.status in (ImportRun.Status.SUCCEEDED, ImportRun.Status.FAILED):
        return  # a retried task whose run already finished
    run.status = ImportRun.Status.RUNNING
    run.save(update_fields=["status"])

    def on_total(total: int) -> None:
        job_start(job, total=total, message="importing")

    def progress(done: int, total: int) -> None:
        job_progress(job, progress=done)

    try:
        with _local_path(run) as path:
            summary = import_file(workspace=run.workspace, kind=run.kind, path=path, name=run.original_name,
                                  actor=run.created_by, via="web", progress=progress, on_total=on_total, run=run)
    except ImportFileError as exc:
        _fail(run, job, str(exc))
        return
    except Exception:
        logger.exception("import run %s failed", run.pk)
        _fail(run, job, "the import stopped on an unexpected error; rows already written are kept")
        return
    if summary.errors:
        run.error_report.save(f"{run.pk}-errors.csv", ContentFile(errors_csv(summary.errors).encode("utf-8-sig")),
                              save=False)
    run.summary = summary.as_dict(max_errors=SUMMARY_ERRORS)
    run.error_count = len(summary.errors)
    run.status = ImportRun.Status.SUCCEEDED
    run.finished_at = timezone.now()
    run.save()
    job_finish(job, result={"run_id": run.pk, **summary.counts()})


def _fail(run: ImportRun, job: Job, message: str) -> None:
    run.status = ImportRun.Status.FAILED
    run.message = message[:255]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "message", "finished_at"])
    job_finish(job, error=message)
