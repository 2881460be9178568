"""Moving value between wallets: transfers, their preview, refunds, gifts and holds."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from wallets import conf, idempotency, signals
from wallets.amounts import Amount, exact, parse_amount, quantum
from wallets.audit import AuditDraft, at_precision
from wallets.exceptions import (
    AlreadyRefunded,
    AmountInvalid,
    RefundExceedsTransfer,
    RiskLimitExceeded,
    SameWallet,
    TransferNotRefundable,
    UnitMismatch,
)
from wallets.holders import holder_label, peek_wallet, resolve_wallet, unopened_wallet
from wallets.ledger import (
    after_commit,
    announce_transactions,
    ensure_active,
    ensure_available,
    entry,
    insert_rows,
    post_all,
    write_balances,
)
from wallets.models import AuditEntry, TransferHold
from wallets.operations import Context, Operation, run
from wallets.risk import HOLD, RiskDecision, applies_to, transfer_policy
from wallets.services import bulk, holds
from wallets.staff import StaffActor
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()

Kind = Transfer.Kind
Action = AuditEntry.Action


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
    post_all([withdraw, deposit])
    write_balances(source, destination)
    (transfer,) = insert_rows(
        [
            Transfer(
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
        ]
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


@dataclass(frozen=True)
class TransferQuote:
    """What a transfer would do now, from :meth:`TransferService.preview`."""

    source: Wallet
    destination: Wallet | None  # None: the holder's default wallet opens on arrival
    amount: Decimal
    balance_after: Decimal
    available_after: Decimal
    # Set when the risk policy would hold the transfer for review.
    review: RiskDecision | None


def checked_pair(source: Wallet, destination: Wallet | None) -> int:
    """Refuse a transfer to itself or across units; the decimal places it may use."""
    if destination is None:
        if source.unit != conf.get("DEFAULT_UNIT"):
            raise UnitMismatch(f"The recipient has no {source.unit} wallet.")
        return min(source.decimal_places, conf.get("DEFAULT_DECIMAL_PLACES"))
    if source.pk == destination.pk:
        raise SameWallet("A wallet cannot transfer to itself.")
    if source.unit != destination.unit:
        raise UnitMismatch(
            f"Cannot transfer {source.unit} into a {destination.unit} wallet; exchange it first."
        )
    return min(source.decimal_places, destination.decimal_places)


def _policy_decision(
    source: Wallet, destination: Wallet, amount: Decimal, meta: dict, kind: str
) -> RiskDecision | None:
    """The policy's hold, if any; a refusal is raised."""
    policy = transfer_policy() if applies_to(kind) else None
    decision = policy.evaluate(source, destination, amount, meta) if policy else None
    if decision is None:
        return None
    if decision.on_breach != HOLD:
        raise RiskLimitExceeded(f"Transfer refused: {decision.message}")
    return decision


def transfer_in_operation(
    source: Wallet, destination: Wallet, value: Decimal, meta: dict, kind: str
) -> Transfer | TransferHold:
    """A transfer inside an operation that holds both wallets' locks: the
    checks, the risk policy, then the transfer or the hold."""
    ensure_active(source, destination)
    ensure_available(source, value)
    decision = _policy_decision(source, destination, value, meta, kind)
    if decision is not None:
        return holds.place_hold(source, destination, value, meta, decision)
    return move(source, destination, value, value, kind=kind, meta=meta)


