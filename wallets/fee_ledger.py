"""Posting fees on locked wallets: the two legs of a fee and its return.

Called inside an engine operation that holds the locks of the wallet bearing
the fee and of the fee wallet (see ``wallets.fees`` for the policy side).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from wallets import signals
from wallets.amounts import exact
from wallets.exceptions import AmountInvalid
from wallets.fee_models import FeeCharge, FeePolicy
from wallets.fees import FeePlan
from wallets.ledger import (
    announce_transactions,
    build,
    ensure_active,
    ensure_available,
    entry,
    insert_rows,
    post,
    post_all,
    write_balances,
)
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()


def _leg_meta(kind: str, policy_name: str, subject: Any, **extra: Any) -> dict[str, Any]:
    return {
        "fee": True,
        "fee_kind": kind,
        "fee_policy": policy_name,
        "fee_for": str(subject.uuid),
        "description": "Fee",
        **extra,
    }


@exact
def charge_fee(
    plan: FeePlan,
    fee: Decimal,
    *,
    bearer: Wallet,
    base: Decimal,
    subject: Any,
    transfer: Any = None,
    purchase: Any = None,
    withdrawal: Any = None,
) -> FeeCharge:
    """Take ``fee`` from the locked ``bearer`` into the plan's locked fee wallet.

    ``subject`` is the row the fee is for (its uuid goes on both legs)."""
    fee_wallet = plan.fee_wallet
    ensure_active(fee_wallet)
    meta = _leg_meta(plan.kind, plan.policy.name, subject)
    legs = [entry(bearer, -fee, meta=meta), entry(fee_wallet, fee, meta=meta)]
    post_all(legs)
    write_balances(bearer, fee_wallet)
    (charge,) = insert_rows(
        [
            build(
                FeeCharge,
                kind=plan.kind,
                transfer=transfer,
                purchase=purchase,
                withdrawal=withdrawal,
                policy=plan.policy,
                policy_name=plan.policy.name[:100],
                mode=plan.policy.mode,
                refund_treatment=plan.policy.refund_treatment,
                base=base,
                amount=fee,
                payer_wallet=bearer,
                fee_wallet=fee_wallet,
                payer_leg=legs[0],
                fee_leg=legs[1],
            )
        ]
    )
    announce_transactions(legs)
    return charge


@exact
def return_fee(
    charge: FeeCharge,
    share: Decimal,
    *,
    bearer: Wallet,
    fee_wallet: Wallet,
    subject: Any,
    check_funds: bool = True,
    transfer: Any = None,
    purchase: Any = None,
    withdrawal: Any = None,
) -> FeeCharge:
    """Give ``share`` of a charged fee back from the locked fee wallet to the
    locked wallet that bore it, and count it on the charge."""
    ensure_active(fee_wallet)
    if check_funds:
        ensure_available(fee_wallet, share)
    meta = _leg_meta(charge.kind, charge.policy_name, subject, fee_returned_of=str(charge.uuid))
    meta["description"] = "Fee returned"
    legs = [entry(bearer, share, meta=meta), entry(fee_wallet, -share, meta=meta)]
    post_all(legs)
    write_balances(bearer, fee_wallet)
    charge.refunded += share
    charge.save(update_fields=["refunded"])
    (returned,) = insert_rows(
        [
            build(
                FeeCharge,
                kind=charge.kind,
                transfer=transfer,
                purchase=purchase,
                withdrawal=withdrawal,
                refund_of=charge,
                policy=FeePolicy(pk=charge.policy_id) if charge.policy_id else None,
                policy_name=charge.policy_name,
                mode=charge.mode,
                refund_treatment=charge.refund_treatment,
                base=charge.base,
                amount=share,
                payer_wallet=bearer,
                fee_wallet=fee_wallet,
                payer_leg=legs[0],
                fee_leg=legs[1],
            )
        ]
    )
    announce_transactions(legs)
    return returned


@exact
def withdraw_with_fee(wallet: Wallet, plan: FeePlan, value: Decimal, meta: dict) -> Any:
    """A confirmed withdrawal of ``value`` and its fee, the wallet and the fee
    wallet locked. The holder pays ``value + fee``; in deductible mode
    ``value`` in all, of which the fee is a leg of its own and
    ``value - fee`` leaves the system."""
    ensure_active(wallet)
    fee = plan.fee_on(value, wallet)
    if fee and plan.deductible and fee >= value:
        raise AmountInvalid("The fee would take the whole withdrawal.")
    out = value - fee if plan.deductible else value
    ensure_available(wallet, out + fee)
    signals.pre_withdraw.send(sender=Wallet, wallet=wallet, amount=out, meta=meta)
    tx = post(wallet, -out, meta=meta)
    write_balances(wallet)
    if fee:
        tx.fee_charge = charge_fee(plan, fee, bearer=wallet, base=value, subject=tx, withdrawal=tx)
    return tx


def charge_transfer_fee(
    plan: FeePlan, fee: Decimal, transfer: Any, source: Wallet, destination: Wallet
) -> FeeCharge:
    """The fee of a transfer just moved: the payer pays it, or (deductible) the
    recipient gives it out of what it received."""
    bearer = destination if plan.deductible else source
    transfer.fee_charge = charge_fee(
        plan, fee, bearer=bearer, base=transfer.amount, subject=transfer, transfer=transfer
    )
    return transfer.fee_charge
