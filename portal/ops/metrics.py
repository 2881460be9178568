"""Prometheus metrics: HTTP requests, wallet operations, webhook deliveries.

With several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (``gunicorn.conf.py``
prepares and cleans it) so ``/metrics`` sums every worker rather than whichever
one answered the scrape.
"""

from __future__ import annotations

import hmac
import os
import time
from collections import Counter as Tally
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from wallets.exceptions import WalletError

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Management commands (migrate, cron jobs) share the environment of the web
    # pods but start before gunicorn creates the directory.
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

HTTP_REQUESTS = Counter(
    "portal_http_requests_total",
    "HTTP requests served, by method, view and status code.",
    ["method", "view", "status"],
)
HTTP_LATENCY = Histogram(
    "portal_http_request_duration_seconds",
    "Time spent serving a request, by method and view.",
    ["method", "view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
HTTP_EXCEPTIONS = Counter(
    "portal_http_exceptions_total",
    "Unhandled exceptions raised by views, by exception class.",
    ["exception"],
)
WALLET_OPERATIONS = Counter(
    "portal_wallet_operations_total",
    "Wallet operations by kind (transfer, paid, gift, exchange, refund, confirm, deposit, "
    "withdraw, ...) and outcome (completed, confirmed, or the error class on failure).",
    ["kind", "outcome"],
)
WALLET_TRANSACTIONS = Counter(
    "portal_wallet_transactions_total",
    "Ledger rows written (transfer legs included), by type and state.",
    ["type", "state"],
)
WEBHOOK_DELIVERIES = Counter(
    "portal_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (delivered, failed, gave_up).",
    ["outcome"],
)

# Scrapes and probes would swamp the request metrics they are meant to read.
UNMEASURED_PATHS = frozenset({"/metrics", "/healthz", "/readyz"})


def record_wallet_operation(kind: str, outcome: str) -> None:
    """Count a wallet operation; views call it with the error class name when one fails."""
    WALLET_OPERATIONS.labels(kind=kind, outcome=outcome).inc()


@contextmanager
def count_wallet_failures(kind: str) -> Iterator[None]:
    """Count a wallet error raised in the block as ``kind`` failing with its class name.

    Successes are already counted from the engine's after-commit signals, so a
    view wraps its service call: ``with count_wallet_failures("transfer"): ...``.
    """
    try:
        yield
    except WalletError as error:
        record_wallet_operation(kind, type(error).__name__)
        raise


def record_webhook_delivery(outcome: str) -> None:
    """Count a webhook delivery attempt: ``delivered``, ``failed`` (will retry) or ``gave_up``."""
    WEBHOOK_DELIVERIES.labels(outcome=outcome).inc()


def record_webhook_failure() -> None:
    """Shorthand for ``record_webhook_delivery("failed")``."""
    record_webhook_delivery("failed")


def count_operation_committed(
    sender: type, transactions: list[Any], transfers: list[Any], **kwargs: Any
) -> None:
    """Count an operation's new transactions by type and state, and its transfers by kind."""
    for (type_, state), count in Tally((tx.type, tx.state) for tx in transactions).items():
        WALLET_TRANSACTIONS.labels(type=type_, state=state).inc(count)
    for kind, count in Tally(str(transfer.kind) for transfer in transfers).items():
        WALLET_OPERATIONS.labels(kind=kind, outcome="completed").inc(count)


def count_transaction_confirmed(sender: type, transaction: Any, **kwargs: Any) -> None:
    record_wallet_operation("confirm", "confirmed")


def view_label(request: HttpRequest) -> str:
    """A bounded label: the URL pattern's name, never the raw path (ids would explode it)."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unresolved>"
    return match.view_name or match.route or "<unnamed>"


class RequestMetricsMiddleware:
    """Counts and times every request except scrapes and probes."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info in UNMEASURED_PATHS:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        view = view_label(request)
        HTTP_LATENCY.labels(method=request.method, view=view).observe(time.perf_counter() - started)
        HTTP_REQUESTS.labels(method=request.method, view=view, status=response.status_code).inc()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        HTTP_EXCEPTIONS.labels(exception=type(exception).__name__).inc()


def bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for a scraper holding ``METRICS_TOKEN``.

    Without a configured token the endpoint does not exist (404); a wrong or
    missing bearer token gets 403.
    """
    expected = getattr(settings, "METRICS_TOKEN", "")
    if not expected:
        return HttpResponseNotFound("Not found.\n", content_type="text/plain")
    if not hmac.compare_digest(bearer_token(request).encode(), expected.encode()):
        return HttpResponseForbidden("Forbidden.\n", content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    from portal.ops.outbox import outbox_collector

    database = CollectorRegistry(auto_describe=False)
    database.register(outbox_collector)
    body = generate_latest(registry) + generate_latest(database)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
