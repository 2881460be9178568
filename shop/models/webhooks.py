"""The webhook outbox: events written in the transaction that caused them, and deliveries."""

from django.db import models
from django.utils import timezone

from shop.models.catalog import Organization
from shop.models.ids import event_id
from shop.models.merchants import WebhookEndpoint


class WebhookEvent(models.Model):
    """The outbox: written in the transaction that caused the event."""

    public_id = models.CharField(max_length=64, unique=True, default=event_id)
    merchant = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="webhook_events"
    )
    type = models.CharField(max_length=60)
    # The exact bytes that are signed and sent.
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.public_id} {self.type}"


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="shop_delivery_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint} ({self.status})"
