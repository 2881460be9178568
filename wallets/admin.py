from django.contrib import admin

from wallets.models import Transaction, Transfer, Wallet


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is append-only: nobody adds, edits or deletes rows here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "holder_type",
        "holder_id",
        "unit",
        "balance",
        "held",
        "is_frozen",
    )
    list_filter = ("is_frozen", "unit", "holder_type")
    search_fields = ("uuid", "slug", "name", "holder_id")
    readonly_fields = (
        "uuid",
        "holder_type",
        "holder_id",
        "balance",
        "held",
        "is_frozen",
        "frozen_reason",
        "frozen_at",
        "frozen_by",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("uuid", "wallet", "type", "amount", "state", "balance_after", "created_at")
    list_filter = ("type", "state", "created_at")
    search_fields = ("uuid",)
    list_select_related = ("wallet",)


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = (
        "uuid",
        "kind",
        "from_wallet",
        "to_wallet",
        "amount",
        "received",
        "refund_state",
        "created_at",
    )
    list_filter = ("kind", "refund_state", "created_at")
    search_fields = ("uuid",)
    list_select_related = ("from_wallet", "to_wallet")
