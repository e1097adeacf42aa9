"""Reads for accounts."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from samphan.accounts.models import ApiToken, Membership, User, Workspace


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user).select_related("workspace").order_by("workspace__name")


def membership_for(*, user: User, workspace_slug: str | None = None, workspace_id: int | None = None) -> Membership | None:
    if not getattr(user, "is_authenticated", False):
        return None
    qs = Membership.objects.select_related("workspace").filter(user=user)
    if workspace_slug is not None:
        qs = qs.filter(workspace__slug=workspace_slug)
    elif workspace_id is not None:
        qs = qs.filter(workspace_id=workspace_id)
    else:
        return None
    return qs.first()


def api_token_authenticate(raw: str) -> ApiToken | None:
    """Return the live token for a raw bearer value, touching last_used_at at most once a minute."""
    if not raw:
        return None
    token = (
        ApiToken.objects.select_related("user", "workspace")
        .filter(digest=ApiToken.digest_of(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def workspaces_all() -> QuerySet[Workspace]:
    return Workspace.objects.order_by("slug")
