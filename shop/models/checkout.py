"""Checkout sessions: payments a merchant's server asks for, paid here once."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models

from shop.models.catalog import Organization, merchant_wallet
from shop.models.ids import client_secret, session_id
from shop.models.merchants import MerchantAPIKey
from wallets.fields import AmountField
from wallets.mixins import ProductMixin


class CheckoutSession(ProductMixin, models.Model):
    """A payment a merchant's server asks for; the customer pays it here once."""

    class Mode(models.TextChoices):
        HOSTED = "hosted", "Hosted"
        EMBEDDED = "embedded", "Embedded"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        COMPLETE = "complete", "Complete"
        EXPIRED = "expired", "Expired"

    public_id = models.CharField(max_length=64, unique=True, default=session_id)
    merchant = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="checkout_sessions"
    )
    api_key = models.ForeignKey(
        MerchantAPIKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    amount = AmountField()
    unit = models.CharField(max_length=16)
    description = models.CharField(max_length=300, blank=True)
    line_items = models.JSONField(default=list, blank=True)
    client_reference_id = models.CharField(max_length=200, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.HOSTED)
    success_url = models.URLField(max_length=500)
    cancel_url = models.URLField(max_length=500)
    embed_origin = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    expires_at = models.DateTimeField()
    # Lets the merchant page show the read-only summary in the iframe; it can
    # never move money, so it is kept in clear and returned on retries.
    client_secret = models.CharField(max_length=80, default=client_secret)
    idempotency_key = models.CharField(max_length=200, blank=True)
    request_fingerprint = models.CharField(max_length=64, blank=True)
    payment = models.OneToOneField(
        settings.WALLETS_TRANSFER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="checkout_session",
    )
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="shop_checkout_idempotency",
            )
        ]

    def __str__(self) -> str:
        return self.public_id

    # The wallet engine's product protocol: paying a session is a purchase of
    # it, so the engine locks this row before the wallets and asks
    # purchase_refusal under that lock. Recording the payment is the caller's
    # job (shop.checkout.services.payments), not a model hook.

    def get_amount_product(self, customer: Any) -> Decimal:
        return self.amount

    def purchase_refusal(self, customer: Any, quantity: int = 1) -> str | None:
        from shop.checkout.selectors import session_payable_problem

        if quantity != 1:
            return "A checkout is paid once, as a whole."
        return session_payable_problem(self)

    def can_buy(self, customer: Any, quantity: int = 1) -> bool:
        return self.purchase_refusal(customer, quantity) is None

    def get_meta_product(self) -> dict:
        return {"checkout_session": self.public_id, "merchant": self.merchant_id}

    def get_product_recipient(self) -> Any:
        return merchant_wallet(self.merchant, self.unit)
