"""Our engine's side of the benchmark: a holder and a product paid to a merchant.

The tables are created with ``migrate --run-syncdb`` in the benchmark's own
database, so these apps carry no migrations."""

from decimal import Decimal
from typing import Any

from django.db import models

from wallets.mixins import ProductMixin, WalletMixin


class Holder(WalletMixin, models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Product(ProductMixin, models.Model):
    """A product without a wallet of its own whose price goes to a merchant's wallet."""

    name = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    merchant = models.ForeignKey(Holder, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return self.name

    def get_amount_product(self, customer: Any) -> Decimal:
        return self.price

    def get_product_recipient(self) -> Holder:
        return self.merchant


class WalletlessProduct(ProductMixin, models.Model):
    """A product that names no recipient, like dj-wallet's README example: paying
    charges the buyer, recorded as a purchase that names the product."""

    name = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return self.name

    def get_amount_product(self, customer: Any) -> Decimal:
        return self.price
