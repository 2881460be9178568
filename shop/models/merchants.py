"""A merchant's developer settings: embedding origins, API keys, webhook endpoints."""

from django.conf import settings
from django.db import models

from shop.models.catalog import Organization
from shop.models.ids import webhook_secret


class MerchantOrigin(models.Model):
    """A web origin (scheme://host[:port]) allowed to embed the merchant's checkout."""

    merchant = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="checkout_origins"
    )
    origin = models.CharField(max_length=200)

    class Meta:
        verbose_name = "allowed checkout origin"
        constraints = [
            models.UniqueConstraint(fields=["merchant", "origin"], name="shop_origin_unique")
        ]

    def __str__(self) -> str:
        return self.origin


class MerchantAPIKey(models.Model):
    """A secret key for the merchant's server. Only its SHA-256 is stored."""

    merchant = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=60, blank=True)
    prefix = models.CharField(max_length=16, unique=True)
    key_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "merchant API key"

    def __str__(self) -> str:
        return f"sk_{self.prefix}_…"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class WebhookEndpoint(models.Model):
    merchant = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.URLField(max_length=500)
    # Kept in clear: signing needs it. It only lets someone forge events to
    # the merchant, never move money here.
    secret = models.CharField(max_length=80, default=webhook_secret)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.url
