"""Holders with integer, UUID and string keys, and a product with stock."""

import uuid

from django.contrib.auth.models import (
    AbstractBaseUser,
    Group,
    Permission,
    PermissionsMixin,
    UserManager,
)
from django.db import models
from django.db.models import F

from wallets.abstract_models import AbstractWallet
from wallets.mixins import ProductMixin, WalletMixin


class Person(WalletMixin, AbstractBaseUser, PermissionsMixin):
    """The user model of the engine-only test settings (tests.engine_settings),
    where neither the portal nor the shop is installed."""

    username = models.CharField(max_length=150, unique=True)
    email = models.EmailField(blank=True)
    is_staff = models.BooleanField(default=False)
    # Hidden reverse names, so this model can sit beside the portal's user.
    groups = models.ManyToManyField(Group, blank=True, related_name="+")
    user_permissions = models.ManyToManyField(Permission, blank=True, related_name="+")

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    def __str__(self) -> str:
        return self.username


class Club(WalletMixin, models.Model):
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Org(WalletMixin, models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name


class Tag(WalletMixin, models.Model):
    code = models.CharField(max_length=20, primary_key=True)

    def __str__(self) -> str:
        return self.code


class Item(ProductMixin, models.Model):
    name = models.CharField(max_length=50)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    stock = models.IntegerField(null=True, blank=True)  # None: unlimited
    seller = models.ForeignKey(Org, on_delete=models.PROTECT)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.name

    def get_amount_product(self, customer):
        return self.price

    def can_buy(self, customer, quantity=1):
        return self.active and (self.stock is None or self.stock >= quantity)

    def get_meta_product(self):
        return {"item": self.pk, "name": self.name}

    def get_product_recipient(self):
        return self.seller

    def after_purchase(self, customer, quantity, transfer):
        if self.stock is not None:
            Item.objects.filter(pk=self.pk).update(stock=F("stock") - quantity)


class Voucher(WalletMixin, ProductMixin, models.Model):
    """A product that is its own wallet holder: payments go to its wallet."""

    name = models.CharField(max_length=50)

    def __str__(self) -> str:
        return self.name

    def get_amount_product(self, customer):
        return "2.50"


class TaxWallet(AbstractWallet):
    """A project's own wallet model, extending the engine's abstract one."""

    tax_exempt = models.BooleanField(default=False)


class DigitalCourse(ProductMixin, models.Model):
    """The dj-wallet README's example product, verbatim: it holds no wallet and
    names no recipient, so paying for it charges the buyer."""

    title = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)

    def __str__(self) -> str:
        return self.title

    def get_amount_product(self, customer):
        """REQUIRED: Return the price for this specific customer."""
        return self.price

    def can_buy(self, customer, quantity=1):
        """OPTIONAL: Check inventory or eligibility (default: True)."""
        return True

    def get_meta_product(self):
        """OPTIONAL: Add transaction metadata (default: {})."""
        return {"course_id": self.id}


class Workshop(ProductMixin, models.Model):
    """A product without a wallet whose seats run out: can_buy under its lock."""

    title = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    seats = models.PositiveIntegerField()

    def __str__(self) -> str:
        return self.title

    def get_amount_product(self, customer):
        return self.price

    def can_buy(self, customer, quantity=1):
        return self.seats >= quantity

    def after_purchase(self, customer, quantity, purchase):
        Workshop.objects.filter(pk=self.pk).update(seats=F("seats") - quantity)
