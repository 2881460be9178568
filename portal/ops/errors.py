"""Branded error pages that need no database, and what they tell a money form's user.

A request that fails because the database could not be reached, timed out or
dropped the connection (an ``OperationalError`` or ``InterfaceError``, also
when it surfaces wrapped in another error) is answered with a 503 at once:
the worker logs it and serves the next request. A POST from a money form
(every one carries an idempotency key) that fails at the database, or with
any other error, may or may not have committed: the page says the outcome is
unknown, links to the history and says that sending the same form again is
safe, since the key makes the engine apply it once.

The pages are rendered without a request context (no user, session or
messages), since each of those may need the database that just failed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils.http import url_has_allowed_host_and_scheme

logger = logging.getLogger("portal.errors")

RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)
# SQLSTATEs of a database that cannot serve the request now (retrying may work):
# connection exceptions, insufficient resources, operator intervention (timeouts,
# terminated backends, shutdown), and the waits our timeouts end.
UNAVAILABLE_CLASSES = frozenset({"08", "53", "57"})
UNAVAILABLE_STATES = frozenset({"25P03", "55P03", "40001", "40P01"})
# Money forms that carry no idempotency key because the thing paid can only
# be paid once (a checkout session); sending them again is just as safe.
PAID_ONCE_VIEWS = frozenset({"checkout:confirm"})
API_PREFIX = "/api/"


def database_unavailable(error: BaseException | None) -> bool:
    """True when ``error``, or an error it was raised from, says the database failed."""
    seen = 0
    while error is not None and seen < 5:
        if isinstance(error, DATABASE_ERRORS) or _unavailable_state(error):
            return True
        error = error.__cause__ or error.__context__
        seen += 1
    return False


def _unavailable_state(error: BaseException) -> bool:
    # PostgreSQL reports some of these as other classes: the server ending a
    # transaction left idle (25P03) is an InternalError, for one.
    state = getattr(error, "sqlstate", None) or ""
    return state in UNAVAILABLE_STATES or state[:2] in UNAVAILABLE_CLASSES


def becomes_server_error(error: BaseException) -> bool:
    """Whether Django would answer ``error`` with a 500 (not a 400, 403 or 404)."""
    return not isinstance(
        error, Http404 | PermissionDenied | BadRequest | SuspiciousOperation | MultiPartParserError
    )


def is_money_form(request: HttpRequest) -> bool:
    if request.method != "POST":
        return False
    match = getattr(request, "resolver_match", None)
    if match is not None and match.view_name in PAID_ONCE_VIEWS:
        return True
    try:
        names = list(request.POST.keys())
    except Exception:  # an unreadable body is no money form of ours
        return False
    return any(name.endswith("idempotency_key") for name in names)


def history_url(request: HttpRequest) -> str:
    """Where the user can see whether the request went through."""
    match = getattr(request, "resolver_match", None)
    namespace = match.namespace if match is not None else ""
    try:
        if namespace == "checkout" and match is not None and "public_id" in match.kwargs:
            return reverse("checkout:hosted", args=[match.kwargs["public_id"]])
        if namespace in ("staff", "admin"):
            return reverse("staff:home" if namespace == "staff" else "admin:index")
        if namespace == "shop":
            return reverse("shop:orders")
        return reverse("portal:dashboard")
    except NoReverseMatch:
        return "/"


def render_error_page(status: int, *, outcome_unknown: bool, history: str = "/") -> HttpResponse:
    template = "503.html" if status == 503 else "500.html"
    body = render_to_string(template, {"outcome_unknown": outcome_unknown, "history_url": history})
    response = HttpResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def api_error(status: int) -> JsonResponse:
    message = (
        "The service is briefly unavailable; retry with the same Idempotency-Key."
        if status == 503
        else "Something went wrong; retry with the same Idempotency-Key."
    )
    type_ = "service_unavailable" if status == 503 else "api_error"
    response = JsonResponse({"error": {"type": type_, "message": message}}, status=status)
    if status == 503:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def error_response(request: HttpRequest, status: int) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        return api_error(status)
    money = is_money_form(request)
    history = history_url(request)
    if getattr(request, "htmx", False) and money:
        # htmx does not swap a 5xx into the page, but it follows HX-Redirect:
        # the whole page becomes the explanation instead of nothing happening.
        response = HttpResponse(status=status)
        query = urlencode({"outcome": "unknown", "history": history})
        response["HX-Redirect"] = f"{reverse('unavailable')}?{query}"
        response["Cache-Control"] = "no-store"
        return response
    return render_error_page(status, outcome_unknown=money, history=history)


class DatabaseErrorsMiddleware:
    """Near the top of ``MIDDLEWARE`` so its ``process_exception`` runs last.

    allauth's (reauthentication) and the metrics' run first. Anything else is
    left to Django's handler, which renders the generic ``500.html``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unavailable(exception):
            status = 503
            logger.warning(
                "database unavailable: %s %s", request.method, request.path, exc_info=exception
            )
        elif becomes_server_error(exception) and is_money_form(request):
            status = 500
            logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        else:
            return None
        response = error_response(request, status)
        # Logged above, with the traceback; Django's own line would repeat it.
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response


def unavailable(request: HttpRequest) -> HttpResponse:
    """The page htmx money forms are sent to when their request failed (no database needed)."""
    history = request.GET.get("history", "/")
    if not history.startswith("/") or not url_has_allowed_host_and_scheme(history, None):
        history = "/"
    return render_error_page(
        503, outcome_unknown=request.GET.get("outcome") == "unknown", history=history
    )
