"""JSON errors under /api/: never an HTML error page or a stack trace for an API client."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger("samphan.api")


class JsonErrorsForApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            request.path.startswith("/api/")
            and response.status_code in (404, 405, 500)
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            code = {404: "not_found", 405: "method_not_allowed", 500: "internal_error"}[response.status_code]
            message = {404: "Not found", 405: "Method not allowed", 500: "Internal error"}[response.status_code]
            return JsonResponse({"code": code, "message": message}, status=response.status_code)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            logger.exception("unhandled API error on %s", request.path)
            return JsonResponse({"code": "internal_error", "message": "Internal error"}, status=500)
        return None
