"""Transfers held for review: placing a hold, and releasing or rejecting it.

The transfer operation places a hold when the risk policy says so: the amount
is reserved by a pending withdrawal on the source (so ``held`` covers it) and
the :class:`TransferHold` names both wallets, the amount and the rule. Staff
release it (the reservation becomes the transfer's source leg, and the
destination is credited) or reject it; the holder may cancel it. Each is an
engine operation; :class:`~wallets.services.transfer.TransferService` exposes them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from wallets import fees, signals
from wallets.audit import AuditDraft
from wallets.exceptions import HoldNotOpen
from wallets.fee_ledger import charge_transfer_fee
from wallets.ledger import (
    after_commit,
    announce_transactions,
    announce_transfers,
    clean_note,
    ensure_active,
    ensure_available,
    post,
    release_pending,
    settle_pending,
    write_balances,
)
from wallets.models import AuditEntry, TransferHold
from wallets.operations import Context, Operation, run
from wallets.risk import RiskDecision
from wallets.staff import StaffActor
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()

Action = AuditEntry.Action
HoldState = TransferHold.State


def place_hold(
    source: Wallet, destination: Wallet, amount: Decimal, meta: dict, decision: RiskDecision
) -> TransferHold:
    """Inside the transfer operation, with both wallets locked and the funds checked."""
    reservation = post(
        source,
        -amount,
        confirmed=False,
        meta={**meta, "request": "transfer-review"},
    )
    write_balances(source)
    hold = TransferHold.objects.create(
        from_wallet=source,
        to_wallet=destination,
        amount=amount,
        reservation=reservation,
        rule_id=decision.rule_id,
        rule_name=decision.rule[:100],
        message=decision.message,
        meta=meta,
    )
    announce_transactions([reservation])
    after_commit(signals.transfer_held, TransferHold, hold=hold)
    return hold


def _open_hold(hold: TransferHold) -> TransferHold:
    fresh = TransferHold.objects.select_related("reservation").get(pk=hold.pk)
    if fresh.state != HoldState.HELD:
        raise HoldNotOpen(f"The held transfer was already {fresh.get_state_display().lower()}.")
    return fresh


def decide(hold: TransferHold, state: str, by: Any, note: str, **extra: Any) -> None:
    """Record a hold's way out of ``held``: who decided (None: the holder or the
    system), when and why."""
    hold.state = state
    hold.decided_by = by
    hold.decided_at = timezone.now()
    hold.decision_note = note
    for name, value in extra.items():
        setattr(hold, name, value)
    hold.save(update_fields=["state", "decided_by", "decided_at", "decision_note", *extra])


def release_hold(
    hold: TransferHold,
    note: str = "",
    *,
    actor: StaffActor | None = None,
    idempotency_key: str | None = None,
) -> Transfer:
    """Send a held transfer: the reservation is posted as its source leg.

    A fee policy that applies to the transfer now charges its fee on release."""
    note = clean_note(note)
    fee_plan = fees.plan_for(fees.TRANSFER, hold.from_wallet, hold.to_wallet)

    def perform(context: Context) -> Transfer:
        source, destination = context.locked[:2]
        fresh = _open_hold(hold)
        ensure_active(source, destination)
        plan = fee_plan.under_lock(context) if fee_plan else None
        fee = plan.fee_on(fresh.amount, source, destination) if plan else Decimal(0)
        if fee and not plan.deductible:
            # The amount is reserved already; the fee needs funds of its own.
            ensure_available(source, fee)
        decision_note = note or context.reason
        meta = {**fresh.meta, "released_from": str(fresh.uuid)}
        signals.pre_deposit.send(sender=Wallet, wallet=destination, amount=fresh.amount, meta=meta)
        withdraw = settle_pending(source, fresh.reservation, decision_note)
        deposit = post(destination, fresh.amount, meta=meta)
        write_balances(source, destination)
        transfer = Transfer.objects.create(
            kind=Transfer.Kind.TRANSFER,
            from_wallet=source,
            to_wallet=destination,
            withdraw=withdraw,
            deposit=deposit,
            amount=fresh.amount,
            received=fresh.amount,
            meta=meta,
        )
        if fee:
            charge_transfer_fee(plan, fee, transfer, source, destination)
        decide(fresh, HoldState.RELEASED, context.by, decision_note, transfer=transfer)
        announce_transactions([deposit])
        announce_transfers([transfer])
        context.audit = AuditDraft(
            target=fresh,
            amount=fresh.amount,
            unit=source.unit,
            before={"state": HoldState.HELD},
            after={"state": fresh.state, "transfer": str(transfer.uuid)},
        )
        return transfer

    transfer = run(
        Operation(
            "release_hold",
            wallets=[
                hold.from_wallet,
                hold.to_wallet,
                *([fee_plan.fee_wallet] if fee_plan else []),
            ],
            idempotency_key=idempotency_key,
            fingerprint=[str(hold.uuid)],
            actor=actor,
            action=Action.RELEASE_HOLD,
        ),
        perform,
    )
    hold.refresh_from_db()
    return transfer


def reject_hold(
    hold: TransferHold,
    note: str = "",
    *,
    state: str = HoldState.REJECTED,
    actor: StaffActor | None = None,
    idempotency_key: str | None = None,
) -> TransferHold:
    """Refuse a held transfer (staff: ``rejected``; the holder: ``canceled``).

    The reservation is released; nothing moves, so this works on frozen wallets."""
    if state not in (HoldState.REJECTED, HoldState.CANCELED):
        raise ValueError(f"{state!r} is not a way to refuse a held transfer")
    note = clean_note(note)

    def perform(context: Context) -> TransferHold:
        (source,) = context.locked
        fresh = _open_hold(hold)
        decision_note = note or context.reason
        release_pending(source, fresh.reservation, state, decision_note)
        write_balances(source)
        decide(fresh, state, context.by, decision_note)
        context.audit = AuditDraft(
            target=fresh,
            amount=fresh.amount,
            unit=source.unit,
            before={"state": HoldState.HELD},
            after={"state": fresh.state},
        )
        return fresh

    result = run(
        Operation(
            "reject_hold",
            wallets=[hold.from_wallet],
            idempotency_key=idempotency_key,
            fingerprint=[str(hold.uuid), state],
            actor=actor,
            action=Action.REJECT_HOLD,
        ),
        perform,
    )
    hold.refresh_from_db()
    return result
