"""Abstract ledger models, for projects that extend them with fields of their own.

Rows of the ledger are written only by the services. A transaction's amount,
type and wallet never change; the only change a row may see is its one move
out of ``pending``, recorded in the fields named in ``STATE_FIELDS``.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models

from wallets.fields import AmountField
from wallets.mixins import WalletOperationsMixin
from wallets.uuids import time_ordered_uuid


class ImmutableRowError(Exception):
    """Raised when code tries to edit or delete a ledger row."""


class LedgerQuerySet(models.QuerySet):
    def delete(self):
        raise ImmutableRowError(f"{self.model.__name__} rows are never deleted.")

    def update(self, **kwargs):
        if not set(kwargs) <= self.model.STATE_FIELDS:
            raise ImmutableRowError(f"{self.model.__name__} amounts are never edited.")
        return super().update(**kwargs)


class LedgerRow(models.Model):
    """Rows that are written once: only the fields in ``STATE_FIELDS`` may change
    afterwards (through ``save(update_fields=...)``), and nothing is deleted."""

    STATE_FIELDS: frozenset[str] = frozenset()
    ROW_NAME = "Ledger rows"

    objects = LedgerQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            update_fields = kwargs.get("update_fields")
            if update_fields is None or not set(update_fields) <= self.STATE_FIELDS:
                raise ImmutableRowError(f"{self.ROW_NAME} are never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ImmutableRowError(f"{self.ROW_NAME} are never deleted.")


class AbstractWallet(WalletOperationsMixin, models.Model):
    holder_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    # Text so that integer, UUID and string primary keys all fit.
    holder_id = models.CharField(max_length=64)
    holder = GenericForeignKey("holder_type", "holder_id")

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    slug = models.SlugField(max_length=64)
    name = models.CharField(max_length=100)
    unit = models.CharField(max_length=16, help_text="Currency or point code, e.g. USD or PTS.")
    decimal_places = models.PositiveSmallIntegerField(default=2)
    balance = AmountField(default=Decimal(0))
    held = AmountField(default=Decimal(0), help_text="Reserved by pending withdrawals.")
    # An overdraft allowance: the balance may go down to -credit_limit.
    credit_limit = AmountField(
        default=Decimal(0), help_text="How far below zero the balance may go."
    )
    is_frozen = models.BooleanField(default=False)
    # What the holder is told, and what only staff read. An empty message
    # shows the holder a neutral default (``FROZEN_DEFAULT_MESSAGE``).
    frozen_message = models.TextField(blank=True)
    frozen_note = models.TextField(blank=True)
    frozen_at = models.DateTimeField(null=True, blank=True)
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(
                fields=["holder_type", "holder_id", "slug"], name="%(app_label)s_wallet_slug"
            )
        ]
        indexes = [models.Index(fields=["holder_type", "holder_id"])]
        permissions = [
            ("freeze_wallet", "Can freeze and unfreeze wallets"),
            ("adjust_wallet", "Can post manual credit or debit adjustments"),
        ]

    FROZEN_DEFAULT_MESSAGE = "This wallet is frozen. Please contact support."

    def __str__(self) -> str:
        return f"{self.name} ({self.slug}, {self.unit})"

    def save(self, *args, **kwargs):
        # Balances, holds and the frozen state change only under the wallet's
        # lock, through the engine's operations (which write with UPDATE). A
        # save() of a copy read earlier would overwrite what committed since.
        if not self._state.adding:
            raise ImmutableRowError(
                "Existing wallets are changed only through the engine's operations "
                "(e.g. WalletService.rename), never by saving a copy of the row."
            )
        super().save(*args, **kwargs)

    @property
    def available(self) -> Decimal:
        """What can be spent now: the balance less what is held, plus the credit limit."""
        return self.balance - self.held + self.credit_limit

    @property
    def frozen_message_for_holder(self) -> str:
        """Why the wallet is frozen, as the holder may read it."""
        return self.frozen_message or self.FROZEN_DEFAULT_MESSAGE

    def get_pending_transactions(self):
        return self.transactions.filter(state=AbstractTransaction.State.PENDING)


class AbstractTransaction(LedgerRow):
    class Type(models.TextChoices):
        DEPOSIT = "deposit", "Deposit"
        WITHDRAW = "withdraw", "Withdrawal"

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"
        CANCELED = "canceled", "Canceled"
        EXPIRED = "expired", "Expired"

    # The fields a pending row may change, once, when it is resolved.
    STATE_FIELDS = frozenset({"state", "balance_after", "resolved_at", "resolution_note"})
    ROW_NAME = "Ledger transactions"

    uuid = models.UUIDField(default=time_ordered_uuid, unique=True, editable=False)
    # Indexed by the composite indexes below, which all start with the wallet:
    # every index is written on each of the ledger's inserts, so none is kept twice.
    wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_index=False,
    )
    type = models.CharField(max_length=16, choices=Type.choices)
    # Signed: deposits are positive, withdrawals negative, so a wallet's
    # balance is the sum of its confirmed amounts.
    amount = AmountField()
    state = models.CharField(max_length=16, choices=State.choices)  # see the tx_pending index
    balance_after = AmountField(null=True, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    # Unique where set (see the constraint below): a row is reversed at most once.
    reversal_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["wallet", "-created_at", "-id"], name="%(app_label)s_tx_history"),
            # Only pending rows: the ledger's other rows never pay for this index.
            models.Index(
                fields=["expires_at"],
                condition=models.Q(state="pending"),
                name="%(app_label)s_tx_pending_due",
            ),
            # A wallet's ledger sums (reconciliation, exact sums on SQLite) read
            # this index alone, never the table.
            models.Index(fields=["wallet", "state", "amount"], name="%(app_label)s_tx_ledger"),
            # Pending rows confirmed later change the balance at resolved_at: with the
            # history index, the balance at any moment is two one-row probes.
            models.Index(
                fields=["wallet", "-resolved_at", "-id"],
                condition=models.Q(state="confirmed", resolved_at__isnull=False),
                name="%(app_label)s_tx_resolved",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["reversal_of"],
                condition=models.Q(reversal_of__isnull=False),
                name="%(app_label)s_tx_reversed_once",
            )
        ]
        permissions = [
            ("confirm_transaction", "Can confirm or reject pending transactions"),
            ("reverse_transaction", "Can reverse transactions"),
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.amount} ({self.state})"

    @property
    def is_pending(self) -> bool:
        return self.state == self.State.PENDING

    @property
    def is_confirmed(self) -> bool:
        return self.state == self.State.CONFIRMED

    @property
    def magnitude(self) -> Decimal:
        return abs(self.amount)


class AbstractTransfer(LedgerRow):
    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer"
        PAID = "paid", "Payment"
        GIFT = "gift", "Gift"
        EXCHANGE = "exchange", "Exchange"
        REFUND = "refund", "Refund"

    class RefundState(models.TextChoices):
        NONE = "none", "Not refunded"
        PARTIAL = "partial", "Partly refunded"
        FULL = "full", "Refunded"

    STATE_FIELDS = frozenset({"refunded_amount", "refund_state"})
    ROW_NAME = "Transfers"

    uuid = models.UUIDField(default=time_ordered_uuid, unique=True, editable=False)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Indexed by tr_from and tr_to below, which start with them.
    from_wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL,
        on_delete=models.PROTECT,
        related_name="transfers_out",
        db_index=False,
    )
    to_wallet = models.ForeignKey(
        settings.WALLETS_WALLET_MODEL,
        on_delete=models.PROTECT,
        related_name="transfers_in",
        db_index=False,
    )
    withdraw = models.OneToOneField(
        settings.WALLETS_TRANSACTION_MODEL,
        on_delete=models.PROTECT,
        related_name="transfer_as_withdraw",
    )
    deposit = models.OneToOneField(
        settings.WALLETS_TRANSACTION_MODEL,
        on_delete=models.PROTECT,
        related_name="transfer_as_deposit",
    )
    # What left the source (source units) and what arrived (destination units);
    # they differ only for exchanges.
    amount = AmountField()
    received = AmountField()
    rate = models.DecimalField(max_digits=30, decimal_places=12, null=True, blank=True)
    refund_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        db_index=False,  # see the tr_refunds index: only refunds have one
    )
    refunded_amount = AmountField(default=Decimal(0))
    refund_state = models.CharField(
        max_length=16, choices=RefundState.choices, default=RefundState.NONE
    )
    meta = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["from_wallet", "-created_at"], name="%(app_label)s_tr_from"),
            models.Index(fields=["to_wallet", "-created_at"], name="%(app_label)s_tr_to"),
            models.Index(
                fields=["refund_of"],
                condition=models.Q(refund_of__isnull=False),
                name="%(app_label)s_tr_refunds",
            ),
            # The staff dashboard's "transfers in the last day" reads only that day.
            models.Index(fields=["created_at"], name="%(app_label)s_tr_created"),
        ]
        permissions = [("refund_transfer", "Can refund transfers")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} {self.uuid}"

    @property
    def refundable(self) -> Decimal:
        return self.amount - self.refunded_amount


class AbstractIdempotencyRecord(models.Model):
    """The first result of a call made with an idempotency key, per holder."""

    scope = models.CharField(max_length=200)
    key = models.CharField(max_length=200)
    operation = models.CharField(max_length=32)
    fingerprint = models.CharField(max_length=64)
    result = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="%(app_label)s_idempotency_key")
        ]
