"""The webhook outbox: events written with their cause, delivered by a command."""

from __future__ import annotations

import http.client
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from shop import webhook_signature, webhook_transport
from shop.exceptions import NotAllowed
from shop.models import Organization, WebhookDelivery, WebhookEndpoint, WebhookEvent
from shop.selectors import can_manage_merchant
from shop.webhook_targets import WebhookURLInvalid, check_url, checked_address, parse_target

logger = logging.getLogger(__name__)

# Seconds to wait after the n-th failed attempt; after the last one it is failed.
BACKOFF_SECONDS = (30, 120, 600, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600)
# A claimed delivery is retried by another worker if this one dies mid-request.
LEASE_SECONDS = 60
# What merchants are told when no status came back. The reason (refused
# address, connection refused, timeout, TLS) stays in our logs: telling it
# would let the developers page probe what answers where.
NO_RESPONSE = "No HTTP response."
ADDRESS_REFUSED = "Not sent: the host does not resolve to a public address."


def add_endpoint(merchant: Organization, url: str, by: Any) -> WebhookEndpoint:
    """Register a URL after checking it and every address its host resolves to.

    A name that does not resolve yet is accepted; each delivery checks it again.
    """
    if not getattr(by, "is_staff", False) and not can_manage_merchant(by, merchant):
        raise NotAllowed("Only the merchant's managers can add webhook endpoints.")
    check_url(url, allow_unresolved=True)
    return WebhookEndpoint.objects.create(merchant=merchant, url=url)


def emit_event(merchant: Organization, type: str, obj: dict[str, Any]) -> WebhookEvent:
    """Write an event and its deliveries. Call it inside the transaction of the
    change it reports, so both commit or neither does."""
    event = WebhookEvent(merchant=merchant, type=type)
    event.body = json.dumps(
        {
            "id": event.public_id,
            "object": "event",
            "type": type,
            "created": int(timezone.now().timestamp()),
            "data": {"object": obj},
        },
        separators=(",", ":"),
        sort_keys=True,
    )
    event.save()
    WebhookDelivery.objects.bulk_create(
        WebhookDelivery(event=event, endpoint=endpoint)
        for endpoint in merchant.webhook_endpoints.filter(is_active=True)
    )
    return event


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _claim(now, limit: int) -> list[int]:
    """Take due deliveries for this worker; others skip the rows we hold."""
    with transaction.atomic():
        due = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        ids = list(due)
        WebhookDelivery.objects.filter(pk__in=ids).update(
            next_attempt_at=now + timedelta(seconds=LEASE_SECONDS)
        )
    return ids


def post_signed(url: str, secret: str, body: str, timeout: float) -> int:
    """POST ``body`` with its signature; returns the HTTP status, redirects not followed.

    The URL is checked again and its host resolved now (a DNS answer may have
    changed since registration); the connection goes to the address checked.
    Raises WebhookURLInvalid (or WebhookAddressRefused) when the URL may not
    be used any more, OSError or http.client.HTTPException when nothing valid
    came back.
    """
    target = parse_target(url)
    address = checked_address(target)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "wallet-portal-webhooks/1",
        webhook_signature.HEADER: webhook_signature.sign(secret, body),
    }
    return webhook_transport.post(target, address, body.encode(), headers, timeout)


def deliver_due(limit: int = 100, timeout: float = 10.0) -> DeliveryReport:
    """One pass: send every due delivery once, schedule retries with back-off."""
    report = DeliveryReport()
    now = timezone.now()
    for pk in _claim(now, limit):
        delivery = WebhookDelivery.objects.select_related("event", "endpoint").get(pk=pk)
        status_code: int | None = None
        error = ""
        try:
            status_code = post_signed(
                delivery.endpoint.url, delivery.endpoint.secret, delivery.event.body, timeout
            )
        except WebhookURLInvalid as exc:
            error = ADDRESS_REFUSED
            logger.warning("webhook %s refused: %s", delivery.endpoint.url, exc.message)
        except (OSError, http.client.HTTPException) as exc:
            error = NO_RESPONSE
            logger.info("webhook %s: no response (%r)", delivery.endpoint.url, exc)
        attempts = delivery.attempts + 1
        fields: dict[str, Any] = {
            "attempts": attempts,
            "last_attempt_at": timezone.now(),
            "last_status_code": status_code,
            "last_error": error,
        }
        if status_code is not None and 200 <= status_code < 300:
            fields.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=timezone.now())
            report.delivered += 1
        elif attempts > len(BACKOFF_SECONDS):
            fields.update(status=WebhookDelivery.Status.FAILED)
            report.failed += 1
        else:
            if not error:
                fields["last_error"] = f"HTTP {status_code}"
            fields["next_attempt_at"] = timezone.now() + timedelta(
                seconds=BACKOFF_SECONDS[attempts - 1]
            )
            report.retrying += 1
        WebhookDelivery.objects.filter(pk=pk).update(**fields)
        logger.info("webhook %s to %s: %s", delivery.event.public_id, delivery.endpoint.url, fields)
    return report


def retry_now(delivery: WebhookDelivery, by: Any) -> None:
    """Let a merchant resend a failed or waiting delivery at once."""
    if not getattr(by, "is_staff", False) and not can_manage_merchant(
        by, delivery.endpoint.merchant_id
    ):
        raise NotAllowed("Only the merchant's managers can resend webhooks.")
    WebhookDelivery.objects.filter(pk=delivery.pk).exclude(
        status=WebhookDelivery.Status.DELIVERED
    ).update(status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now())