class TransferService:
    """Transfers between wallets. Swap it with ``WALLETS["TRANSFER_SERVICE_CLASS"]``."""

    @classmethod
    @exact
    def preview(
        cls, from_wallet: Wallet | Any, to: Wallet | Any, amount: Amount, meta: dict | None = None
    ) -> TransferQuote:
        """Check a transfer as the operation will, without locking or writing anything.

        Raises the errors the transfer would raise now; the transfer itself
        checks again under its locks."""
        source = peek_wallet(from_wallet, must_exist=True)
        destination = peek_wallet(to)
        value = parse_amount(amount, checked_pair(source, destination))
        ensure_active(source)
        if destination is not None:
            ensure_active(destination)
        ensure_available(source, value)
        # The policy also sees a recipient whose wallet opens on arrival.
        receiving = destination if destination is not None else unopened_wallet(to)
        review = _policy_decision(source, receiving, value, dict(meta or {}), Kind.TRANSFER)
        return TransferQuote(
            source=source,
            destination=destination,
            amount=value,
            balance_after=source.balance - value,
            available_after=source.available - value,
            review=review,
        )

    @classmethod
    def transfer(
        cls,
        from_wallet: Wallet | Any,
        to: Wallet | Any,
        amount: Amount,
        meta: dict | None = None,
        idempotency_key: str | None = None,
        kind: str = Kind.TRANSFER,
    ) -> Transfer | TransferHold:
        """Move ``amount`` from a wallet (or holder's default wallet) to another
        wallet or holder. Both must hold the same unit.

        Returns the transfer, or the :class:`TransferHold` when the risk policy
        holds it for review (the amount is then reserved on the source)."""
        source = resolve_wallet(from_wallet)
        destination = resolve_wallet(to)
        value = parse_amount(amount, checked_pair(source, destination))
        meta = dict(meta or {})

        def perform(context: Context) -> Transfer | TransferHold:
            return transfer_in_operation(*context.locked, value, meta, kind)

        return run(
            Operation(
                "transfer",
                wallets=[source, destination],
                idempotency_key=idempotency_key,
                fingerprint=[str(source.uuid), str(destination.uuid), str(value), meta, kind],
            ),
            perform,
        )

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
        *,
        actor: StaffActor | None = None,
    ) -> Transfer:
        """Return money along a transfer's path, in full or in part.

        ``amount`` is in the units that left the source (default: all that is
        left). The recipient gives back the matching share of what it received;
        the last refund returns exactly the rest, so a transfer refunded in
        parts returns exactly what left the source and nothing more. Unless
        ``force``, the recipient needs the funds available.
        """
        meta = dict(meta or {})
        source_wallet, destination_wallet = transfer.from_wallet, transfer.to_wallet
        requested = None if amount is None else parse_amount(amount, source_wallet.decimal_places)

        def perform(context: Context) -> Transfer:
            source, destination = context.locked
            original = Transfer.objects.get(pk=transfer.pk)
            if original.kind == Kind.REFUND:
                raise TransferNotRefundable("A refund cannot itself be refunded.")
            left = original.amount - original.refunded_amount
            if left <= 0:
                raise AlreadyRefunded("The transfer has already been refunded in full.")
            value = left if requested is None else requested
            if value > left:
                raise RefundExceedsTransfer(
                    f"Only {at_precision(left, source)} {source.unit} of this transfer "
                    "is left to refund."
                )
            before = cls._refund_state(original, source)
            refund = move(
                destination,
                source,
                cls._received_share(original, value, left, destination),
                value,
                kind=Kind.REFUND,
                meta={
                    **meta,
                    **({"reason": context.reason[:200]} if context.actor else {}),
                    "refund_of": str(original.uuid),
                },
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
            context.audit = AuditDraft(
                target=original,
                amount=refund.received,
                unit=source.unit,
                before=before,
                after={**cls._refund_state(original, source), "refund": str(refund.uuid)},
            )
            return refund

        result = run(
            Operation(
                "refund",
                wallets=[source_wallet, destination_wallet],
                idempotency_key=idempotency_key,
                scope=None if actor else idempotency.holder_scope(destination_wallet),
                fingerprint=[
                    str(transfer.uuid),
                    None if requested is None else str(requested),
                    meta,
                    force,
                ],
                actor=actor,
                action=Action.REFUND_TRANSFER,
            ),
            perform,
        )
        transfer.refresh_from_db(fields=["refunded_amount", "refund_state"])
        return result

    @classmethod
    def bulk_transfer(cls, items: Iterable[Any]) -> list[Transfer | TransferHold]:
        """Many transfers in one operation, all or nothing (``wallets.services.bulk``).

        Items are ``(source, destination, amount)`` or ``bulk.TransferItem``."""
        return bulk.bulk_transfer(items)

    # Held transfers (see wallets.services.holds)

    @classmethod
    def release_hold(
        cls,
        hold: TransferHold,
        note: str = "",
        *,
        actor: StaffActor | None = None,
        idempotency_key: str | None = None,
    ) -> Transfer:
        """Send a transfer the risk policy held; the reserved amount leaves the source."""
        return holds.release_hold(hold, note, actor=actor, idempotency_key=idempotency_key)

    @classmethod
    def reject_hold(
        cls,
        hold: TransferHold,
        note: str = "",
        *,
        actor: StaffActor | None = None,
        idempotency_key: str | None = None,
    ) -> TransferHold:
        """Refuse a held transfer (staff); its reserved amount is freed."""
        return holds.reject_hold(hold, note, actor=actor, idempotency_key=idempotency_key)

    @classmethod
    def cancel_hold(cls, hold: TransferHold, note: str = "") -> TransferHold:
        """The holder withdraws a held transfer; its reserved amount is freed."""
        return holds.reject_hold(hold, note, state=TransferHold.State.CANCELED)

    # Helpers

    @staticmethod
    def _refund_state(transfer: Transfer, source: Wallet) -> dict[str, str]:
        return {
            "refund_state": transfer.refund_state,
            "refunded_amount": at_precision(transfer.refunded_amount, source),
        }

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
