"""API plumbing shared by every app's router: authentication, workspace context, errors.

Two ways in:
- `Authorization: Bearer smp_…` — a personal API token, bound to one workspace;
- the browser session (CSRF-checked on writes); the workspace is the
  `X-Workspace` header (a slug) or the one last chosen in the UI.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security import HttpBearer
from ninja.security.base import AuthBase

from samphan.accounts.models import Membership, User, Workspace
from samphan.accounts.roles import role_can
from samphan.accounts.selectors import api_token_authenticate, membership_for
from samphan.core.errors import PermissionDenied, SamphanError

SESSION_WORKSPACE_KEY = "samphan_workspace"


@dataclass(frozen=True)
class Caller:
    user: User
    via: str  # "api" (token) or "web" (session)
    workspace: Workspace | None
    role: str | None

    def require(self, capability: str) -> Workspace:
        """The caller's workspace, if their role there holds `capability`."""
        if self.workspace is None:
            raise WorkspaceRequired("choose a workspace: send the X-Workspace header with its slug")
        if not role_can(self.role, capability):
            raise PermissionDenied(f"your role ({self.role}) may not do this ({capability})")
        return self.workspace


class WorkspaceRequired(SamphanError):
    code = "workspace_required"
    status = 400


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        role = (
            Membership.objects.filter(user_id=api_token.user_id, workspace_id=api_token.workspace_id)
            .values_list("role", flat=True)
            .first()
        )
        if role is None:  # membership removed since the token was issued
            return None
        return Caller(user=api_token.user, via="api", workspace=api_token.workspace, role=role)


class _CsrfCheck(CsrfViewMiddleware):
    def _reject(self, request: HttpRequest, reason: str) -> Any:
        return reason


def _no_view(request: HttpRequest) -> HttpResponse:
    """The next handler and view the CSRF middleware wants; the check runs its hooks only, never them."""
    return HttpResponse(status=204)


class SessionAuth(AuthBase):
    openapi_type = "apiKey"

    def __init__(self) -> None:
        self.openapi_name = "sessionid"
        self.openapi_in = "cookie"
        super().__init__()

    def __call__(self, request: HttpRequest) -> Caller | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            check = _CsrfCheck(_no_view)
            check.process_request(request)
            if check.process_view(request, _no_view, (), {}) is not None:
                return None
        slug = request.headers.get("X-Workspace") or request.session.get(SESSION_WORKSPACE_KEY)
        membership = membership_for(user=user, workspace_slug=slug) if slug else None
        return Caller(
            user=user, via="web",
            workspace=membership.workspace if membership else None,
            role=membership.role if membership else None,
        )


auth_methods = [TokenAuth(), SessionAuth()]


def caller(request: HttpRequest) -> Caller:
    return request.auth  # type: ignore[attr-defined, no-any-return]
