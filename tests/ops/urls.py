"""The portal's routes plus views exercising per-response framing."""

import logging

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

from portal.ops.security import allow_framing
from portal.urls import urlpatterns as portal_urlpatterns


def framed(request: HttpRequest) -> HttpResponse:
    return allow_framing(HttpResponse("checkout"), request.GET["origin"])


def plain(request: HttpRequest) -> HttpResponse:
    return HttpResponse("plain")


class OpsTestError(Exception):
    pass


def boom(request: HttpRequest) -> HttpResponse:
    raise OpsTestError("boom")


def slow(request: HttpRequest) -> HttpResponse:
    """A page whose query takes ``seconds`` (PostgreSQL): for the statement timeout."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(%s)", [float(request.GET.get("seconds", "10"))])
    return HttpResponse("done")


def whoami(request: HttpRequest) -> HttpResponse:
    """The client address the rest of the stack sees; logs one line while serving."""
    logging.getLogger("tests.ops").warning("serving whoami")
    return HttpResponse(request.META.get("REMOTE_ADDR", ""))


urlpatterns = [
    path("ops-test/framed", framed),
    path("ops-test/plain", plain),
    path("ops-test/boom", boom, name="ops-test-boom"),
    path("ops-test/whoami", whoami),
    path("ops-test/slow", slow),
    *portal_urlpatterns,
]
