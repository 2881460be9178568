"""Fees: which policy applies, how much it takes, and where the fee goes.

A :class:`~wallets.models.FeePolicy` charges transfers, payments for products
and/or withdrawals. The fee is credited to a fee wallet (the policy's own, or
``WALLETS["FEE_WALLET"]`` for the unit) in the same engine operation as the
payment, under the same locks: the fee wallet is one of the operation's
wallets, locked with the others in primary-key order.

Resolution order: the most specific active policy wins.

1. a policy scoped to the product being paid for;
2. a policy scoped to the receiving wallet;
3. a policy scoped to a holder: the receiving wallet's holder (for a
   withdrawal, the holder of the wallet withdrawn from);
4. a policy with no scope.

Each must apply to the operation's kind and match its unit (empty: any);
among equally specific policies the lowest primary key wins.

Rounding rule: the fee is ``amount * percent / 100 + fixed`` computed exactly,
then rounded half up (``ROUND_HALF_UP``) to the decimal places of the wallets
involved (the fewest of payer, receiver and fee wallet); then raised to the
minimum and lowered to the maximum (each rounded to those places, the maximum
down); in deductible mode it is never more than the amount. The fee is one
exact amount that leaves one wallet and arrives in the fee wallet, so no money
is created: payer ``-(amount + fee)`` or ``-amount``; receiver ``+amount`` or
``+amount - fee``; fee wallet ``+fee``.

Refunds give the fee back per the treatment recorded when it was charged
(``returned`` or ``kept``): a partial refund returns the fee's share rounded
down, and the refund that completes the payment returns exactly what is left
of the fee, so a fee is never returned more than once in total.

The active policies are read at most every ``FEE_POLICIES_CACHE_SECONDS`` per
process (saving or deleting one in this process is seen at once), so an
operation that no policy applies to costs no query for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from wallets import conf
from wallets.active_rows import ActiveRows
from wallets.amounts import exact, quantum
from wallets.exceptions import FeeConfigurationError, FeeNotSupported
from wallets.fee_models import FeeCharge, FeePolicy
from wallets.holders import get_or_create_wallet, wallets_of
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()

TRANSFER = FeeCharge.Kind.TRANSFER
PAYMENT = FeeCharge.Kind.PAYMENT
WITHDRAWAL = FeeCharge.Kind.WITHDRAWAL
PAYER_PAYS = FeePolicy.Mode.PAYER_PAYS
DEDUCTIBLE = FeePolicy.Mode.DEDUCTIBLE
RETURNED = FeePolicy.RefundTreatment.RETURNED
KEPT = FeePolicy.RefundTreatment.KEPT


def kind_of(transfer_kind: str) -> str | None:
    """The fee kind of a transfer kind: payments and gifts are payments;
    exchanges and refunds carry no fee."""
    return {
        Transfer.Kind.TRANSFER: TRANSFER,
        Transfer.Kind.PAID: PAYMENT,
        Transfer.Kind.GIFT: PAYMENT,
    }.get(transfer_kind)


# Every transfer, payment and withdrawal asks for them (see wallets.active_rows).
active_policies = ActiveRows(
    FeePolicy,
    "FEE_POLICIES_CACHE_SECONDS",
    lambda: FeePolicy.objects.filter(is_active=True).select_related("fee_wallet").order_by("pk"),
)


def _applies_to(policy: FeePolicy, kind: str) -> bool:
    return {
        TRANSFER: policy.applies_to_transfers,
        PAYMENT: policy.applies_to_payments,
        WITHDRAWAL: policy.applies_to_withdrawals,
    }[kind]


def _matches(
    policy: FeePolicy, payer: Wallet, receiving: Wallet | None, product: Any, kind: str
) -> bool:
    if not _applies_to(policy, kind) or policy.unit not in ("", payer.unit):
        return False
    specificity = policy.specificity
    if specificity == 3:
        if not isinstance(product, models.Model) or product.pk is None:
            return False
        product_type = ContentType.objects.get_for_model(product)
        return policy.product_type_id == product_type.pk and policy.product_id == str(product.pk)
    if specificity == 2:
        return receiving is not None and policy.receiving_wallet_id == receiving.pk
    if specificity == 1:
        holder = payer if kind == WITHDRAWAL else receiving
        return (
            holder is not None
            and policy.holder_type_id == holder.holder_type_id
            and policy.holder_id in ("", str(holder.holder_id))
        )
    return True


def policy_for(
    kind: str, payer: Wallet, receiving: Wallet | None = None, product: Any = None
) -> FeePolicy | None:
    """The policy that applies (see the resolution order above), or None."""
    best: FeePolicy | None = None
    for policy in active_policies.get():
        if (best is None or policy.specificity > best.specificity) and _matches(
            policy, payer, receiving, product, kind
        ):
            best = policy
    return best


def fee_wallet_for(policy: FeePolicy, unit: str) -> Wallet:
    """The wallet the policy's fees go to, in ``unit``; refused if there is none."""
    if policy.fee_wallet_id is not None:
        wallet = policy.fee_wallet
    else:
        target = conf.get_class("FEE_WALLET")
        if target is None:
            raise FeeConfigurationError(
                f"The fee policy '{policy.name}' applies but names no fee wallet, and "
                'WALLETS["FEE_WALLET"] is not set.'
            )
        found = target(unit)
        wallet = found if isinstance(found, Wallet) else _holder_wallet(found, unit)
    if wallet is None or wallet.unit != unit:
        held = "no wallet" if wallet is None else f"a {wallet.unit} wallet"
        raise FeeConfigurationError(
            f"The fee policy '{policy.name}' sends {unit} fees to {held}: the fee wallet "
            "must hold the same unit as the payment."
        )
    return wallet


