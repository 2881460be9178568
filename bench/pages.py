"""The pages whose cost must not grow with a wallet's history: the holder's wallet
page, the staff dashboard and the start of the history's CSV export.

Each is requested through ``django.test.Client`` as the portal serves it; the
database time is the sum of the statements' durations (an execute wrapper),
and every figure is the median of the repeats.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from django.core.signals import request_finished
from django.db import close_old_connections, connection
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django_htmx.middleware import HtmxDetails

from bench.counting import QueryTimer

# The export's first rows: one chunk of the streamed query (portal.tables.EXPORT_CHUNK).
EXPORT_ROWS = 500


@dataclass
class PageFigures:
    """One page's figures in its median request."""

    db_ms: float | None = None
    wall_ms: float | None = None
    queries: int | None = None
    status: str = ""
    # The slowest statement of the median request (for whoever makes it faster).
    slowest_ms: float | None = None
    slowest_sql: str = ""

    def as_dict(self) -> dict:
        return {key: (round(v, 3) if isinstance(v, float) else v) for key, v in vars(self).items()}


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _measured(request: Any, repeats: int) -> PageFigures:
    """``request()`` (which returns the status) once to warm up, then ``repeats`` times."""
    figures = PageFigures()
    timers, wall = [], []
    try:
        request()  # warm: templates, caches
        for _ in range(repeats):
            with QueryTimer(connection) as timer:
                started = time.perf_counter()
                figures.status = str(request())
                wall.append(time.perf_counter() - started)
            timers.append(timer)
    except Exception as error:
        figures.status = f"error: {type(error).__name__}: {error}"
        return figures
    median = sorted(timers, key=lambda t: t.seconds)[len(timers) // 2]
    figures.db_ms = median.seconds * 1000
    figures.wall_ms = statistics.median(wall) * 1000
    figures.queries = max(t.queries for t in timers)
    figures.slowest_ms = median.slowest[0] * 1000
    figures.slowest_sql = " ".join(median.slowest[1].split())[:300]
    return figures


def wallet_page(holder: Any, wallet: Any, repeats: int) -> PageFigures:
    """GET /wallets/<uuid>/ as the wallet's holder: history rows, counts, chart."""
    client = _client(holder)
    url = reverse("portal:wallet", kwargs={"wallet_uuid": wallet.uuid})
    return _measured(lambda: client.get(url).status_code, repeats)


def staff_dashboard(staff: Any, repeats: int) -> PageFigures:
    """The staff dashboard in the admin: totals per unit, queues, the last day's transfers."""
    client = _client(staff)
    url = reverse("admin:wallets_dashboard")
    return _measured(lambda: client.get(url).status_code, repeats)


def export_start(holder: Any, wallet: Any, repeats: int) -> tuple[PageFigures, int]:
    """The wallet's CSV export (``?_export=csv``) up to its first ``EXPORT_ROWS`` rows:
    how soon a download of any length starts. Also returns how many rows came.

    The view is called directly (as the holder), so the streamed response can be
    closed after those rows without the test client's end-of-request handling."""
    url = reverse("portal:wallet", kwargs={"wallet_uuid": wallet.uuid})
    got = 0

    def first_rows() -> int:
        nonlocal got
        response = export_response(holder, url)
        lines = 0
        try:
            for chunk in response.streaming_content:
                lines += chunk.count(b"\n")
                if lines > EXPORT_ROWS:  # the header and the rows
                    break
        finally:
            close_keeping_connections(response)
        got = min(lines - 1, EXPORT_ROWS)
        return response.status_code

    return _measured(first_rows, repeats), got


def export_response(user: Any, url: str) -> Any:
    """The response of the wallet page's view to ``url?_export=csv`` for ``user``."""
    request = RequestFactory().get(url, {"_export": "csv"})
    request.user = user
    request.htmx = HtmxDetails(request)
    match = resolve(url)
    return match.func(request, *match.args, **match.kwargs)


def close_keeping_connections(response: Any) -> None:
    """End a streamed response read in part: closing it finishes the request,
    which must not also close the database connection the next one reuses
    (the test client does the same for the responses it reads)."""
    request_finished.disconnect(close_old_connections)
    try:
        response.close()
    finally:
        request_finished.connect(close_old_connections)
