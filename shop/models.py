import secrets
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from wallets.fields import AmountField
from wallets.mixins import ProductMixin, WalletMixin


def order_number() -> str:
    return f"ord_{secrets.token_hex(8)}"


def session_id() -> str:
    return f"cs_{secrets.token_urlsafe(24)}"


def event_id() -> str:
    return f"evt_{secrets.token_urlsafe(18)}"


def client_secret() -> str:
    return f"cs_secret_{secrets.token_urlsafe(24)}"


def webhook_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


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

    def can_buy(self, customer: Any, quantity: int = 1) -> bool:
        from shop.selectors import product_availability_problem

        return product_availability_problem(self, customer, quantity) is None

    def get_meta_product(self) -> dict:
        return {"product": self.pk, "name": self.name, "merchant": self.merchant_id}

    def get_product_recipient(self) -> Any:
        return merchant_wallet(self.merchant, self.unit)

    def after_purchase(self, customer: Any, quantity: int, transfer: Any) -> None:
        from shop.services import take_stock

        take_stock(self, quantity)

    @property
    def is_unlimited(self) -> bool:
        return self.stock is None


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
    wallet = models.ForeignKey("wallets.Wallet", on_delete=models.PROTECT, related_name="+")
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
        "wallets.Transfer", on_delete=models.PROTECT, related_name="order_line"
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


class MerchantOrigin(models.Model):
    """A web origin (scheme://host[:port]) allowed to embed the merchant's checkout."""

    merchant = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="checkout_origins"
    )
    origin = models.CharField(max_length=200)

    class Meta:
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
        "wallets.Transfer",
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
    # it, so the engine locks this row before the wallets and asks can_buy
    # under that lock.

    def get_amount_product(self, customer: Any) -> Decimal:
        return self.amount

    def can_buy(self, customer: Any, quantity: int = 1) -> bool:
        from shop.checkout.selectors import session_payable_problem

        return quantity == 1 and session_payable_problem(self) is None

    def get_meta_product(self) -> dict:
        return {"checkout_session": self.public_id, "merchant": self.merchant_id}

    def get_product_recipient(self) -> Any:
        return merchant_wallet(self.merchant, self.unit)

    def after_purchase(self, customer: Any, quantity: int, transfer: Any) -> None:
        from shop.checkout.services import record_session_payment

        record_session_payment(self, customer, transfer)


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
        constraints = [
            models.UniqueConstraint(fields=["event", "endpoint"], name="shop_delivery_unique")
        ]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint} ({self.status})"