def _holder_wallet(holder: Any, unit: str) -> Wallet | None:
    """The holder's first wallet in ``unit``; its default wallet is opened only
    when the default unit is the one wanted."""
    if not isinstance(holder, models.Model):
        raise FeeConfigurationError(f'WALLETS["FEE_WALLET"] returned {holder!r}, not a holder.')
    found = wallets_of(holder).filter(unit=unit).order_by("pk").first()
    if found is None and unit == conf.get("DEFAULT_UNIT"):
        found = get_or_create_wallet(holder)
    return found


@exact
def compute_fee(policy: FeePolicy, amount: Decimal, decimal_places: int) -> Decimal:
    """The fee on ``amount`` by the rounding rule of this module."""
    step = quantum(decimal_places)
    fee = (amount * policy.percent / 100 + policy.fixed).quantize(step, rounding=ROUND_HALF_UP)
    if policy.minimum is not None:
        fee = max(fee, policy.minimum.quantize(step, rounding=ROUND_HALF_UP))
    if policy.maximum is not None:
        fee = min(fee, policy.maximum.quantize(step, rounding=ROUND_DOWN))
    if policy.mode == DEDUCTIBLE:
        fee = min(fee, amount)
    return max(fee, Decimal(0))


@dataclass(frozen=True)
class FeePlan:
    """A policy that applies to an operation, and the fee wallet it pays into.

    Made before the operation (so the fee wallet joins its locks); inside,
    :meth:`under_lock` swaps in the locked copy of the fee wallet."""

    policy: FeePolicy
    fee_wallet: Wallet
    kind: str

    @property
    def deductible(self) -> bool:
        return self.policy.mode == DEDUCTIBLE

    def fee_on(self, amount: Decimal, *wallets: Wallet) -> Decimal:
        places = min(w.decimal_places for w in (*wallets, self.fee_wallet))
        return compute_fee(self.policy, amount, places)

    def under_lock(self, context: Any) -> FeePlan:
        return replace(self, fee_wallet=context.wallet(self.fee_wallet))


def plan_for(
    kind: str | None, payer: Wallet, receiving: Wallet | None = None, product: Any = None
) -> FeePlan | None:
    """The fee plan of an operation, or None (no query when no policy is active)."""
    if kind is None:
        return None
    policy = policy_for(kind, payer, receiving, product)
    if policy is None:
        return None
    return FeePlan(policy, fee_wallet_for(policy, payer.unit), kind)


def refuse_in_bulk(plan: FeePlan | None, what: str) -> None:
    if plan is not None:
        raise FeeNotSupported(
            f"The fee policy '{plan.policy.name}' applies to this {what}; bulk operations "
            f"charge no fees: make this {what} on its own."
        )


@dataclass(frozen=True)
class FeeQuote:
    """What a payment would cost with its fee, for review screens."""

    amount: Decimal
    fee: Decimal
    deductible: bool
    policy_name: str

    @property
    def total(self) -> Decimal:
        """What leaves the payer."""
        return self.amount if self.deductible else self.amount + self.fee

    @property
    def received(self) -> Decimal:
        """What the receiver keeps."""
        return self.amount - self.fee if self.deductible else self.amount


def quote(
    kind: str, payer: Wallet, amount: Decimal, receiving: Wallet | None = None, product: Any = None
) -> FeeQuote | None:
    """The fee an operation would be charged now, or None when no fee applies."""
    plan = plan_for(kind, payer, receiving, product)
    if plan is None:
        return None
    wallets = [payer] if receiving is None else [payer, receiving]
    fee = plan.fee_on(amount, *wallets)
    if not fee:
        return None
    return FeeQuote(amount, fee, plan.deductible, plan.policy.name)


# Charges recorded earlier: what refunds and reversals give back.


def charges_of(**lookup: Any) -> FeeCharge | None:
    """The fee charged for a transfer, purchase or withdrawal (not its returns)."""
    return (
        FeeCharge.objects.filter(refund_of__isnull=True, **lookup)
        .select_related("fee_wallet", "payer_wallet")
        .first()
    )


def fee_wallets_of(transfers: Iterable[Any]) -> list[Wallet]:
    """The fee wallets a refund of these transfers touches: an operation that
    refunds them inside it must lock these too."""
    ids = [t.pk for t in transfers]
    charged = FeeCharge.objects.filter(transfer_id__in=ids, refund_of__isnull=True)
    return list(
        {c.fee_wallet.pk: c.fee_wallet for c in charged.select_related("fee_wallet")}.values()
    )


@exact
def returned_share(
    charge: FeeCharge | None, value: Decimal, left: Decimal, paid: Decimal
) -> Decimal:
    """How much of the fee a refund of ``value`` returns, when ``left`` of ``paid``
    was still refundable: the share rounded down; all that is left of the fee
    when the refund completes the payment; nothing when the fee is kept."""
    if charge is None or charge.refund_treatment == KEPT:
        return Decimal(0)
    remaining = charge.amount - charge.refunded
    if value == left:
        return remaining
    places = min(charge.payer_wallet.decimal_places, charge.fee_wallet.decimal_places)
    share = (charge.amount * value / paid).quantize(quantum(places), rounding=ROUND_DOWN)
    return min(share, remaining)
