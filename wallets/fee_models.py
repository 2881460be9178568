"""Fee policies (configuration) and fee charges (ledger rows); see ``wallets.fees``."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from wallets.abstract_models import LedgerRow
from wallets.fields import AmountField
from wallets.uuids import time_ordered_uuid


class FeePolicy(models.Model):
    """A fee on transfers, payments and/or withdrawals.

    The fee is ``percent`` of the amount plus ``fixed``, rounded half up to the
    wallets' decimal places, then raised to ``minimum`` and lowered to
    ``maximum`` (see ``wallets.fees.compute_fee``). It is credited to the
    policy's ``fee_wallet``, or to ``WALLETS["FEE_WALLET"]``.

    Scope, most specific first (the first that matches wins; among equals the
    lowest primary key): a product (``product_type`` + ``product_id``), a
    receiving wallet, a holder (of the receiving wallet; for a withdrawal, of
    the wallet withdrawn from), then no scope (every operation of its kinds).
    ``unit`` narrows any of them to one unit.
    """

    class Mode(models.TextChoices):
        PAYER_PAYS = "payer_pays", "Payer pays amount + fee"
        DEDUCTIBLE = "deductible", "Fee deducted: the receiver gets amount - fee"

    class RefundTreatment(models.TextChoices):
        RETURNED = "returned", "Returned with the refund"
        KEPT = "kept", "Kept on refund"

    name = models.CharField(max_length=100)
    product_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Scope: the product's type (with its id).",
    )
    product_id = models.CharField(max_length=64, blank=True, help_text="Scope: the product's id.")
    receiving_wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Scope: payments and transfers into this wallet.",
    )
    holder_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Scope: the receiving holder's type (the withdrawing holder's for withdrawals).",
    )
    holder_id = models.CharField(max_length=64, blank=True, help_text="Scope: the holder's id.")
    unit = models.CharField(max_length=16, blank=True, help_text="Empty: every unit.")
    applies_to_transfers = models.BooleanField("Transfers", default=True)
    applies_to_payments = models.BooleanField("Payments for products", default=True)
    applies_to_withdrawals = models.BooleanField("Withdrawals", default=False)
    percent = models.DecimalField(
        "Percentage", max_digits=9, decimal_places=6, default=Decimal(0), help_text="e.g. 2.9"
    )
    fixed = AmountField("Fixed part", default=Decimal(0))
    minimum = AmountField("Minimum fee", null=True, blank=True)
    maximum = AmountField("Maximum fee", null=True, blank=True)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.PAYER_PAYS)
    refund_treatment = models.CharField(
        "On refund",
        max_length=16,
        choices=RefundTreatment.choices,
        default=RefundTreatment.RETURNED,
    )
    fee_wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text='Empty: WALLETS["FEE_WALLET"] for the unit.',
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name_plural = "fee policies"

    def __str__(self) -> str:
        return self.name

    @property
    def specificity(self) -> int:
        """3 product, 2 receiving wallet, 1 holder, 0 everyone: the highest wins."""
        if self.product_type_id is not None:
            return 3
        if self.receiving_wallet_id is not None:
            return 2
        if self.holder_type_id is not None:
            return 1
        return 0

    def clean(self) -> None:
        scopes = [
            self.product_type_id is not None or bool(self.product_id),
            self.receiving_wallet_id is not None,
            self.holder_type_id is not None or bool(self.holder_id),
        ]
        if sum(scopes) > 1:
            raise ValidationError("Scope a policy to one product, one wallet or one holder.")
        if bool(self.product_id) != (self.product_type_id is not None):
            raise ValidationError({"product_id": "A product scope needs its type and its id."})
        if self.holder_id and self.holder_type_id is None:
            raise ValidationError({"holder_type": "Choose the holder's type for a holder id."})
        if not (
            self.applies_to_transfers or self.applies_to_payments or self.applies_to_withdrawals
        ):
            raise ValidationError("Choose what the fee applies to.")
        if (self.percent or 0) < 0 or (self.fixed or 0) < 0:
            raise ValidationError("Fees cannot be negative.")
        if not (self.percent or self.fixed or self.minimum):
            raise ValidationError("Set a percentage, a fixed part or a minimum.")
        if self.percent is not None and self.percent > 100:
            raise ValidationError({"percent": "At most 100 percent."})
        for name in ("minimum", "maximum"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValidationError({name: "Fees cannot be negative."})
        if self.minimum is not None and self.maximum is not None and self.minimum > self.maximum:
            raise ValidationError({"maximum": "The maximum is below the minimum."})
        if self.fee_wallet_id is not None and self.unit and self.fee_wallet.unit != self.unit:
            raise ValidationError({"fee_wallet": "The fee wallet holds another unit."})


class FeeCharge(LedgerRow):
    """A fee taken (or, with ``refund_of``, given back) in one engine operation.

    Two ledger legs: ``payer_leg`` on the wallet that bears the fee (the payer;
    the receiver in deductible mode) and ``fee_leg`` on the fee wallet; for a
    charge they are ``-amount`` and ``+amount``, for a return the opposite.
    It names what the fee was for (a transfer, a purchase no wallet received,
    or a withdrawal) and keeps the policy's mode and refund treatment as they
    were when the fee was charged.
    """

    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer"
        PAYMENT = "payment", "Payment"
        WITHDRAWAL = "withdrawal", "Withdrawal"

    STATE_FIELDS = frozenset({"refunded"})
    ROW_NAME = "Fee charges"

    uuid = models.UUIDField(default=time_ordered_uuid, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    transfer = models.ForeignKey(
        settings.WALLETS_TRANSFER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fee_charges",
    )
    purchase = models.ForeignKey(
        "wallets.Purchase",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fee_charges",
    )
    withdrawal = models.ForeignKey(
        settings.WALLETS_TRANSACTION_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="fee_charges",
    )
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="returns"
    )
    policy = models.ForeignKey(
        FeePolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="charges"
    )
    policy_name = models.CharField(max_length=100)
    mode = models.CharField(max_length=16, choices=FeePolicy.Mode.choices)
    refund_treatment = models.CharField(max_length=16, choices=FeePolicy.RefundTreatment.choices)
    # What the fee was computed on, and the fee.
    base = AmountField()
    amount = AmountField()
    payer_wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL, on_delete=models.PROTECT, related_name="fees_paid"
    )
    fee_wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL, on_delete=models.PROTECT, related_name="fees_received"
    )
    payer_leg = models.OneToOneField(
        settings.WALLETS_TRANSACTION_MODEL, on_delete=models.PROTECT, related_name="fee_as_payer"
    )
    fee_leg = models.OneToOneField(
        settings.WALLETS_TRANSACTION_MODEL, on_delete=models.PROTECT, related_name="fee_as_income"
    )
    # How much of this fee went back with refunds (charges only).
    refunded = AmountField(default=Decimal(0))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Fee {self.amount} ({self.policy_name})"

    @property
    def is_return(self) -> bool:
        return self.refund_of_id is not None

    @property
    def returnable(self) -> Decimal:
        return self.amount - self.refunded
