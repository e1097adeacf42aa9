"""Domain errors with stable codes; the API and the CLI render them, never a stack trace."""

from __future__ import annotations

from typing import Any


class SamphanError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(SamphanError):
    code = "not_found"
    status = 404


class PermissionDenied(SamphanError):
    code = "permission_denied"
    status = 403


class ValidationFailed(SamphanError):
    code = "validation_error"
    status = 422


class Conflict(SamphanError):
    code = "conflict"
    status = 409
