"""The staff audit log: one :class:`AuditEntry` per staff action.

Only the operation door (:mod:`wallets.operations`) writes entries, inside
the operation's transaction, so an entry exists exactly when its change does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from wallets.amounts import quantum
from wallets.models import AuditEntry
from wallets.staff import StaffActor
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()


def at_precision(value: Decimal, wallet: Wallet) -> str:
    """An amount as text at the wallet's decimal places, as staff read it."""
    return str(Decimal(value).quantize(quantum(wallet.decimal_places)))


def wallet_snapshot(wallet: Wallet) -> dict[str, Any]:
    return {
        "name": wallet.name,
        "balance": at_precision(wallet.balance, wallet),
        "held": at_precision(wallet.held, wallet),
        "credit_limit": at_precision(wallet.credit_limit, wallet),
        "is_frozen": wallet.is_frozen,
    }


@dataclass
class AuditDraft:
    """What an operation tells the door about its audit entry."""

    target: models.Model | None = None
    amount: Decimal | None = None
    unit: str = ""
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


def write_entry(
    actor: StaffActor,
    action: str,
    reason: str,
    draft: AuditDraft,
    *,
    wallets_before: dict[str, Any],
    wallets_after: dict[str, Any],
    idempotency_key: str = "",
) -> AuditEntry:
    target = draft.target
    if target is None:
        raise ValueError(f"The '{action}' operation named no audit target.")
    return AuditEntry.objects.create(
        actor=actor.user,
        actor_label=actor.label,
        action=action,
        target_type=ContentType.objects.get_for_model(target),
        target_id=str(target.pk),
        target_uuid=str(getattr(target, "uuid", "") or getattr(target, "number", "") or ""),
        target_label=str(target)[:200],
        reason=reason,
        before={**draft.before, "wallets": wallets_before},
        after={**draft.after, "wallets": wallets_after},
        ip_address=actor.ip or None,
        amount=draft.amount,
        unit=draft.unit,
        idempotency_key=idempotency_key or "",
    )
