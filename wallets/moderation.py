"""Staff actions on the ledger, each with its audit entry.

Every function here is one staff action: it checks the actor's permission and
the reason, calls the engine's service, and writes an :class:`AuditEntry` in
the same database transaction, so either both the change and its audit row
exist or neither does. A refused action (engine error, missing permission or
reason) writes nothing. The admin and the portal's staff console call these;
nothing else changes money on staff's behalf.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models
from django.db import transaction as db_transaction

from wallets import risk
from wallets.amounts import Amount, parse_amount, quantum
from wallets.exceptions import WalletError
from wallets.locking import lock_wallets
from wallets.models import AuditEntry, Transaction, Transfer, Wallet
from wallets.services import transfer_service, wallet_service

Action = AuditEntry.Action

# The permission each action needs, in the admin and in the console alike.
PERMISSIONS: dict[str, str] = {
    Action.FREEZE: "wallets.freeze_wallet",
    Action.UNFREEZE: "wallets.freeze_wallet",
    Action.CONFIRM: "wallets.confirm_transaction",
    Action.REJECT: "wallets.confirm_transaction",
    Action.REVERSE: "wallets.reverse_transaction",
    Action.REFUND_TRANSFER: "wallets.refund_transfer",
    Action.REFUND_ORDER: "wallets.refund_transfer",
    Action.CREDIT: "wallets.adjust_wallet",
    Action.DEBIT: "wallets.adjust_wallet",
}


class ModerationError(WalletError):
    default_message = "The staff action was refused."


class ReasonRequired(ModerationError):
    default_message = "Give a reason: it is recorded in the audit log."


class WalletAlreadyFrozen(ModerationError):
    default_message = "The wallet is already frozen."


class WalletNotFrozen(ModerationError):
    default_message = "The wallet is not frozen."


def can(actor: Any, action: str) -> bool:
    """Whether a user may run an action: active staff with the action's permission."""
    return bool(
        actor is not None
        and getattr(actor, "is_active", False)
        and getattr(actor, "is_staff", False)
        and actor.has_perm(PERMISSIONS[action])
    )


def check_allowed(actor: Any, action: str, reason: str) -> str:
    if not can(actor, action):
        raise PermissionDenied(f"You are not allowed to {Action(action).label.lower()}.")
    reason = (reason or "").strip()
    if not reason:
        raise ReasonRequired()
    return reason


def at_precision(value: Decimal, wallet: Wallet) -> str:
    """An amount as text at the wallet's decimal places, as staff read it."""
    return str(Decimal(value).quantize(quantum(wallet.decimal_places)))


def wallet_snapshot(wallet: Wallet) -> dict[str, Any]:
    return {
        "balance": at_precision(wallet.balance, wallet),
        "held": at_precision(wallet.held, wallet),
        "is_frozen": wallet.is_frozen,
    }


def record(
    *,
    actor: Any,
    action: str,
    target: models.Model,
    reason: str,
    before: dict[str, Any],
    after: dict[str, Any],
    ip: str | None = None,
    amount: Decimal | None = None,
    unit: str = "",
    idempotency_key: str = "",
) -> AuditEntry:
    """Write one audit entry. Call it inside the transaction that made the change."""
    return AuditEntry.objects.create(
        actor=actor,
        actor_label=(getattr(actor, "email", "") or str(actor))[:254],
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        target_uuid=str(getattr(target, "uuid", "") or getattr(target, "number", "") or ""),
        target_label=str(target)[:200],
        reason=reason,
        before=before,
        after=after,
        ip_address=ip or None,
        amount=amount,
        unit=unit,
        idempotency_key=idempotency_key or "",
    )


def _replayed(actor: Any, idempotency_key: str | None) -> AuditEntry | None:
    """The entry of an earlier call with the same key: a resubmitted form moves nothing."""
    if not idempotency_key or actor is None:
        return None
    return AuditEntry.objects.filter(actor=actor, idempotency_key=idempotency_key).first()


def _run(actor: Any, idempotency_key: str | None, perform: Callable[[], AuditEntry]) -> AuditEntry:
    earlier = _replayed(actor, idempotency_key)
    if earlier is not None:
        return earlier
    try:
        with db_transaction.atomic():
            return perform()
    except IntegrityError:
        # Two submissions of the same form raced; the first one's entry stands.
        earlier = _replayed(actor, idempotency_key)
        if earlier is None:
            raise
        return earlier


