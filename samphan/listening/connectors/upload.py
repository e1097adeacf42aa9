"""CSV and JSON uploads of mentions (exports from other tools, archives, hand-collected posts).

CSV: a header row, UTF-8 (a BOM is fine). JSON: a list of objects, ``{"mentions": [...]}``, or
one object per line; a saved X API search result (``data`` + ``includes``) is recognised and read
as such. Fields (only ``text`` is required):

    text, source (x / facebook / a site such as pantip.com; default "upload"), external_id, url,
    published_at (ISO 8601, "2026-03-01 14:30" or a date; UTC unless it carries an offset),
    author_name, author_handle, author_id, author_email, author_phone, author_line_id,
    followers (the author's reach), engagement, language

A bad row is reported with its row number (the CSV line, the header being line 1; the JSON
item, from 1), the field and the reason, and left out; good rows are imported. Duplicates of
mentions already stored (same source and external id, else same author and text) are counted,
not stored twice.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import uuid
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from samphan.core.errors import ValidationFailed
from samphan.core.jobs import job_enqueue, job_finish, job_progress, job_start
from samphan.core.models import Job
from samphan.listening.connectors import FetchFailed, RowError
from samphan.listening.ingest import IngestResult, MentionIn, mentions_ingest
from samphan.listening.models import Mention

FIELDS = ("text", "source", "external_id", "url", "published_at", "author_name", "author_handle", "author_id",
          "author_email", "author_phone", "author_line_id", "followers", "engagement", "language")
MAX_BYTES = 50 * 1024 * 1024
MAX_ERRORS_KEPT = 1000
BATCH = 2000
UPLOAD_JOB = "listening_upload"


def _str(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _count(row: int, field: str, value: Any, errors: list[RowError]) -> int | None:
    text = _str(value).replace(",", "")
    if not text:
        return 0
    try:
        number = int(float(text)) if "." in text or "e" in text.lower() else int(text)
    except ValueError:
        errors.append(RowError(row, field, f"not a whole number: {_str(value)[:40]!r}"))
        return None
    if number < 0:
        errors.append(RowError(row, field, "cannot be negative"))
        return None
    return number


def _when(row: int, value: Any, errors: list[RowError]) -> datetime | bool | None:
    text = _str(value)
    if not text:
        return None
    try:
        moment = parse_datetime(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None:
        day = None
        with contextlib.suppress(ValueError):
            day = parse_date(text)
        if day is None:
            errors.append(RowError(row, "published_at", f"not a date and time (ISO 8601, e.g. 2026-03-01 14:30): "
                                                        f"{text[:40]!r}"))
            return False
        moment = datetime(day.year, day.month, day.day)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def row_to_mention(row: int, data: dict[str, Any]) -> tuple[MentionIn | None, list[RowError]]:
    errors: list[RowError] = []
    lowered = {str(k).strip().lower(): v for k, v in data.items() if k is not None}
    unknown = [k for k in lowered if k and k not in FIELDS]
    text = _str(lowered.get("text"))
    if not text:
        errors.append(RowError(row, "text", "required: the words of the mention"))
    source = _str(lowered.get("source")).lower() or "upload"
    if len(source) > 64:
        errors.append(RowError(row, "source", "at most 64 characters"))
    followers = _count(row, "followers", lowered.get("followers"), errors)
    engagement = _count(row, "engagement", lowered.get("engagement"), errors)
    when = _when(row, lowered.get("published_at"), errors)
    url = _str(lowered.get("url"))
    if url and not url.lower().startswith(("http://", "https://")):
        errors.append(RowError(row, "url", "must start with http:// or https://"))
    language = _str(lowered.get("language")).lower()
    if language and len(language) > 8:
        errors.append(RowError(row, "language", "a language code such as th or en"))
    if errors:
        return None, errors
    handle = _str(lowered.get("author_handle")).lstrip("@")
    author_id = _str(lowered.get("author_id"))
    identities: list[tuple[str, str]] = []
    if source == "x":
        if author_id:
            identities.append(("x", author_id))
        if handle:
            identities.append(("x_handle", handle))
    elif source == "facebook" and author_id:
        identities.append(("facebook", author_id))
    for column, kind in (("author_email", "email"), ("author_phone", "phone"), ("author_line_id", "line")):
        if _str(lowered.get(column)):
            identities.append((kind, _str(lowered.get(column))))
    meta = {"unknown_columns": unknown} if unknown else {}
    return MentionIn(source=source, text=text, external_id=_str(lowered.get("external_id"))[:255], url=url,
                     published_at=when if isinstance(when, datetime) else None, author_id=author_id,
                     author_handle=handle, author_name=_str(lowered.get("author_name")), reach=followers or 0,
                     engagement=engagement or 0, language=language, identities=identities, meta=meta), []


def parse_upload(content: bytes, *, name: str) -> tuple[list[MentionIn], list[RowError]]:
    """The file → good mentions and bad rows. Raises ValidationFailed when the file as a whole is unreadable."""
    if len(content) > MAX_BYTES:
        raise ValidationFailed(f"{name}: the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    suffix = PurePath(name).suffix.lower()
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(f"{name}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _parse_json(text, name)
    if suffix in (".csv", ".txt", ""):
        return _parse_csv(text, name)
    raise ValidationFailed(f"{name}: upload a .csv, .json or .jsonl file")


def _parse_csv(text: str, name: str) -> tuple[list[MentionIn], list[RowError]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationFailed(f"{name}: the file is empty") from None
    except csv.Error as exc:
        raise ValidationFailed(f"{name}: not a CSV file ({exc})") from None
    names = [h.strip().lower() for h in header]
    if "text" not in names:
        raise ValidationFailed(f"{name}: the header needs a \"text\" column (found: {', '.join(names)[:200]})",
                               details=[{"row": 1, "field": "text", "reason": "column missing"}])
    items: list[MentionIn] = []
    errors: list[RowError] = []
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(reader.line_num, "", f"unreadable CSV: {exc}"))
            continue
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) > len(names):
            errors.append(RowError(line, "", f"{len(values)} values for {len(names)} columns"))
            continue
        item, row_errors = row_to_mention(line, dict(zip(names, values, strict=False)))
        errors.extend(row_errors)
        if item is not None:
            items.append(item)
    return items, errors


def _parse_json(text: str, name: str) -> tuple[list[MentionIn], list[RowError]]:
    try:
        data = json.loads(text)
        lines = None
    except ValueError:
        data, lines = None, []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                lines.append((number, json.loads(line)))
            except ValueError as exc:  # JSONDecodeError, or a plain ValueError (a number too long for int)
                reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
                lines.append((number, RowError(number, "", f"not JSON: {reason}")))
    if lines is None:
        if isinstance(data, dict) and "data" in data and ("includes" in data or "meta" in data):
            from samphan.listening.connectors.x import parse_saved

            try:
                return parse_saved(text.encode())
            except FetchFailed as exc:
                raise ValidationFailed(f"{name}: {exc.message}") from None
        if isinstance(data, dict) and isinstance(data.get("mentions"), list):
            data = data["mentions"]
        if not isinstance(data, list):
            raise ValidationFailed(f"{name}: expected a list of mentions, {{\"mentions\": [...]}}, or JSON lines")
        lines = list(enumerate(data, start=1))
    items: list[MentionIn] = []
    errors: list[RowError] = []
    for row, obj in lines:
        if isinstance(obj, RowError):
            errors.append(obj)
            continue
        if not isinstance(obj, dict):
            errors.append(RowError(row, "", "each mention is a JSON object"))
            continue
        item, row_errors = row_to_mention(row, obj)
        errors.extend(row_errors)
        if item is not None:
            items.append(item)
    return items, errors


def mentions_import(*, workspace: Any, content: bytes, name: str, progress: Any = None) -> dict[str, Any]:
    """Parse and ingest a file in batches; returns the counts and the bad rows (the first 1,000)."""
    items, errors = parse_upload(content, name=name)
    total = IngestResult()
    for start in range(0, len(items), BATCH):
        total.add(mentions_ingest(workspace=workspace, items=items[start:start + BATCH],
                                  connector=Mention.Connector.UPLOAD))
        if progress is not None:
            progress(min(start + BATCH, len(items)), len(items))
    return {**total.as_dict(), "rows_rejected": len(errors), "errors": list(errors[:MAX_ERRORS_KEPT])}


def upload_enqueue(*, workspace: Any, upload: Any, actor: Any = None) -> Job:
    """Keep an uploaded file (UI / API) and import it in the background; the Job's result has the report."""
    from samphan.listening.tasks import import_file

    if upload is None:
        raise ValidationFailed("choose a file to upload", details=[{"field": "file", "reason": "required"}])
    name = PurePath(upload.name or "upload.csv").name[:200]
    if PurePath(name).suffix.lower() not in (".csv", ".json", ".jsonl", ".ndjson", ".txt"):
        raise ValidationFailed(f"{name}: upload a .csv, .json or .jsonl file",
                               details=[{"field": "file", "reason": "unsupported file type"}])
    if upload.size and upload.size > MAX_BYTES:
        raise ValidationFailed(f"{name}: the file is larger than {MAX_BYTES // (1024 * 1024)} MB",
                               details=[{"field": "file", "reason": "too large"}])
    workspace_id = getattr(workspace, "pk", workspace)
    path = default_storage.save(f"listening/{workspace_id}/{uuid.uuid4().hex}{PurePath(name).suffix.lower()}",
                                ContentFile(upload.read()))
    return job_enqueue(workspace=workspace_id, kind=UPLOAD_JOB, task=import_file,
                       params={"path": path, "name": name}, actor=actor)


def upload_job_run(job_id: int) -> dict:
    job = Job.objects.get(pk=job_id)
    if job.status == Job.Status.SUCCEEDED:
        return job.result
    path, name = job.params["path"], job.params["name"]
    if not default_storage.exists(path):
        job_finish(job, error="The uploaded file is no longer there; upload it again.")
        return {}
    with default_storage.open(path, "rb") as fh:
        content = fh.read()
    job_start(job, message=name)
    try:
        result = mentions_import(workspace=job.workspace_id, content=content, name=name,
                                 progress=lambda done, total: _progress(job, done, total))
    except ValidationFailed as exc:
        job_finish(job, error=exc.message)
        default_storage.delete(path)
        return {}
    result["file"] = name
    result["finished_at"] = timezone.now().isoformat()
    job_finish(job, result=result)
    default_storage.delete(path)
    return result


def _progress(job: Job, done: int, total: int) -> None:
    if job.total != total:
        job.total = total
        Job.objects.filter(pk=job.pk).update(total=total)
    job_progress(job, progress=done)
