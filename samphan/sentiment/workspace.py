"""Classification with a workspace's own models when it has them, and storing such a model.

``samphan sentiment train --workspace W --with-corrections [--language en]`` stores the model
it trains with ``workspace_model_store``; ``classify_for_workspace`` is what the inbox's ingest
calls for each batch of inbound messages: one query finds the workspace's newest Thai and
English models (none: the packaged defaults), and each is written once per host to
``var/sentiment/cache/`` so that ``samphan.sentiment.classify`` loads it like any model file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max

from samphan.core.audit import audit_record
from samphan.sentiment import classify
from samphan.sentiment.models import WorkspaceModel

LANGUAGES = ("th", "en")


def _cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "sentiment" / "cache"


def workspace_model_ids(*, workspace: Any) -> dict[str, int]:
    """language → the id of the workspace's newest model in it."""
    return dict(WorkspaceModel.objects.for_workspace(workspace).values("language").annotate(newest=Max("id"))
                .values_list("language", "newest"))


def _cached_file(workspace_id: int, model_id: int) -> Path:
    path = _cache_dir() / f"ws{workspace_id}-m{model_id}.npz"
    if not path.exists():
        data = WorkspaceModel.objects.filter(pk=model_id).values_list("data", flat=True).get()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(data))
        os.replace(tmp, path)  # atomic: a concurrent reader never sees half a file
    return path


def workspace_model_paths(*, workspace: Any) -> dict[str, Path]:
    """language → the newest model of the workspace in it, as a local file (absent: the default)."""
    workspace_id = getattr(workspace, "pk", workspace)
    return {language: _cached_file(workspace_id, model_id)
            for language, model_id in workspace_model_ids(workspace=workspace).items()}


def classify_for_workspace(*, workspace: Any, texts: list[str]) -> list[dict]:
    """``samphan.sentiment.classify`` with the workspace's own models where it has them."""
    if not texts:
        return []
    paths = workspace_model_paths(workspace=workspace)
    return classify(texts, model_path=paths.get("th"), english_model_path=paths.get("en"))


@transaction.atomic
def workspace_model_store(*, workspace: Any, path: Path, report: dict, n_corrections: int, language: str = "th",
                          actor: Any = None, via: str = "cli") -> WorkspaceModel:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}")
    data = Path(path).read_bytes()
    row = WorkspaceModel.objects.create(
        workspace_id=getattr(workspace, "pk", workspace), language=language, data=data, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), n_corrections=n_corrections, report=report,
        created_by=actor if getattr(actor, "is_authenticated", False) else None)
    validation = report.get("validation") or {}
    audit_record(workspace=workspace, action="sentiment.model_trained", actor=actor, via=via, target=row,
                 summary=f"{language}: {n_corrections} corrections, {len(data) / 1e6:.1f} MB"
                         + (f", valid accuracy {validation['accuracy']}" if "accuracy" in validation else ""),
                 changes={"language": language, "n_corrections": n_corrections, "n_train": report.get("n_train"),
                          "validation": validation})
    return row
