"""Moving value between wallets: transfers, their preview, gifts, and the entry points
for refunds (``refunds``) and held transfers (``holds``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from wallets import conf, fees
from wallets.amounts import Amount, exact, parse_amount
from wallets.exceptions import (
    RiskLimitExceeded,
    SameWallet,
    UnitMismatch,
)
from wallets.fee_ledger import charge_transfer_fee
from wallets.fees import FeePlan, FeeQuote
from wallets.holders import holder_label, peek_wallet, resolve_wallet, unopened_wallet
from wallets.ledger import (
    ensure_active,
    ensure_available,
)
from wallets.models import AuditEntry, TransferHold
from wallets.operations import Context, Operation, run
from wallets.risk import HOLD, RiskDecision, applies_to, judged, transfer_policy
from wallets.services import bulk, holds, refunds
from wallets.services.moves import move, move_in_one_statement, receivers_judge_moves
from wallets.staff import StaffActor
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()

Kind = Transfer.Kind
Action = AuditEntry.Action


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
    # The fee a policy would charge (see wallets.fees), if any: added to what
    # leaves the source, or deducted from what the recipient keeps.
    fee_quote: FeeQuote | None = None

    @property
    def fee(self) -> Decimal:
        return self.fee_quote.fee if self.fee_quote else Decimal(0)

    @property
    def fee_deducted(self) -> bool:
        return bool(self.fee_quote and self.fee_quote.deductible)

    @property
    def total(self) -> Decimal:
        """What leaves the source, fee included."""
        return self.fee_quote.total if self.fee_quote else self.amount

    @property
    def received(self) -> Decimal:
        """What the recipient keeps."""
        return self.fee_quote.received if self.fee_quote else self.amount


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


def _judged_under_lock(source: Wallet, kind: str) -> bool:
    """Whether anything in Python decides about this transfer under the locks:
    ``pre_withdraw``/``pre_deposit`` receivers, or the risk policy."""
    return receivers_judge_moves() or judged([source], kind)


def transfer_in_operation(
    source: Wallet,
    destination: Wallet,
    value: Decimal,
    meta: dict,
    kind: str,
    fee_plan: FeePlan | None = None,
) -> Transfer | TransferHold:
    """A transfer inside an operation that holds both wallets' locks (and the
    fee wallet's, with a ``fee_plan`` made under them): the checks, the risk
    policy, then the transfer and its fee, or the hold."""
    ensure_active(source, destination)
    fee = fee_plan.fee_on(value, source, destination) if fee_plan else Decimal(0)
    ensure_available(source, value + fee if fee and not fee_plan.deductible else value)
    decision = _policy_decision(source, destination, value, meta, kind)
    if decision is not None:
        # The fee is charged when the transfer is released (holds.release_hold).
        return holds.place_hold(source, destination, value, meta, decision)
    transfer = move(source, destination, value, value, kind=kind, meta=meta)
    if fee:
        charge_transfer_fee(fee_plan, fee, transfer, source, destination)
    return transfer


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
        # The policy also sees a recipient whose wallet opens on arrival.
        receiving = destination if destination is not None else unopened_wallet(to)
        fee_quote = fees.quote(fees.TRANSFER, source, value, receiving)
        total = fee_quote.total if fee_quote else value
        ensure_available(source, total)
        review = _policy_decision(source, receiving, value, dict(meta or {}), Kind.TRANSFER)
        return TransferQuote(
            source=source,
            destination=destination,
            amount=value,
            balance_after=source.balance - total,
            available_after=source.available - total,
            review=review,
            fee_quote=fee_quote,
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
        fee_plan = fees.plan_for(fees.kind_of(kind), source, destination)

        def perform(context: Context) -> Transfer | TransferHold:
            if not context.locked:
                # One statement locks, checks and moves (PostgreSQL).
                return move_in_one_statement(
                    context, source, destination, value, kind=kind, meta=meta
                )
            locked_source, locked_destination = context.locked[:2]
            plan = fee_plan.under_lock(context) if fee_plan else None
            return transfer_in_operation(locked_source, locked_destination, value, meta, kind, plan)

        return run(
            Operation(
                "transfer",
                wallets=[source, destination, *([fee_plan.fee_wallet] if fee_plan else [])],
                idempotency_key=idempotency_key,
                fingerprint=[str(source.uuid), str(destination.uuid), str(value), meta, kind],
                one_statement=fee_plan is None and not _judged_under_lock(source, kind),
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
        """Return money along a transfer's path, in full or in part
        (``wallets.services.refunds.refund_transfer``)."""
        return refunds.refund_transfer(transfer, amount, meta, idempotency_key, force, actor=actor)

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
