"""Webhook outbox metrics, read from the database when Prometheus scrapes.

Deliveries are made by the ``deliver_webhooks`` worker, a separate process whose
in-memory counters no web process can expose; the outbox table is the shared
truth, so every pod reports the same numbers (alert rules take ``max``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from django.db import DatabaseError
from django.db.models import Count, Min, Q
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Several Prometheus replicas may scrape every pod; the counts can be this old.
CACHE_SECONDS = 15.0


class WebhookOutboxCollector(Collector):
    def __init__(self) -> None:
        self._cached_at = float("-inf")
        self._cached: dict[str, float] | None = None

    def read(self) -> dict[str, float]:
        from shop.models import WebhookDelivery

        status = WebhookDelivery.Status
        now = timezone.now()
        # Delivered rows are left out: that set only grows and is not actionable.
        totals = WebhookDelivery.objects.filter(
            status__in=[status.PENDING, status.FAILED]
        ).aggregate(
            pending=Count("pk", filter=Q(status=status.PENDING)),
            retrying=Count("pk", filter=Q(status=status.PENDING, attempts__gt=0)),
            failed=Count("pk", filter=Q(status=status.FAILED)),
            oldest_due=Min("next_attempt_at", filter=Q(status=status.PENDING)),
        )
        oldest_due = totals.pop("oldest_due")
        due_for = (now - oldest_due).total_seconds() if oldest_due and oldest_due <= now else 0.0
        return {**{k: float(v) for k, v in totals.items()}, "oldest_due_seconds": due_for}

    def snapshot(self) -> dict[str, float] | None:
        if self._cached is not None and time.monotonic() - self._cached_at < CACHE_SECONDS:
            return self._cached
        try:
            self._cached = self.read()
        except DatabaseError:
            logger.warning("metrics: could not read the webhook outbox", exc_info=True)
            self._cached = None
        self._cached_at = time.monotonic()
        return self._cached

    def collect(self) -> Iterator[GaugeMetricFamily]:
        values = self.snapshot()
        yield GaugeMetricFamily(
            "portal_webhook_outbox_up",
            "1 when the webhook outbox could be read for these metrics.",
            value=0 if values is None else 1,
        )
        if values is None:
            return
        deliveries = GaugeMetricFamily(
            "portal_webhook_outbox_deliveries",
            "Webhook deliveries waiting (pending, of which retrying) or given up (failed).",
            labels=["status"],
        )
        for status in ("pending", "retrying", "failed"):
            deliveries.add_metric([status], values[status])
        yield deliveries
        yield GaugeMetricFamily(
            "portal_webhook_outbox_oldest_due_seconds",
            "How long the oldest due delivery has waited for the worker (0 if none).",
            value=values["oldest_due_seconds"],
        )


outbox_collector = WebhookOutboxCollector()
