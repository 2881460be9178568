"""Answers the operational endpoints before the rest of the stack.

Kubernetes probes and Prometheus address pods by IP over plain HTTP: going
through ``SecurityMiddleware`` and ``ALLOWED_HOSTS`` would redirect them to HTTPS
or reject their Host header. These endpoints hold no user data (``/metrics``
checks its own token), so they are served first and skip sessions, CSRF and login.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

from portal.ops.health import healthz, readyz
from portal.ops.metrics import metrics_view

OPS_VIEWS: dict[str, Callable[[HttpRequest], HttpResponse]] = {
    "/healthz": healthz,
    "/readyz": readyz,
    "/metrics": metrics_view,
}


class OpsEndpointsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        view = OPS_VIEWS.get(request.path_info.rstrip("/") or "/")
        if view is None:
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET", "HEAD"])
        response = view(request)
        response["Cache-Control"] = "no-store"
        if view is not metrics_view:
            # A failing probe is logged once with its reason by portal.ops.health;
            # Django's per-response error line would repeat it every few seconds.
            response._has_been_logged = True  # type: ignore[attr-defined]
        return response
