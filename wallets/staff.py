"""Who acts on staff authority, and what each staff action may do.

An engine operation given a :class:`StaffActor` is a staff action: the door
(:mod:`wallets.operations`) checks the actor's permission for the action and
the reason, and writes the audit entry in the operation's transaction. An
operation without an actor is the holder's own (or the system's) and writes
no entry. :func:`acting_as_staff` is the one place that decides which of the
two a request is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.db.models import Model

from wallets.exceptions import ReasonRequired
from wallets.ledger import clean_note
from wallets.models import AuditEntry
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Action = AuditEntry.Action

# The permission each action needs, in the admin, the console and the shop alike:
# the model whose permission it is (swappable models carry their own app label) and
# the codename.
PERMISSION_CODENAMES: dict[str, tuple[Callable[[], type[Model]], str]] = {
    Action.FREEZE: (get_wallet_model, "freeze_wallet"),
    Action.UNFREEZE: (get_wallet_model, "freeze_wallet"),
    Action.CONFIRM: (get_transaction_model, "confirm_transaction"),
    Action.REJECT: (get_transaction_model, "confirm_transaction"),
    Action.RELEASE_HOLD: (get_transaction_model, "confirm_transaction"),
    Action.REJECT_HOLD: (get_transaction_model, "confirm_transaction"),
    Action.REVERSE: (get_transaction_model, "reverse_transaction"),
    Action.REFUND_TRANSFER: (get_transfer_model, "refund_transfer"),
    Action.REFUND_ORDER: (get_transfer_model, "refund_transfer"),
    Action.CREDIT: (get_wallet_model, "adjust_wallet"),
    Action.DEBIT: (get_wallet_model, "adjust_wallet"),
    Action.RENAME: (get_wallet_model, "change"),  # Django's own change permission
    Action.CREDIT_LIMIT: (get_wallet_model, "adjust_wallet"),
    Action.REFUND_PURCHASE: (get_transfer_model, "refund_transfer"),
}


def permission(action: str) -> str:
    """The ``app_label.codename`` permission that ``action`` needs."""
    get_model, codename = PERMISSION_CODENAMES[action]
    opts = get_model()._meta
    if codename == "change":
        codename = get_permission_codename("change", opts)
    return f"{opts.app_label}.{codename}"


def can(user: Any, action: str) -> bool:
    """Whether a user may run an action: active staff with the action's permission."""
    return bool(
        user is not None
        and getattr(user, "is_active", False)
        and getattr(user, "is_staff", False)
        and user.has_perm(permission(action))
    )


def request_ip(request: Any) -> str | None:
    """The client address a staff action is audited with: ``REMOTE_ADDR``, which
    the project's trusted-proxy setting makes the client's behind a balancer."""
    return request.META.get("REMOTE_ADDR") or None


@dataclass(frozen=True)
class StaffActor:
    """A staff member acting, with the reason the audit log records."""

    user: Any
    reason: str
    ip: str | None = None

    @classmethod
    def from_request(cls, request: Any, reason: str) -> StaffActor:
        """The signed-in staff member of ``request``, from the request's address."""
        return cls(user=request.user, reason=reason, ip=request_ip(request))

    @property
    def label(self) -> str:
        return (getattr(self.user, "email", "") or str(self.user))[:254]

    @property
    def idempotency_scope(self) -> str:
        return f"staff:{self.user.pk}"

    def authorize(self, action: str) -> str:
        """The cleaned reason, once the actor may run ``action``; else raise."""
        if not can(self.user, action):
            raise PermissionDenied(f"You are not allowed to {Action(action).label.lower()}.")
        reason = clean_note(self.reason, "reason").strip()
        if not reason:
            raise ReasonRequired()
        return reason


def acting_as_staff(
    user: Any, action: str, *, is_owner: bool, reason: str = "", ip: str | None = None
) -> StaffActor | None:
    """Who ``user`` acts as: the owner (``None``: no audit entry), or staff (audited).

    Owners act on their own authority even when they are staff too; others
    need the action's staff permission, or get PermissionDenied.
    """
    if is_owner:
        return None
    if not can(user, action):
        raise PermissionDenied(f"You are not allowed to {Action(action).label.lower()}.")
    return StaffActor(user=user, reason=reason, ip=ip)
