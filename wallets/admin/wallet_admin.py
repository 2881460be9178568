"""Wallets in the admin: the list, the page of one wallet, and the staff actions on it.

Staff rename a wallet on its page (with a reason, for the audit log) and
freeze, unfreeze, credit or debit it through confirmed actions. Each change is
an engine operation: the admin never saves a wallet row (``Wallet.save()``
refuses existing rows, since a copy read earlier would overwrite a balance
that committed meanwhile).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, path
from django.utils.html import format_html, format_html_join

from wallets.admin import wallet_actions
from wallets.admin.confirmation import (
    IdempotencyKeyField,
    KeyedForm,
    refusal_text,
    run_confirmed_action,
)
from wallets.admin.dashboard import dashboard_view
from wallets.admin.display import admin_link, holder_name, holder_search, money
from wallets.exceptions import WalletError
from wallets.models import AuditEntry
from wallets.selectors import holder_types_with_wallets, last_transactions
from wallets.services import wallet_service
from wallets.staff import StaffActor, can
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

Action = AuditEntry.Action
RECENT_TRANSACTIONS = 10
# Set on the request when the engine refused a rename, so the page says so.
RENAME_REFUSED = "_wallets_rename_refused"


class HolderTypeFilter(admin.SimpleListFilter):
    """By holder type, listing only the kinds of holder that have wallets."""

    title = "holder type"
    parameter_name = "holder_type"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        return [(str(ct.pk), ct.name) for ct in holder_types_with_wallets()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Wallet]) -> QuerySet[Wallet]:
        value = self.value()
        if value is None:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(holder_type_id=int(value))


class WalletChangeForm(KeyedForm, forms.ModelForm):
    """Only the name is edited here, with the reason the audit log records."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Why the name changes. Recorded in the audit log with your name and IP.",
    )
    idempotency_key = IdempotencyKeyField()

    class Meta:
        model = Wallet
        fields = ("name",)


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    form = WalletChangeForm
    change_list_template = "admin/wallets/wallet/change_list.html"
    list_display = (
        "name",
        "slug",
        "holder_display",
        "unit",
        "balance_display",
        "held_display",
        "credit_limit_display",
        "is_frozen",
    )
    list_filter = ("is_frozen", "unit", HolderTypeFilter)
    search_fields = ("uuid", "slug", "name", "holder_id")
    list_select_related = ("holder_type",)
    list_per_page = 50
    readonly_fields = (
        "uuid",
        "slug",
        "holder_display",
        "unit",
        "decimal_places",
        "balance_display",
        "held_display",
        "credit_limit_display",
        "is_frozen",
        "frozen_message",
        "frozen_note",
        "frozen_at",
        "frozen_by",
        "created_at",
        "updated_at",
        "recent_transactions",
    )
    fieldsets = (
        (None, {"fields": ("uuid", "name", "reason", "idempotency_key", "slug", "holder_display")}),
        (
            "Money",
            {
                "fields": (
                    "unit",
                    "decimal_places",
                    "balance_display",
                    "held_display",
                    "credit_limit_display",
                )
            },
        ),
        (
            "Frozen",
            {"fields": ("is_frozen", "frozen_message", "frozen_note", "frozen_at", "frozen_by")},
        ),
        (None, {"fields": ("created_at", "updated_at")}),
        (f"Recent transactions (last {RECENT_TRANSACTIONS})", {"fields": ("recent_transactions",)}),
    )
    actions = (
        "freeze_wallets",
        "unfreeze_wallets",
        "credit_wallet",
        "debit_wallet",
        "set_credit_limit",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Wallet]:
        # One query per holder model for the whole page, however many rows.
        return super().get_queryset(request).prefetch_related("holder")

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Wallet], search_term: str
    ) -> tuple[QuerySet[Wallet], bool]:
        results, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            results = results | queryset.filter(holder_search(queryset, term))
        return results, duplicates

    def get_fieldsets(self, request: HttpRequest, obj: Wallet | None = None) -> Any:
        if self.has_change_permission(request, obj):
            return self.fieldsets
        # Viewers get no reason box: there is nothing for them to change.
        first, *rest = self.fieldsets
        fields = [f for f in first[1]["fields"] if f not in ("reason", "idempotency_key")]
        return ((first[0], {"fields": fields}), *rest)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_freeze_permission(self, request: HttpRequest) -> bool:
        return can(request.user, Action.FREEZE)

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return can(request.user, Action.CREDIT)

    def get_urls(self) -> list[URLPattern]:
        dashboard = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="wallets_dashboard",
        )
        return [dashboard, *super().get_urls()]

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return dashboard_view(self, request)

    # Renaming: the only edit of the change form.

    def save_model(self, request: HttpRequest, obj: Wallet, form: forms.Form, change: bool) -> None:
        # ``obj`` was read before the form was sent; only its new name is used.
        # The engine locks the row and writes the name alone, so a deposit
        # that committed meanwhile is kept.
        data = form.cleaned_data
        try:
            wallet_service().rename(
                obj,
                data["name"],
                actor=StaffActor.from_request(request, data["reason"]),
                idempotency_key=f"{data['idempotency_key']}:{obj.pk}",
            )
        except (WalletError, PermissionDenied) as error:
            setattr(request, RENAME_REFUSED, refusal_text(error))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Nothing related is edited here; the form has no many-to-many fields to save.
        return None

    def construct_change_message(
        self, request: HttpRequest, form: forms.Form, formsets: Any, add: bool = False
    ) -> list[dict[str, Any]]:
        # Only the name is a change to the wallet; the reason and key belong to the audit entry.
        return [{"changed": {"fields": ["Name"]}}] if "name" in form.changed_data else []

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        # The audit log records the rename; a refused one changed nothing to log.
        if hasattr(request, RENAME_REFUSED):
            return None
        return super().log_change(request, obj, message)

    def response_change(self, request: HttpRequest, obj: Wallet) -> HttpResponse:
        refused = getattr(request, RENAME_REFUSED, None)
        if refused is None:
            return super().response_change(request, obj)
        self.message_user(request, f"The wallet was not renamed: {refused}", messages.ERROR)
        return HttpResponseRedirect(request.path)

    # Read-only displays

    @admin.display(description="Holder")
    def holder_display(self, obj: Wallet) -> str:
        return holder_name(obj)

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, obj: Wallet) -> str:
        return money(obj.balance, obj)

    @admin.display(description="Held", ordering="held")
    def held_display(self, obj: Wallet) -> str:
        return money(obj.held, obj)

    @admin.display(description="Credit limit", ordering="credit_limit")
    def credit_limit_display(self, obj: Wallet) -> str:
        return money(obj.credit_limit, obj)

    @admin.display(description="Transactions")
    def recent_transactions(self, obj: Wallet) -> str:
        rows = last_transactions(obj, RECENT_TRANSACTIONS)
        if not rows:
            return "—"
        lines = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    admin_link(tx, tx.uuid),
                    tx.get_type_display(),
                    money(tx.amount, obj),
                    tx.get_state_display(),
                    money(tx.balance_after, obj),
                    tx.created_at,
                )
                for tx in rows
            ),
        )
        return format_html(
            "<table><thead><tr><th>Transaction</th><th>Type</th><th>Amount</th><th>State</th>"
            "<th>Balance after</th><th>Created</th></tr></thead><tbody>{}</tbody></table>",
            lines,
        )

    # Actions

    @admin.action(description="Freeze selected wallets…", permissions=["freeze"])
    def freeze_wallets(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return run_confirmed_action(self, request, queryset, wallet_actions.FREEZE)

    @admin.action(description="Unfreeze selected wallets…", permissions=["freeze"])
    def unfreeze_wallets(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return run_confirmed_action(self, request, queryset, wallet_actions.UNFREEZE)

    @admin.action(description="Manual credit adjustment…", permissions=["adjust"])
    def credit_wallet(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return run_confirmed_action(self, request, queryset, wallet_actions.CREDIT)

    @admin.action(description="Manual debit adjustment…", permissions=["adjust"])
    def debit_wallet(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return run_confirmed_action(self, request, queryset, wallet_actions.DEBIT)

    @admin.action(description="Set credit limit…", permissions=["adjust"])
    def set_credit_limit(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return run_confirmed_action(self, request, queryset, wallet_actions.CREDIT_LIMIT)
