"""Organizations (teams and merchants), their members, and the products merchants sell."""

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models

from wallets.fields import AmountField
from wallets.mixins import ProductMixin, WalletMixin


class Organization(WalletMixin, models.Model):
    """A team or a merchant: a wallet holder with members."""

    class Kind(models.TextChoices):
        TEAM = "team", "Team"
        MERCHANT = "merchant", "Merchant"

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.TEAM)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="organizations"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MANAGER = "manager", "Manager"
        MEMBER = "member", "Member"

    # Roles that may move the organization's money; members may only look.
    SPENDING_ROLES = frozenset({Role.OWNER, Role.MANAGER})

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="shop_membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.role}) in {self.organization}"

    @property
    def can_spend(self) -> bool:
        return self.role in self.SPENDING_ROLES


def merchant_wallet(merchant: Organization, unit: str):
    """The merchant's wallet that receives payments in ``unit``.

    The default wallet when it holds that unit, otherwise a wallet named after
    the unit, opened on first sale.
    """
    # Not the cached ``merchant.wallet``: a wallet opened inside a payment that
    # rolled back must not be reused from a long-lived instance.
    default = merchant.get_wallet()
    if default.unit == unit:
        return default
    existing = merchant.get_wallets().filter(unit=unit).order_by("pk").first()
    if existing is not None:
        return existing
    return merchant.get_wallet(unit.lower(), unit=unit, name=f"{unit} sales")


class Product(ProductMixin, models.Model):
    """Something a merchant sells for a price in one unit (USD, PTS, ...)."""

    merchant = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="products",
        limit_choices_to={"kind": Organization.Kind.MERCHANT},
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=60, blank=True, db_index=True)
    image = models.FileField(upload_to="products/", blank=True)
    price = AmountField()
    unit = models.CharField(max_length=16, default="USD")
    # Members of the merchant pay this percentage less (0 = no discount).
    member_discount_percent = models.PositiveSmallIntegerField(default=0)
    stock = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    is_active = models.BooleanField(default=True)
    is_digital = models.BooleanField(
        default=False, help_text="Digital products are bought at most once per customer."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "slug"], name="shop_product_slug"),
            models.CheckConstraint(
                condition=models.Q(member_discount_percent__lte=100),
                name="shop_product_discount_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    # The wallet engine's product protocol; the rules live in shop.selectors.

    def get_amount_product(self, customer: Any) -> Decimal:
        from shop.selectors import price_for

        return price_for(self, customer)

    def purchase_refusal(self, customer: Any, quantity: int = 1) -> str | None:
        # Asked by the engine under this row's lock; the text reaches the buyer.
        from shop.selectors import product_availability_problem

        return product_availability_problem(self, customer, quantity)

    def can_buy(self, customer: Any, quantity: int = 1) -> bool:
        return self.purchase_refusal(customer, quantity) is None

    def get_meta_product(self) -> dict:
        return {"product": self.pk, "name": self.name, "merchant": self.merchant_id}

    def get_product_recipient(self) -> Any:
        return merchant_wallet(self.merchant, self.unit)

    @property
    def is_unlimited(self) -> bool:
        return self.stock is None
