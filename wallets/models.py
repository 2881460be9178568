from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from wallets.abstract_models import (
    AbstractIdempotencyRecord,
    AbstractTransaction,
    AbstractTransfer,
    AbstractWallet,
    ImmutableRowError,
    LedgerRow,
)
from wallets.fields import AmountField
from wallets.uuids import time_ordered_uuid


class Wallet(AbstractWallet):
    class Meta(AbstractWallet.Meta):
        swappable = "WALLETS_WALLET_MODEL"


class Transaction(AbstractTransaction):
    class Meta(AbstractTransaction.Meta):
        swappable = "WALLETS_TRANSACTION_MODEL"


class Transfer(AbstractTransfer):
    class Meta(AbstractTransfer.Meta):
        swappable = "WALLETS_TRANSFER_MODEL"


class IdempotencyRecord(AbstractIdempotencyRecord):
    class Meta(AbstractIdempotencyRecord.Meta):
        pass


class AuditQuerySet(models.QuerySet):
    """The audit log is append-only: bulk edits and deletes are refused too."""

    def update(self, **kwargs):
        raise ImmutableRowError("Audit entries are never edited.")

    def delete(self):
        raise ImmutableRowError("Audit entries are never deleted.")


class AuditEntry(models.Model):
    """One staff action on the ledger, written in the same transaction as the change."""

    class Action(models.TextChoices):
        FREEZE = "freeze", "Freeze wallet"
        UNFREEZE = "unfreeze", "Unfreeze wallet"
        CONFIRM = "confirm", "Confirm pending transaction"
        REJECT = "reject", "Reject pending transaction"
        REVERSE = "reverse", "Reverse transaction"
        REFUND_TRANSFER = "refund_transfer", "Refund transfer"
        REFUND_ORDER = "refund_order", "Refund order"
        CREDIT = "credit", "Manual credit"
        DEBIT = "debit", "Manual debit"
        RELEASE_HOLD = "release_hold", "Release held transfer"
        REJECT_HOLD = "reject_hold", "Reject held transfer"
        RENAME = "rename", "Rename wallet"
        CREDIT_LIMIT = "credit_limit", "Set credit limit"
        REFUND_PURCHASE = "refund_purchase", "Refund purchase"

    uuid = models.UUIDField(default=time_ordered_uuid, unique=True, editable=False)
    # Kept after the user is gone: the label below still says who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=254)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True)
    target_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    target_id = models.CharField(max_length=64)
    target = GenericForeignKey("target_type", "target_id")
    target_uuid = models.CharField(max_length=64, blank=True, db_index=True)
    target_label = models.CharField(max_length=200, blank=True)
    reason = models.TextField()
    amount = AmountField(null=True, blank=True)
    unit = models.CharField(max_length=16, blank=True)
    # Balances, holds and states as strings, so the row reads the same on every database.
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["target_type", "target_id"], name="wallets_audit_target")]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="wallets_audit_idempotency",
            )
        ]
        permissions = [("export_auditentry", "Can export the audit log")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_label} by {self.actor_label}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ImmutableRowError("Audit entries are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRowError("Audit entries are never deleted.")


class RiskRule(models.Model):
    """Limits on outgoing transfers, for one holder, a kind of holder, or everyone.

    Empty scope fields match everything; empty limits are not checked. A breach
    either refuses the transfer or holds its amount as a pending withdrawal for
    staff review (see ``wallets.risk``).
    """

    class OnBreach(models.TextChoices):
        REFUSE = "refuse", "Refuse the transfer"
        HOLD = "hold", "Hold it for staff review"

    name = models.CharField(max_length=100)
    holder_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    holder_id = models.CharField(
        max_length=64, blank=True, help_text="Empty: every holder of the type."
    )
    unit = models.CharField(max_length=16, blank=True, help_text="Empty: every unit.")
    max_single = AmountField(null=True, blank=True, help_text="Largest single transfer.")
    max_daily_total = AmountField(
        null=True, blank=True, help_text="Most sent in total over the last 24 hours."
    )
    max_per_hour = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most transfers sent over the last hour."
    )
    on_breach = models.CharField(max_length=16, choices=OnBreach.choices, default=OnBreach.REFUSE)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.max_single is None and self.max_daily_total is None and self.max_per_hour is None:
            raise ValidationError("Set at least one limit.")
        if self.holder_id and self.holder_type_id is None:
            raise ValidationError({"holder_type": "Choose the holder's type for a holder id."})


