"""The REST API: one NinjaAPI, each app contributes a router.

Every error is JSON with a stable `code` and a human `message`.
"""

from __future__ import annotations

import logging

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from samphan.accounts.api import router as accounts_router
from samphan.analytics.api import router as analytics_router
from samphan.channels.api import router as channels_router
from samphan.commerce.api import router as orders_router
from samphan.core.api import auth_methods
from samphan.core.errors import SamphanError
from samphan.core.jobs_api import router as jobs_router
from samphan.customers.api import router as customers_router
from samphan.guard.api import router as guard_router
from samphan.inbox.api import router as inbox_router
from samphan.listening.api import router as listening_router
from samphan.segments.api import router as segments_router
from samphan.sla.api import router as sla_router

logger = logging.getLogger("samphan.api")

api = NinjaAPI(
    title="Samphan API",
    version="1",
    description="Social CRM: customers, orders, analytics, inbox. Authenticate with "
    "`Authorization: Bearer <token>` (create one with `samphan tokens create`).",
    auth=auth_methods,
    urls_namespace="api",
)


@api.exception_handler(SamphanError)
def _samphan_error(request, exc: SamphanError):
    body = {"code": exc.code, "message": exc.message}
    if exc.details is not None:
        body["details"] = exc.details
    return api.create_response(request, body, status=exc.status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return api.create_response(
        request, {"code": "unauthenticated", "message": "missing or invalid credentials"}, status=401
    )


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    details = [
        {"field": ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")),
         "reason": err.get("msg", "")}
        for err in exc.errors
    ]
    return api.create_response(
        request, {"code": "validation_error", "message": "the request is not valid", "details": details}, status=422
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, {"code": "not_found", "message": "not found"}, status=404)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return api.create_response(request, {"code": "http_error", "message": str(exc)}, status=exc.status_code)


@api.exception_handler(Exception)
def _unexpected(request, exc: Exception):
    logger.exception("unhandled API error on %s", request.path)
    return api.create_response(request, {"code": "internal_error", "message": "internal error"}, status=500)


api.add_router("/", accounts_router)
api.add_router("/jobs", jobs_router)
api.add_router("/customers", customers_router)
api.add_router("/orders", orders_router)
api.add_router("/analytics", analytics_router)
api.add_router("/segments", segments_router)
api.add_router("/channels", channels_router)
api.add_router("/inbox", inbox_router)
api.add_router("/listening", listening_router)
api.add_router("/guard", guard_router)
api.add_router("/sla", sla_router)
