"""The request id: taken from ``X-Request-ID`` when a proxy sent a sane one, else made here.

It lives in a context variable so every log line written while serving the request,
including after-commit signal receivers, carries it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
META_KEY = "HTTP_X_REQUEST_ID"
NO_REQUEST = "-"
# Anything else (long, spaces, quotes, newlines) could forge or break log lines.
VALID_ID = re.compile(r"^[A-Za-z0-9._:@-]{1,128}$")

request_id_var: ContextVar[str] = ContextVar("request_id", default=NO_REQUEST)


def get_request_id() -> str:
    return request_id_var.get()


def new_request_id() -> str:
    return uuid.uuid4().hex


def incoming_request_id(request: HttpRequest) -> str:
    candidate = request.META.get(META_KEY, "")
    return candidate if VALID_ID.match(candidate) else new_request_id()


class RequestIdMiddleware:
    """Sets ``request.request_id``, the logging context and the response's ``X-Request-ID``.

    The id stays set until ``request_finished`` so the handler's own lines written
    after the middleware chain (``django.request``'s error log) carry it too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = incoming_request_id(request)
        request.request_id = request_id
        request_id_var.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="portal.ops.request_id.clear")
def clear_request_id(**kwargs: object) -> None:
    request_id_var.set(NO_REQUEST)
