"""Transactions and transfers in the admin: read-only rows and the staff actions
on them (:mod:`wallets.admin.ledger_actions`), each row one engine operation."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from wallets.admin import ledger_actions
from wallets.admin.confirmation import run_confirmed_action
from wallets.admin.display import ReadOnlyAdmin, WalletUnitFilter, admin_link, money
from wallets.admin.ledger_actions import reserved_hold
from wallets.models import AuditEntry
from wallets.selectors import pending_for_review
from wallets.staff import can
from wallets.swappable import get_transaction_model, get_transfer_model

Transaction = get_transaction_model()
Transfer = get_transfer_model()

Action = AuditEntry.Action


class TransactionReferenceSearch:
    """Search by uuid, and by the reference kept in the row's meta."""

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            results = results | queryset.filter(meta__reference__icontains=term)
        return results, duplicates


class ReviewQueueFilter(admin.SimpleListFilter):
    """What staff decide here (pending top-ups and payouts) apart from hold reservations."""

    title = "review queue"
    parameter_name = "queue"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [
            ("review", "Pending, decided here"),
            ("held", "Reserving a held transfer"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "review":
            return queryset.filter(pk__in=pending_for_review().values("pk"))
        if self.value() == "held":
            return queryset.filter(transfer_hold__isnull=False)
        return queryset


@admin.register(Transaction)
class TransactionAdmin(TransactionReferenceSearch, ReadOnlyAdmin):
    list_display = (
        "uuid",
        "wallet_link",
        "type",
        "amount_display",
        "state",
        "balance_after_display",
        "reference",
        "created_at",
    )
    list_filter = (
        "type",
        "state",
        ReviewQueueFilter,
        WalletUnitFilter,
        ("created_at", admin.DateFieldListFilter),
    )
    search_fields = ("uuid",)
    list_select_related = ("wallet",)
    fields = (
        "uuid",
        "wallet_link",
        "type",
        "amount_display",
        "state",
        "balance_after_display",
        "meta",
        "transfer_link",
        "hold_link",
        "reversal_of_link",
        "reversed_by_link",
        "created_at",
        "expires_at",
        "resolved_at",
        "resolution_note",
    )
    readonly_fields = fields
    actions = ("confirm_pending", "reject_pending", "reverse_transactions")

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return can(request.user, Action.CONFIRM)

    def has_reverse_permission(self, request: HttpRequest) -> bool:
        return can(request.user, Action.REVERSE)

    @admin.display(description="Wallet", ordering="wallet")
    def wallet_link(self, obj: Transaction) -> str:
        return admin_link(obj.wallet)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Transaction) -> str:
        return money(obj.amount, obj.wallet)

    @admin.display(description="Balance after", ordering="balance_after")
    def balance_after_display(self, obj: Transaction) -> str:
        return money(obj.balance_after, obj.wallet)

    @admin.display(description="Reference")
    def reference(self, obj: Transaction) -> str:
        meta = obj.meta or {}
        return str(meta.get("reference") or meta.get("request") or "")

    @admin.display(description="Transfer")
    def transfer_link(self, obj: Transaction) -> str:
        transfer = Transfer.objects.filter(Q(withdraw=obj) | Q(deposit=obj)).first()
        if transfer is None:
            return "—"
        leg = "source leg" if transfer.withdraw_id == obj.pk else "destination leg"
        return format_html("{} ({})", admin_link(transfer), leg)

    @admin.display(description="Reserves held transfer")
    def hold_link(self, obj: Transaction) -> str:
        hold = reserved_hold(obj)
        return admin_link(hold, hold.uuid) if hold else "—"

    @admin.display(description="Reversal of")
    def reversal_of_link(self, obj: Transaction) -> str:
        return admin_link(obj.reversal_of)

    @admin.display(description="Reversed by")
    def reversed_by_link(self, obj: Transaction) -> str:
        return admin_link(Transaction.objects.filter(reversal_of=obj).first())

    def _rows(self, queryset: QuerySet[Transaction]) -> QuerySet[Transaction]:
        return queryset.select_related("wallet", "transfer_hold")

    @admin.action(description="Confirm selected pending transactions…", permissions=["moderate"])
    def confirm_pending(self, request: HttpRequest, queryset: QuerySet[Transaction]):
        return run_confirmed_action(self, request, self._rows(queryset), ledger_actions.CONFIRM)

    @admin.action(description="Reject selected pending transactions…", permissions=["moderate"])
    def reject_pending(self, request: HttpRequest, queryset: QuerySet[Transaction]):
        return run_confirmed_action(self, request, self._rows(queryset), ledger_actions.REJECT)

    @admin.action(description="Reverse selected transactions…", permissions=["reverse"])
    def reverse_transactions(self, request: HttpRequest, queryset: QuerySet[Transaction]):
        return run_confirmed_action(self, request, self._rows(queryset), ledger_actions.REVERSE)


@admin.register(Transfer)
class TransferAdmin(TransactionReferenceSearch, ReadOnlyAdmin):
    list_display = (
        "uuid",
        "kind",
        "from_link",
        "to_link",
        "amount_display",
        "received_display",
        "refund_state",
        "refund_of_link",
        "created_at",
    )
    list_filter = ("kind", "refund_state", ("created_at", admin.DateFieldListFilter))
    search_fields = ("uuid",)
    list_select_related = ("from_wallet", "to_wallet", "refund_of")
    fields = (
        "uuid",
        "kind",
        "from_link",
        "to_link",
        "amount_display",
        "received_display",
        "rate",
        "withdraw_link",
        "deposit_link",
        "refund_state",
        "refunded_display",
        "refund_of_link",
        "refunds_links",
        "meta",
        "created_at",
    )
    readonly_fields = fields
    actions = ("refund_transfers",)

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return can(request.user, Action.REFUND_TRANSFER)

    @admin.display(description="From", ordering="from_wallet")
    def from_link(self, obj: Transfer) -> str:
        return admin_link(obj.from_wallet)

    @admin.display(description="To", ordering="to_wallet")
    def to_link(self, obj: Transfer) -> str:
        return admin_link(obj.to_wallet)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Transfer) -> str:
        return money(obj.amount, obj.from_wallet)

    @admin.display(description="Received", ordering="received")
    def received_display(self, obj: Transfer) -> str:
        return money(obj.received, obj.to_wallet)

    @admin.display(description="Refunded")
    def refunded_display(self, obj: Transfer) -> str:
        return money(obj.refunded_amount, obj.from_wallet)

    @admin.display(description="Source leg")
    def withdraw_link(self, obj: Transfer) -> str:
        return admin_link(obj.withdraw, obj.withdraw.uuid)

    @admin.display(description="Destination leg")
    def deposit_link(self, obj: Transfer) -> str:
        return admin_link(obj.deposit, obj.deposit.uuid)

    @admin.display(description="Refund of")
    def refund_of_link(self, obj: Transfer) -> str:
        return admin_link(obj.refund_of, obj.refund_of.uuid if obj.refund_of else None)

    @admin.display(description="Refunds")
    def refunds_links(self, obj: Transfer) -> str:
        refunds = list(obj.refunds.all())
        if not refunds:
            return "—"
        return format_html_join(", ", "{}", ((admin_link(r, r.uuid),) for r in refunds))

    @admin.action(description="Refund selected transfers…", permissions=["refund"])
    def refund_transfers(self, request: HttpRequest, queryset: QuerySet[Transfer]):
        rows = queryset.select_related("from_wallet", "to_wallet").prefetch_related(
            "from_wallet__holder", "to_wallet__holder"
        )
        return run_confirmed_action(self, request, rows, ledger_actions.REFUND)
