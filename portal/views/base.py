"""Shared pieces of the portal's views."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """For type checkers: HtmxMiddleware adds ``request.htmx``."""

    htmx: HtmxDetails


def partial(template_name: str, request: HtmxHttpRequest, fragment: str) -> str:
    """Only ``fragment`` for htmx swaps; the whole page for normal and boosted loads and for
    htmx history restores (back button after a pushed URL), which replace the whole body."""
    htmx = request.htmx
    if htmx and not htmx.boosted and not htmx.history_restore_request:
        return f"{template_name}#{fragment}"
    return template_name


def redirect_after_post(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """A normal redirect, or a full-page client redirect for htmx (never a swapped page)."""
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)
