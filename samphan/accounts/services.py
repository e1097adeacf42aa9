"""Writes for accounts: workspaces, users, memberships, tokens."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from samphan.accounts.models import ApiToken, Membership, User, Workspace, slug_validator
from samphan.accounts.roles import Role
from samphan.core.audit import audit_record
from samphan.core.errors import Conflict, NotFound, ValidationFailed


def workspace_create(*, slug: str, name: str, actor: Any = None, via: str = "system") -> Workspace:
    try:
        slug_validator(slug)
    except DjangoValidationError as exc:
        raise ValidationFailed(f"invalid slug {slug!r}: {' '.join(exc.messages)}") from None
    if not name.strip():
        raise ValidationFailed("a workspace needs a name")
    if Workspace.objects.filter(slug=slug).exists():
        raise Conflict(f"workspace {slug!r} already exists")
    try:
        with transaction.atomic():
            workspace = Workspace.objects.create(slug=slug, name=name.strip())
            audit_record(workspace=workspace, action="workspace.created", actor=actor, via=via,
                         target=workspace, summary=name.strip())
    except IntegrityError:
        raise Conflict(f"workspace {slug!r} already exists") from None
    return workspace


def workspace_get(*, slug: str) -> Workspace:
    try:
        return Workspace.objects.get(slug=slug)
    except Workspace.DoesNotExist:
        raise NotFound(f"no workspace with slug {slug!r}") from None


@transaction.atomic
def user_create_or_update(
    *, email: str, password: str | None, workspace: Workspace, role: str,
    display_name: str = "", actor: Any = None, via: str = "system",
) -> tuple[User, bool]:
    """Create the user if needed and give them `role` in `workspace`. Returns (user, created)."""
    if role not in Role.values:
        raise ValidationFailed(f"unknown role {role!r}; choose one of {', '.join(Role.values)}")
    email = email.strip().lower()
    if "@" not in email:
        raise ValidationFailed(f"{email!r} is not an e-mail address")
    user = User.objects.filter(email=email).first()
    created = user is None
    if password is not None:
        try:
            validate_password(password, user=user)
        except DjangoValidationError as exc:
            raise ValidationFailed("password rejected: " + " ".join(exc.messages)) from None
    if user is None:
        if password is None:
            raise ValidationFailed("a new user needs a password")
        user = User.objects.create_user(email=email, password=password, display_name=display_name)
    else:
        if password is not None:
            user.set_password(password)
        if display_name:
            user.display_name = display_name
        user.save()
    membership, _ = Membership.objects.update_or_create(workspace=workspace, user=user, defaults={"role": role})
    audit_record(workspace=workspace, action="membership.set", actor=actor, via=via, target=membership,
                 summary=f"{email} is {role}", changes={"role": role, "user_created": created})
    return user, created


def api_token_create(*, user: User, workspace: Workspace, name: str = "", via: str = "system") -> tuple[ApiToken, str]:
    """Issue a token; returns (row, raw token). The raw token is never stored."""
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise ValidationFailed(f"{user.email} is not a member of workspace {workspace.slug!r}")
    raw = settings.SAMPHAN_API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, workspace=workspace, name=name, prefix=raw[:12], digest=ApiToken.digest_of(raw)
    )
    audit_record(workspace=workspace, action="api_token.created", actor=user, via=via, target=token,
                 summary=f"token {token.prefix}… for {user.email}")
    return token, raw


def api_token_revoke(*, token: ApiToken, actor: Any = None, via: str = "system") -> None:
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(workspace=token.workspace, action="api_token.revoked", actor=actor, via=via, target=token)
