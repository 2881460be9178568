"""The one way a transfer is written: both legs, both balances, the row and its signals."""

from __future__ import annotations

from decimal import Decimal

from wallets import signals
from wallets.exceptions import AmountInvalid
from wallets.ledger import (
    announce_transactions,
    announce_transfers,
    ensure_active,
    ensure_available,
    entry,
    transfer_row,
)
from wallets.one_statement import write_transfer
from wallets.one_statement_transfer import transfer_in_one_statement
from wallets.operations import Context
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
    transfer = transfer_row(withdraw, deposit, kind=kind, meta=meta, rate=rate, refund_of=refund_of)
    write_transfer(withdraw, deposit, transfer, [source, destination])
    announce_transactions([withdraw, deposit])
    announce_transfers([transfer])
    return transfer


def receivers_judge_moves() -> bool:
    """Whether ``pre_withdraw`` or ``pre_deposit`` has receivers: :func:`move`
    asks them under the locks, so no move can then be one statement."""
    return signals.pre_withdraw.has_listeners(Wallet) or signals.pre_deposit.has_listeners(Wallet)


def move_in_one_statement(
    context: Context, source: Wallet, destination: Wallet, amount: Decimal, *, kind: str, meta: dict
) -> Transfer:
    """PostgreSQL, for an operation whose wallets the door left unlocked: one
    statement locks both, checks them and moves ``amount``
    (``wallets.one_statement_transfer``); the wallets as it left them become
    the operation's."""
    transfer, *locked = transfer_in_one_statement(source, destination, amount, kind=kind, meta=meta)
    for wallet in locked:
        context.adopt(wallet)
    announce_transactions([transfer.withdraw, transfer.deposit])
    announce_transfers([transfer])
    return transfer
