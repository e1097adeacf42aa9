"""Providers' webhooks skip the site's middleware: `/webhooks/…` is served by a Django handler with none.

A webhook is a signed machine-to-machine POST answered with a bare 200. Sessions, authentication,
CSRF (the view is exempt), locale negotiation, messages, CORS, static files and the security headers
all exist for browsers; on this path they cost CPU on every request and decide nothing (the
signature check in the view is the only authentication a webhook has). Everything else about the
request is Django's as usual: URL resolution, the view, request_started / request_finished (database
connections are reused or closed as configured), and a 500 page for an uncaught error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.http import HttpRequest
from django.http.response import HttpResponseBase

PREFIX = "/webhooks/"


class WebhookHandler(WSGIHandler):
    """WSGIHandler without middleware (what load_middleware builds for an empty MIDDLEWARE).

    It also skips the per-request connection health check (CONN_HEALTH_CHECKS: a `SELECT 1`
    round trip before the first query): the webhook's INSERT replaces a dead connection and
    retries itself (channels.bulk.webhook_insert), and any other failure is answered 500 and the
    connection dropped at the end of the request, as Django does, so the provider redelivers.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        self._middleware_chain = convert_exception_to_response(self._get_response)  # type: ignore[attr-defined]

    def get_response(self, request: HttpRequest) -> HttpResponseBase:
        for conn in connections.all(initialized_only=True):
            conn.health_check_done = True  # type: ignore[attr-defined]
        return super().get_response(request)


def with_lean_webhooks(application: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Wrap the site's WSGI application: `/webhooks/…` goes to a WebhookHandler, the rest to `application`."""
    webhooks = WebhookHandler()

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith(PREFIX):
            return webhooks(environ, start_response)
        return application(environ, start_response)

    return dispatch
