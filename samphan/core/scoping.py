"""The one way an id from outside becomes an object: always inside a workspace."""

from __future__ import annotations

from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet

from samphan.core.errors import NotFound

M = TypeVar("M", bound=Model)


def scoped(model_or_qs: type[M] | QuerySet[M], workspace: Any) -> QuerySet[M]:
    qs = model_or_qs if isinstance(model_or_qs, QuerySet) else model_or_qs._default_manager.all()
    workspace_id = getattr(workspace, "pk", workspace)
    return qs.filter(workspace_id=workspace_id)


def get_scoped_or_404(model_or_qs: type[M] | QuerySet[M], workspace: Any, **lookup: Any) -> M:
    """Fetch one object of the workspace; another workspace's object is simply not found."""
    qs = scoped(model_or_qs, workspace)
    try:
        return qs.get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):  # qs.get raises its model's DoesNotExist
        raise NotFound(f"{qs.model._meta.verbose_name} not found") from None
