"""Transfers held for review: read-only rows that staff release or reject.

A held transfer's amount is reserved on the source by a pending withdrawal.
Releasing it sends the transfer; rejecting it frees the reservation. Both are
engine operations (``TransferService.release_hold`` / ``reject_hold``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from wallets.admin.confirmation import Confirmed, ConfirmedAction, run_confirmed_action
from wallets.admin.display import ReadOnlyAdmin, admin_link, holder_name, money
from wallets.models import AuditEntry, TransferHold
from wallets.services import transfer_service
from wallets.staff import can

Action = AuditEntry.Action


def _not_open(hold: TransferHold) -> str | None:
    if hold.is_open:
        return None
    return f"Already {hold.get_state_display().lower()}: will be refused."


def _route(hold: TransferHold) -> str:
    source, destination = hold.from_wallet, hold.to_wallet
    return (
        f"{money(hold.amount, source)} from '{source.name}' of {holder_name(source)} "
        f"to '{destination.name}' of {holder_name(destination)}"
    )


def _describe_release(hold: TransferHold, data: dict[str, Any] | None) -> str:
    refused = _not_open(hold)
    if refused:
        return refused
    return (
        f"Send {_route(hold)}, held by rule '{hold.rule_name}' ({hold.message}). "
        "The reserved amount leaves the source; the destination is credited."
    )


def _describe_reject(hold: TransferHold, data: dict[str, Any] | None) -> str:
    refused = _not_open(hold)
    if refused:
        return refused
    return (
        f"Reject {_route(hold)}, held by rule '{hold.rule_name}'. The reserved amount "
        f"is freed on '{hold.from_wallet.name}'; nothing moves."
    )


def _release(hold: TransferHold, done: Confirmed) -> Any:
    return transfer_service().release_hold(
        hold, actor=done.actor, idempotency_key=done.key_for(hold)
    )


def _reject(hold: TransferHold, done: Confirmed) -> Any:
    return transfer_service().reject_hold(
        hold, actor=done.actor, idempotency_key=done.key_for(hold)
    )


RELEASE = ConfirmedAction(
    title="Release held transfers", describe=_describe_release, perform=_release
)
REJECT = ConfirmedAction(title="Reject held transfers", describe=_describe_reject, perform=_reject)


@admin.register(TransferHold)
class TransferHoldAdmin(ReadOnlyAdmin):
    list_display = (
        "uuid",
        "from_holder",
        "to_holder",
        "amount_display",
        "rule_name",
        "state",
        "created_at",
    )
    list_filter = ("state", "rule", ("created_at", admin.DateFieldListFilter))
    search_fields = ("=uuid", "rule_name")
    list_select_related = ("from_wallet", "to_wallet")
    date_hierarchy = "created_at"
    fields = (
        "uuid",
        "state",
        "from_link",
        "to_link",
        "amount_display",
        "rule_link",
        "rule_name",
        "message",
        "reservation_link",
        "transfer_link",
        "decided_by",
        "decided_at",
        "decision_note",
        "meta",
        "created_at",
    )
    readonly_fields = fields
    actions = ("release_holds", "reject_holds")

    def get_queryset(self, request: HttpRequest) -> QuerySet[TransferHold]:
        # Holders of both sides in one query per holder model, however many rows.
        return (
            super()
            .get_queryset(request)
            .select_related("from_wallet", "to_wallet")
            .prefetch_related("from_wallet__holder", "to_wallet__holder")
        )

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Staff who decide holds see them without a separate view permission.
        return super().has_view_permission(request, obj) or self.has_decide_permission(request)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return can(request.user, Action.RELEASE_HOLD)

    @admin.display(description="From")
    def from_holder(self, obj: TransferHold) -> str:
        return holder_name(obj.from_wallet)

    @admin.display(description="To")
    def to_holder(self, obj: TransferHold) -> str:
        return holder_name(obj.to_wallet)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: TransferHold) -> str:
        return money(obj.amount, obj.from_wallet)

    @admin.display(description="From wallet")
    def from_link(self, obj: TransferHold) -> str:
        return admin_link(obj.from_wallet, f"{obj.from_wallet} — {holder_name(obj.from_wallet)}")

    @admin.display(description="To wallet")
    def to_link(self, obj: TransferHold) -> str:
        return admin_link(obj.to_wallet, f"{obj.to_wallet} — {holder_name(obj.to_wallet)}")

    @admin.display(description="Rule")
    def rule_link(self, obj: TransferHold) -> str:
        return admin_link(obj.rule)

    @admin.display(description="Reservation")
    def reservation_link(self, obj: TransferHold) -> str:
        return admin_link(obj.reservation, obj.reservation.uuid)

    @admin.display(description="Transfer sent")
    def transfer_link(self, obj: TransferHold) -> str:
        return admin_link(obj.transfer, obj.transfer.uuid if obj.transfer else None)

    @admin.action(description="Release selected held transfers…", permissions=["decide"])
    def release_holds(self, request: HttpRequest, queryset: QuerySet[TransferHold]):
        return run_confirmed_action(self, request, queryset, RELEASE)

    @admin.action(description="Reject selected held transfers…", permissions=["decide"])
    def reject_holds(self, request: HttpRequest, queryset: QuerySet[TransferHold]):
        return run_confirmed_action(self, request, queryset, REJECT)
