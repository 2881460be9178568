"""Webhook outbox gauges, read from the database at scrape time."""

from datetime import timedelta

import pytest
from django.db import DatabaseError
from django.utils import timezone

from portal.ops.outbox import WebhookOutboxCollector
from shop.models import Organization, WebhookDelivery, WebhookEndpoint
from shop.webhooks import emit_event

TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture
def deliveries(db):
    merchant = Organization.objects.create(name="Hooks", slug="ops-hooks", kind="merchant")
    for n in range(3):
        WebhookEndpoint.objects.create(merchant=merchant, url=f"https://hooks{n}.example.com/")
    for n in range(2):
        emit_event(merchant, "payment.succeeded", {"n": n})
    rows = list(WebhookDelivery.objects.order_by("pk"))
    assert len(rows) == 6
    now = timezone.now()
    Status = WebhookDelivery.Status
    # Two delivered, two given up, one retrying (due 5 minutes ago), one new (not yet due).
    WebhookDelivery.objects.filter(pk__in=[rows[0].pk, rows[1].pk]).update(
        status=Status.DELIVERED, attempts=1
    )
    WebhookDelivery.objects.filter(pk__in=[rows[2].pk, rows[3].pk]).update(
        status=Status.FAILED, attempts=9
    )
    WebhookDelivery.objects.filter(pk=rows[4].pk).update(
        attempts=2, next_attempt_at=now - timedelta(minutes=5)
    )
    WebhookDelivery.objects.filter(pk=rows[5].pk).update(next_attempt_at=now + timedelta(minutes=1))
    return rows


def samples(collector) -> dict[tuple, float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in collector.collect()
        for sample in family.samples
    }


def test_the_outbox_is_counted_by_status(deliveries):
    values = samples(WebhookOutboxCollector())
    assert values[("portal_webhook_outbox_up", ())] == 1
    assert values[("portal_webhook_outbox_deliveries", (("status", "pending"),))] == 2
    assert values[("portal_webhook_outbox_deliveries", (("status", "retrying"),))] == 1
    assert values[("portal_webhook_outbox_deliveries", (("status", "failed"),))] == 2
    oldest = values[("portal_webhook_outbox_oldest_due_seconds", ())]
    assert 5 * 60 <= oldest < 60 * 60


def test_an_empty_outbox_reports_zeros(db):
    values = samples(WebhookOutboxCollector())
    assert values[("portal_webhook_outbox_deliveries", (("status", "failed"),))] == 0
    assert values[("portal_webhook_outbox_oldest_due_seconds", ())] == 0


def test_an_unreadable_outbox_reports_down_instead_of_failing(monkeypatch):
    collector = WebhookOutboxCollector()

    def unreachable():
        raise DatabaseError("connection refused")

    monkeypatch.setattr(collector, "read", unreachable)
    values = samples(collector)
    assert values == {("portal_webhook_outbox_up", ()): 0}


def test_repeated_scrapes_reuse_a_recent_reading(deliveries, django_assert_num_queries):
    collector = WebhookOutboxCollector()
    with django_assert_num_queries(1):
        first = samples(collector)
        second = samples(collector)
    assert first == second


def test_the_metrics_endpoint_includes_the_outbox(client, settings, deliveries, monkeypatch):
    from portal.ops import outbox

    monkeypatch.setattr(outbox, "outbox_collector", WebhookOutboxCollector())
    settings.METRICS_TOKEN = TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    body = response.content.decode()
    assert 'portal_webhook_outbox_deliveries{status="failed"} 2.0' in body
    assert "portal_http_requests_total" in body