class TransferHold(LedgerRow):
    """A transfer that a risk rule held for review.

    Its amount is reserved on the source by a pending withdrawal
    (``reservation``), so the source's ``held`` covers it. Staff release it
    (the reservation becomes the transfer's source leg) or reject it; the
    holder may cancel it; it expires with its reservation.
    """

    class State(models.TextChoices):
        HELD = "held", "Held for review"
        RELEASED = "released", "Released"
        REJECTED = "rejected", "Rejected"
        CANCELED = "canceled", "Canceled"
        EXPIRED = "expired", "Expired"

    STATE_FIELDS = frozenset({"state", "transfer", "decided_by", "decided_at", "decision_note"})
    ROW_NAME = "Transfer holds"

    uuid = models.UUIDField(default=time_ordered_uuid, unique=True, editable=False)
    from_wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL, on_delete=models.PROTECT, related_name="transfer_holds_out"
    )
    to_wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL, on_delete=models.PROTECT, related_name="transfer_holds_in"
    )
    amount = AmountField()
    reservation = models.OneToOneField(
        settings.WALLETS_TRANSACTION_MODEL, on_delete=models.PROTECT, related_name="transfer_hold"
    )
    rule = models.ForeignKey(
        RiskRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="holds"
    )
    # Kept as text: rules from the risk_check signal have no row, and rows change.
    rule_name = models.CharField(max_length=100)
    message = models.TextField(help_text="Why the rule held the transfer.")
    meta = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.HELD)
    transfer = models.OneToOneField(
        settings.WALLETS_TRANSFER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="released_hold",
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"], name="wallets_hold_state")]

    def __str__(self) -> str:
        return f"Held transfer {self.amount} {self.uuid}"

    @property
    def is_open(self) -> bool:
        return self.state == self.State.HELD


class Purchase(LedgerRow):
    """A payment for a product that no wallet receives: the buyer is charged.

    It names the product (content type and primary key, and its text as it
    was), the quantity and unit price; ``withdraw`` is the buyer's ledger row.
    Refunds credit the buyer back, in full or in part, never more than paid.
    """

    STATE_FIELDS = frozenset({"refunded_amount", "refund_state"})
    ROW_NAME = "Purchases"

    uuid = models.UUIDField(default=time_ordered_uuid, unique=True, editable=False)
    wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL,
        on_delete=models.PROTECT,
        related_name="purchases",
        db_index=False,
    )
    withdraw = models.OneToOneField(
        settings.WALLETS_TRANSACTION_MODEL, on_delete=models.PROTECT, related_name="purchase"
    )
    kind = models.CharField(max_length=16, choices=Transfer.Kind.choices, default="paid")
    # Indexed by wallets_purchase_product, which starts with it: every payment
    # writes each index, so none is kept twice.
    product_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    product_id = models.CharField(max_length=64, blank=True)
    product = GenericForeignKey("product_type", "product_id")
    product_label = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = AmountField()
    amount = AmountField()
    refunded_amount = AmountField(default=0)
    refund_state = models.CharField(
        max_length=16,
        choices=Transfer.RefundState.choices,
        default=Transfer.RefundState.NONE,
    )
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["wallet", "-created_at"], name="wallets_purchase_wallet"),
            models.Index(fields=["product_type", "product_id"], name="wallets_purchase_product"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.product_label}"

    @property
    def refundable(self):
        return self.amount - self.refunded_amount


# Fees live in a module of their own; imported here so Django registers them.
from wallets.fee_models import FeeCharge, FeePolicy  # noqa: E402, F401
