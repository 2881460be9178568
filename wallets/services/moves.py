"""The one way a transfer is written: both legs, both balances, the row and its signals."""

from __future__ import annotations

from decimal import Decimal

from wallets import signals
from wallets.exceptions import AmountInvalid
from wallets.ledger import (
    announce_transactions,
    announce_transfers,
    build,
    ensure_active,
    ensure_available,
    entry,
)
from wallets.one_statement import write_transfer
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()


def move(
    source: Wallet,
    destination: Wallet,
    amount: Decimal,
    received: Decimal,
    *,
    kind: str,
    meta: dict,
    rate: Decimal | None = None,
    refund_of: Transfer | None = None,
    check_funds: bool = True,
) -> Transfer:
    """Debit ``amount`` from a locked source and credit ``received`` to a locked
    destination, recorded as one transfer. Both wallets must already be locked."""
    ensure_active(source, destination)
    if check_funds:
        ensure_available(source, amount)
    signals.pre_withdraw.send(sender=Wallet, wallet=source, amount=amount, meta=meta)
    signals.pre_deposit.send(sender=Wallet, wallet=destination, amount=received, meta=meta)
    if amount <= 0 or received <= 0:
        raise AmountInvalid("The amount is too small to move between these wallets.")
    withdraw = entry(source, -amount, meta=meta)
    deposit = entry(destination, received, meta=meta)
    transfer = build(
        Transfer,
        kind=kind,
        from_wallet=source,
        to_wallet=destination,
        withdraw=withdraw,
        deposit=deposit,
        amount=amount,
        received=received,
        rate=rate,
        refund_of=refund_of,
        meta=meta,
    )
    write_transfer(withdraw, deposit, transfer, [source, destination])
    announce_transactions([withdraw, deposit])
    announce_transfers([transfer])
    return transfer
