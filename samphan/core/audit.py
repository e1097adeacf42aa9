"""Audit log service: the single place that writes AuditEvent rows."""

from __future__ import annotations

from typing import Any

from samphan.core.models import AuditEvent


def audit_record(
    *,
    workspace: Any,
    action: str,
    actor: Any = None,
    via: str = "system",
    target: Any = None,
    target_type: str = "",
    target_id: str | int = "",
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or target.pk
    return AuditEvent.objects.create(
        workspace_id=getattr(workspace, "pk", workspace),
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        via=via,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        summary=summary[:255],
        changes=changes or {},
    )


def audit_events_for(*, workspace: Any, target_type: str = "", target_id: str | int = "", limit: int = 100):
    qs = AuditEvent.objects.for_workspace(workspace).select_related("actor")
    if target_type:
        qs = qs.filter(target_type=target_type)
    if target_id != "":
        qs = qs.filter(target_id=str(target_id))
    return qs[:limit]
