"""A wallet's own state: opening, freezing, unfreezing and renaming.

Each change is one engine operation under the wallet's lock, written with an
UPDATE of the changed columns only, so it never overwrites a balance that
committed meanwhile (``Wallet.save()`` refuses existing rows for that reason).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone

from wallets.amounts import Amount, parse_amount, to_decimal
from wallets.audit import AuditDraft
from wallets.exceptions import AmountInvalid, WalletAlreadyFrozen, WalletInvalid, WalletNotFrozen
from wallets.holders import open_wallet
from wallets.ledger import clean_note
from wallets.models import AuditEntry
from wallets.operations import Context, Operation, run
from wallets.staff import StaffActor
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

Action = AuditEntry.Action
NAME_MAX_LENGTH = 100


def write_state(wallet: Wallet, **values: Any) -> None:
    """Write some state columns of a locked wallet, and onto its locked copy."""
    values["updated_at"] = timezone.now()
    Wallet.objects.filter(pk=wallet.pk).update(**values)
    for name, value in values.items():
        setattr(wallet, name, value)


class WalletStateService:
    @classmethod
    def open_wallet(cls, holder: Any, slug: str, **create_fields: Any) -> Wallet:
        """Open the holder's wallet ``slug``; ``WalletAlreadyExists`` if it is taken."""
        return open_wallet(holder, slug, **create_fields)

    @classmethod
    def freeze(
        cls,
        wallet: Wallet,
        note: str = "",
        *,
        message: str = "",
        by: Any = None,
        actor: StaffActor | None = None,
        idempotency_key: str | None = None,
    ) -> Wallet:
        """Block every operation into or out of the wallet until it is unfrozen.

        ``message`` is what the holder is told (a neutral default when empty);
        ``note`` is for staff only (with an actor, the audit reason by default).
        """
        note = clean_note(note)
        message = clean_note(message, "message")

        def perform(context: Context) -> Wallet:
            (locked,) = context.locked
            if locked.is_frozen:
                raise WalletAlreadyFrozen(f"The wallet '{locked.name}' is already frozen.")
            write_state(
                locked,
                is_frozen=True,
                frozen_message=message,
                frozen_note=note or context.reason,
                frozen_at=timezone.now(),
                frozen_by=context.by or by,
            )
            context.audit = AuditDraft(
                target=locked,
                unit=locked.unit,
                after={"frozen_message": message, "frozen_note": locked.frozen_note},
            )
            return locked

        return run(
            Operation(
                "freeze",
                wallets=[wallet],
                idempotency_key=idempotency_key,
                fingerprint=[str(wallet.uuid), note, message],
                actor=actor,
                action=Action.FREEZE,
            ),
            perform,
        )

    @classmethod
    def unfreeze(
        cls,
        wallet: Wallet,
        by: Any = None,
        *,
        actor: StaffActor | None = None,
        idempotency_key: str | None = None,
    ) -> Wallet:
        """Accept operations again. Who froze it and why stays in the audit log."""

        def perform(context: Context) -> Wallet:
            (locked,) = context.locked
            if not locked.is_frozen:
                raise WalletNotFrozen(f"The wallet '{locked.name}' is not frozen.")
            before = {"frozen_message": locked.frozen_message, "frozen_note": locked.frozen_note}
            write_state(
                locked,
                is_frozen=False,
                frozen_message="",
                frozen_note="",
                frozen_at=None,
                frozen_by=None,
            )
            context.audit = AuditDraft(target=locked, unit=locked.unit, before=before)
            return locked

        return run(
            Operation(
                "unfreeze",
                wallets=[wallet],
                idempotency_key=idempotency_key,
                fingerprint=[str(wallet.uuid)],
                actor=actor,
                action=Action.UNFREEZE,
            ),
            perform,
        )

    @classmethod
    def rename(
        cls,
        wallet: Wallet,
        name: str,
        *,
        actor: StaffActor | None = None,
        idempotency_key: str | None = None,
    ) -> Wallet:
        """Give the wallet a new display name; nothing else of the row is written."""
        name = clean_note(name, "name").strip()
        if not name or len(name) > NAME_MAX_LENGTH:
            raise WalletInvalid(f"A wallet's name is 1 to {NAME_MAX_LENGTH} characters.")

        def perform(context: Context) -> Wallet:
            (locked,) = context.locked
            context.audit = AuditDraft(target=locked, unit=locked.unit)
            if locked.name != name:
                write_state(locked, name=name)
            return locked

        return run(
            Operation(
                "rename",
                wallets=[wallet],
                idempotency_key=idempotency_key,
                fingerprint=[str(wallet.uuid), name],
                actor=actor,
                action=Action.RENAME,
            ),
            perform,
        )

    @classmethod
    def set_credit_limit(
        cls,
        wallet: Wallet,
        limit: Amount,
        *,
        actor: StaffActor | None = None,
        idempotency_key: str | None = None,
    ) -> Wallet:
        """How far below zero the wallet's balance may go (0: not at all).

        Withdrawals, transfers and payments then proceed while
        ``balance - held + credit_limit`` covers them; ``force_withdraw``
        still ignores it. Set under the wallet's lock, so no operation
        running at the same time sees half of it. A lower limit than the
        wallet already uses only stops it from going further below zero."""
        value = to_decimal(limit)
        if value < 0:
            raise AmountInvalid("A credit limit cannot be below zero.")
        # Zero takes the credit away; anything else is an amount of the wallet.
        value = parse_amount(value, wallet.decimal_places) if value else Decimal(0)

        def perform(context: Context) -> Wallet:
            (locked,) = context.locked
            before = {"credit_limit": str(locked.credit_limit)}
            write_state(locked, credit_limit=value)
            context.audit = AuditDraft(
                target=locked,
                amount=value,
                unit=locked.unit,
                before=before,
                after={"credit_limit": str(value)},
            )
            return locked

        return run(
            Operation(
                "credit_limit",
                wallets=[wallet],
                idempotency_key=idempotency_key,
                fingerprint=[str(wallet.uuid), str(value)],
                actor=actor,
                action=Action.CREDIT_LIMIT,
            ),
            perform,
        )
