from __future__ import annotations

from datetime import datetime

from ninja import Router, Schema

from samphan.accounts.selectors import memberships_of
from samphan.core.api import caller
from samphan.core.audit import audit_events_for

router = Router(tags=["accounts"])


class WorkspaceRoleOut(Schema):
    slug: str
    name: str
    role: str


class MeOut(Schema):
    id: int
    email: str
    name: str
    authenticated_by: str
    current_workspace: str | None
    workspaces: list[WorkspaceRoleOut]


@router.get("/me", response=MeOut, summary="Who is calling, and their workspaces and roles")
def me(request):
    c = caller(request)
    memberships = memberships_of(c.user)
    if c.via == "api":  # a token speaks for its own workspace only
        memberships = memberships.filter(workspace=c.workspace)
    return {
        "id": c.user.pk,
        "email": c.user.email,
        "name": c.user.name,
        "authenticated_by": "token" if c.via == "api" else "session",
        "current_workspace": c.workspace.slug if c.workspace else None,
        "workspaces": [
            {"slug": m.workspace.slug, "name": m.workspace.name, "role": m.role} for m in memberships
        ],
    }


class AuditOut(Schema):
    id: int
    created_at: datetime
    actor: str | None
    via: str
    action: str
    target_type: str
    target_id: str
    summary: str
    changes: dict


@router.get("/audit", response=list[AuditOut], summary="The workspace's audit log, newest first")
def audit_list(request, target_type: str = "", target_id: str = "", limit: int = 100):
    workspace = caller(request).require("audit.view")
    events = audit_events_for(workspace=workspace, target_type=target_type, target_id=target_id,
                              limit=max(1, min(limit, 500)))
    return [
        {**{f: getattr(e, f) for f in ("id", "created_at", "via", "action", "target_type", "target_id",
                                        "summary", "changes")},
         "actor": e.actor.email if e.actor else None}
        for e in events
    ]