def _staff_meta(actor: Any, reason: str, action: str) -> dict[str, Any]:
    return {"staff_action": action, "staff": getattr(actor, "pk", None), "reason": reason[:200]}


def freeze_wallet(wallet: Wallet, *, actor: Any, reason: str, ip: str | None = None) -> AuditEntry:
    reason = check_allowed(actor, Action.FREEZE, reason)
    with db_transaction.atomic():
        (locked,) = lock_wallets(wallet)
        if locked.is_frozen:
            raise WalletAlreadyFrozen(f"The wallet '{locked.name}' is already frozen.")
        before = wallet_snapshot(locked)
        frozen = wallet_service().freeze(locked, reason=reason, by=actor)
        entry = record(
            actor=actor,
            action=Action.FREEZE,
            target=frozen,
            reason=reason,
            before=before,
            after=wallet_snapshot(frozen),
            ip=ip,
            unit=frozen.unit,
        )
    wallet.refresh_from_db()
    return entry


def unfreeze_wallet(
    wallet: Wallet, *, actor: Any, reason: str, ip: str | None = None
) -> AuditEntry:
    reason = check_allowed(actor, Action.UNFREEZE, reason)
    with db_transaction.atomic():
        (locked,) = lock_wallets(wallet)
        if not locked.is_frozen:
            raise WalletNotFrozen(f"The wallet '{locked.name}' is not frozen.")
        before = {**wallet_snapshot(locked), "frozen_reason": locked.frozen_reason}
        unfrozen = wallet_service().unfreeze(locked, by=actor)
        entry = record(
            actor=actor,
            action=Action.UNFREEZE,
            target=unfrozen,
            reason=reason,
            before=before,
            after=wallet_snapshot(unfrozen),
            ip=ip,
            unit=unfrozen.unit,
        )
    wallet.refresh_from_db()
    return entry


def _tx_snapshot(tx: Transaction, wallet: Wallet) -> dict[str, Any]:
    return {"state": tx.state, **wallet_snapshot(wallet)}


def confirm_transaction(
    tx: Transaction, *, actor: Any, reason: str, ip: str | None = None
) -> AuditEntry:
    """Confirm a pending transaction; a transfer held by a risk rule is sent instead."""
    reason = check_allowed(actor, Action.CONFIRM, reason)
    with db_transaction.atomic():
        if risk.is_held_transfer(tx):
            # Both wallets of the transfer, in the engine's fixed order, before anything else.
            destination = Wallet.objects.get(uuid=risk.held_transfer_details(tx)["to_wallet"])
            wallet, _ = lock_wallets(tx.wallet, destination)
        else:
            (wallet,) = lock_wallets(tx.wallet)
        fresh = Transaction.objects.get(pk=tx.pk)
        before = _tx_snapshot(fresh, wallet)
        after_extra: dict[str, Any] = {}
        if risk.is_held_transfer(fresh):
            transfer = risk.release_held_transfer(fresh, note=reason)
            after_extra = {"transfer": str(transfer.uuid)}
        else:
            wallet_service().confirm_transaction(fresh, note=reason)
        fresh.refresh_from_db()
        wallet.refresh_from_db()
        entry = record(
            actor=actor,
            action=Action.CONFIRM,
            target=fresh,
            reason=reason,
            before=before,
            after={**_tx_snapshot(fresh, wallet), **after_extra},
            ip=ip,
            amount=fresh.amount,
            unit=wallet.unit,
        )
    tx.refresh_from_db()
    return entry


def reject_transaction(
    tx: Transaction, *, actor: Any, reason: str, ip: str | None = None
) -> AuditEntry:
    reason = check_allowed(actor, Action.REJECT, reason)
    with db_transaction.atomic():
        (wallet,) = lock_wallets(tx.wallet)
        fresh = Transaction.objects.get(pk=tx.pk)
        before = _tx_snapshot(fresh, wallet)
        wallet_service().reject_transaction(fresh, reason=reason)
        fresh.refresh_from_db()
        wallet.refresh_from_db()
        entry = record(
            actor=actor,
            action=Action.REJECT,
            target=fresh,
            reason=reason,
            before=before,
            after=_tx_snapshot(fresh, wallet),
            ip=ip,
            amount=fresh.amount,
            unit=wallet.unit,
        )
    tx.refresh_from_db()
    return entry


