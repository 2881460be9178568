"""Paid carts: an order and its lines, each line one engine transfer."""

from django.conf import settings
from django.db import models

from shop.models.catalog import Organization, Product
from shop.models.ids import order_number
from wallets.fields import AmountField


class Order(models.Model):
    """A paid cart: one engine payment, one transfer per line."""

    class Status(models.TextChoices):
        PAID = "paid", "Paid"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
        REFUNDED = "refunded", "Refunded"

    number = models.CharField(max_length=32, unique=True, default=order_number)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.CharField(max_length=16)
    total = AmountField()
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.PAID)
    idempotency_key = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["buyer", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="shop_order_idempotency",
            )
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="order_lines")
    merchant = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField(max_length=120)
    quantity = models.PositiveIntegerField()
    unit_price = AmountField()
    amount = AmountField()
    transfer = models.OneToOneField(
        settings.WALLETS_TRANSFER_MODEL, on_delete=models.PROTECT, related_name="order_line"
    )
    refunded_quantity = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(refunded_quantity__lte=models.F("quantity")),
                name="shop_orderline_refund_le_quantity",
            )
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_name}"

    @property
    def refundable_quantity(self) -> int:
        return self.quantity - self.refunded_quantity
