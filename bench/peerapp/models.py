"""dj-wallet's side of the benchmark, following its README (``WalletMixin``, ``ProductMixin``)."""

from decimal import Decimal
from typing import Any

from dj_wallet.mixins import ProductMixin, WalletMixin
from django.db import models


class PeerHolder(WalletMixin, models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class PeerProduct(ProductMixin, models.Model):
    """A product without a wallet: dj-wallet's ``pay`` withdraws the price (burns it)."""

    name = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return self.name

    def get_amount_product(self, customer: Any) -> Decimal:
        return self.price


class PeerShopProduct(WalletMixin, ProductMixin, models.Model):
    """A product with a wallet of its own: dj-wallet's ``pay`` transfers the price to it."""

    name = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return self.name

    def get_amount_product(self, customer: Any) -> Decimal:
        return self.price
