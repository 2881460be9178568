"""The portal's routes plus views exercising per-response framing."""

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


urlpatterns = [
    path("ops-test/framed", framed),
    path("ops-test/plain", plain),
    path("ops-test/boom", boom, name="ops-test-boom"),
    *portal_urlpatterns,
]
