"""Moving value between wallets: transfers, refunds and gifts."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import transaction as db_transaction

from wallets import idempotency, signals
from wallets.amounts import Amount, exact, parse_amount, quantum
from wallets.exceptions import (
    AlreadyRefunded,
    AmountInvalid,
    RefundExceedsTransfer,
    SameWallet,
    TransferNotRefundable,
    UnitMismatch,
)
from wallets.holders import holder_label, resolve_wallet
from wallets.ledger import (
    after_commit,
    announce_transactions,
    ensure_active,
    ensure_available,
    post,
    write_balances,
)
from wallets.locking import lock_wallets, sync_instance
from wallets.models import Transfer, Wallet

Kind = Transfer.Kind


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
    withdraw = post(source, -amount, meta=meta)
    deposit = post(destination, received, meta=meta)
    write_balances(source, destination)
    transfer = Transfer.objects.create(
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
    announce_transactions([withdraw, deposit])
    after_commit(
        signals.transfer_completed,
        Transfer,
        transfer=transfer,
        from_wallet=source,
        to_wallet=destination,
    )
    return transfer


class TransferService:
    """Transfers between wallets. Swap it with ``WALLETS["TRANSFER_SERVICE_CLASS"]``."""

    @classmethod
    def transfer(
        cls,
        from_wallet: Wallet | Any,
        to: Wallet | Any,
        amount: Amount,
        meta: dict | None = None,
        idempotency_key: str | None = None,
        kind: str = Kind.TRANSFER,
    ) -> Transfer:
        """Move ``amount`` from a wallet (or holder's default wallet) to another
        wallet or holder. Both must hold the same unit."""
        source = resolve_wallet(from_wallet)
        destination = resolve_wallet(to)
        if source.pk == destination.pk:
            raise SameWallet("A wallet cannot transfer to itself.")
        if source.unit != destination.unit:
            raise UnitMismatch(
                f"Cannot transfer {source.unit} into a {destination.unit} wallet; "
                "exchange it first."
            )
        value = parse_amount(amount, min(source.decimal_places, destination.decimal_places))
        meta = dict(meta or {})
        parts = [str(source.uuid), str(destination.uuid), str(value), meta, kind]
        with db_transaction.atomic():
            locked_source, locked_destination = lock_wallets(source, destination)
            result = idempotency.run_once(
                idempotency_key,
                locked_source,
                "transfer",
                parts,
                lambda: move(locked_source, locked_destination, value, value, kind=kind, meta=meta),
            )
        sync_instance(from_wallet, locked_source)
        sync_instance(to, locked_destination)
        return result

    @classmethod
    def gift(
        cls,
        sender: Wallet | Any,
        recipient: Any,
        product: Any,
        quantity: int = 1,
        meta: dict | None = None,
        idempotency_key: str | None = None,
    ) -> Transfer:
        """The sender pays for a product that the recipient receives."""
        from wallets.services import purchase_service

        return purchase_service().pay(
            sender,
            product,
            quantity=quantity,
            meta={**(meta or {}), "gift_for": holder_label(recipient)},
            idempotency_key=idempotency_key,
            customer=recipient,
            kind=Kind.GIFT,
        )

    @classmethod
    @exact
    def refund(
        cls,
        transfer: Transfer,
        amount: Amount | None = None,
        meta: dict | None = None,
        idempotency_key: str | None = None,
        force: bool = False,
    ) -> Transfer:
        """Return money along a transfer's path, in full or in part.

        ``amount`` is in the units that left the source (default: all that is
        left). The recipient gives back the matching share of what it received;
        the last refund returns exactly the rest, so a transfer refunded in
        parts returns exactly what left the source and nothing more. Unless
        ``force``, the recipient needs the funds available.
        """
        meta = dict(meta or {})
        with db_transaction.atomic():
            source, destination = lock_wallets(transfer.from_wallet, transfer.to_wallet)
            original = Transfer.objects.select_for_update().get(pk=transfer.pk)
            requested = None if amount is None else parse_amount(amount, source.decimal_places)
            parts = [str(original.uuid), None if requested is None else str(requested), meta, force]

            def perform() -> Transfer:
                if original.kind == Kind.REFUND:
                    raise TransferNotRefundable("A refund cannot itself be refunded.")
                left = original.amount - original.refunded_amount
                if left <= 0:
                    raise AlreadyRefunded("The transfer has already been refunded in full.")
                value = left if requested is None else requested
                if value > left:
                    raise RefundExceedsTransfer(
                        f"Only {left} {source.unit} of this transfer is left to refund."
                    )
                given_back = cls._received_share(original, value, left, destination)
                refund = move(
                    destination,
                    source,
                    given_back,
                    value,
                    kind=Kind.REFUND,
                    meta={**meta, "refund_of": str(original.uuid)},
                    rate=original.rate,
                    refund_of=original,
                    check_funds=not force,
                )
                original.refunded_amount += value
                original.refund_state = (
                    Transfer.RefundState.FULL
                    if original.refunded_amount == original.amount
                    else Transfer.RefundState.PARTIAL
                )
                original.save(update_fields=["refunded_amount", "refund_state"])
                return refund

            result = idempotency.run_once(idempotency_key, destination, "refund", parts, perform)
        transfer.refresh_from_db(fields=["refunded_amount", "refund_state"])
        sync_instance(transfer.from_wallet, source)
        sync_instance(transfer.to_wallet, destination)
        return result

    @staticmethod
    def _received_share(
        original: Transfer, value: Decimal, left: Decimal, destination: Wallet
    ) -> Decimal:
        """How much the recipient gives back for ``value`` of the source's units."""
        if original.amount == original.received:
            return value
        already_back = sum((r.amount for r in original.refunds.all()), start=Decimal(0))
        received_left = original.received - already_back
        if value == left:
            return received_left
        share = (original.received * value / original.amount).quantize(
            quantum(destination.decimal_places), rounding=ROUND_HALF_EVEN
        )
        return min(share, received_left)