def reverse_transaction(
    tx: Transaction,
    *,
    actor: Any,
    reason: str,
    ip: str | None = None,
    force: bool = False,
    idempotency_key: str | None = None,
) -> AuditEntry:
    """Post the opposite of a confirmed transaction (``force``: even past the funds)."""
    reason = check_allowed(actor, Action.REVERSE, reason)

    def perform() -> AuditEntry:
        (wallet,) = lock_wallets(tx.wallet)
        before = {**wallet_snapshot(wallet), "reversed": False}
        reversal = wallet_service().reverse_transaction(
            tx, meta=_staff_meta(actor, reason, Action.REVERSE), force=force
        )
        wallet.refresh_from_db()
        return record(
            actor=actor,
            action=Action.REVERSE,
            target=tx,
            reason=reason,
            before=before,
            after={**wallet_snapshot(wallet), "reversed": True, "reversal": str(reversal.uuid)},
            ip=ip,
            amount=reversal.amount,
            unit=wallet.unit,
            idempotency_key=idempotency_key or "",
        )

    return _run(actor, idempotency_key, perform)


def refund_transfer(
    transfer: Transfer,
    *,
    actor: Any,
    reason: str,
    amount: Amount | None = None,
    ip: str | None = None,
    force: bool = False,
    idempotency_key: str | None = None,
) -> AuditEntry:
    """Refund a transfer in full (``amount=None``) or in part, along its path."""
    reason = check_allowed(actor, Action.REFUND_TRANSFER, reason)

    def perform() -> AuditEntry:
        source, destination = lock_wallets(transfer.from_wallet, transfer.to_wallet)
        original = Transfer.objects.get(pk=transfer.pk)
        before = _transfer_snapshot(original, source, destination)
        refund = transfer_service().refund(
            original,
            amount=amount,
            meta=_staff_meta(actor, reason, Action.REFUND_TRANSFER),
            force=force,
        )
        original.refresh_from_db()
        source.refresh_from_db()
        destination.refresh_from_db()
        return record(
            actor=actor,
            action=Action.REFUND_TRANSFER,
            target=original,
            reason=reason,
            before=before,
            after={
                **_transfer_snapshot(original, source, destination),
                "refund": str(refund.uuid),
            },
            ip=ip,
            amount=refund.received,
            unit=source.unit,
            idempotency_key=idempotency_key or "",
        )

    entry = _run(actor, idempotency_key, perform)
    transfer.refresh_from_db()
    return entry


def _transfer_snapshot(transfer: Transfer, source: Wallet, destination: Wallet) -> dict[str, Any]:
    return {
        "refund_state": transfer.refund_state,
        "refunded_amount": at_precision(transfer.refunded_amount, source),
        "from_balance": at_precision(source.balance, source),
        "to_balance": at_precision(destination.balance, destination),
    }


def adjust_wallet(
    wallet: Wallet,
    *,
    actor: Any,
    reason: str,
    amount: Amount,
    credit: bool,
    ip: str | None = None,
    allow_negative: bool = False,
    idempotency_key: str | None = None,
) -> AuditEntry:
    """A manual credit or debit; a debit may take the balance below zero only if allowed."""
    action = Action.CREDIT if credit else Action.DEBIT
    reason = check_allowed(actor, action, reason)
    value = parse_amount(amount, wallet.decimal_places)

    def perform() -> AuditEntry:
        (locked,) = lock_wallets(wallet)
        before = wallet_snapshot(locked)
        meta = _staff_meta(actor, reason, action)
        service = wallet_service()
        if credit:
            tx = service.deposit(locked, value, meta=meta)
        elif allow_negative:
            tx = service.force_withdraw(locked, value, meta=meta)
        else:
            tx = service.withdraw(locked, value, meta=meta)
        return record(
            actor=actor,
            action=action,
            target=locked,
            reason=reason,
            before=before,
            after={**wallet_snapshot(locked), "transaction": str(tx.uuid)},
            ip=ip,
            amount=tx.amount,
            unit=locked.unit,
            idempotency_key=idempotency_key or "",
        )

    entry = _run(actor, idempotency_key, perform)
    wallet.refresh_from_db()
    return entry
