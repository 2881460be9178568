"""The staff's admin for the ledger.

Ledger rows are read-only here for everyone. Every change staff make goes
through an admin action with a confirmation page that says what will happen
and asks for a reason; the action calls :mod:`wallets.moderation`, which
checks the permission and writes the audit entry with the change.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import Model, Q, QuerySet
from django.dispatch import Signal
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from wallets import moderation, risk
from wallets.amounts import parse_amount
from wallets.exceptions import WalletError
from wallets.models import AuditEntry, RiskRule, Transaction, Transfer, Wallet
from wallets.selectors import sum_amounts_by

Action = AuditEntry.Action

# Projects add panels to the staff dashboard without the engine knowing them:
# a receiver returns a list of (label, value) pairs, e.g. failed webhook deliveries.
dashboard_panels = Signal()

RECENT_TRANSACTIONS = 10
HOLDER_TEXT_FIELDS = ("username", "email", "first_name", "last_name", "name")


def client_ip(request: HttpRequest) -> str | None:
    # The address the request came from; behind the load balancer Django sees
    # the balancer's, which is still what the audit can vouch for.
    return request.META.get("REMOTE_ADDR") or None


def admin_link(obj: Model | None, label: Any = None) -> str:
    if obj is None:
        return "—"
    url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def holder_name(wallet: Wallet) -> str:
    holder = wallet.holder
    if holder is None:
        return f"{wallet.holder_type_id}:{wallet.holder_id} (deleted)"
    email = getattr(holder, "email", "")
    return f"{holder} <{email}>" if email else str(holder)


def money(value: Decimal | None, wallet: Wallet) -> str:
    if value is None:
        return "—"
    return f"{moderation.at_precision(value, wallet)} {wallet.unit}"


def holder_search(queryset: QuerySet[Wallet], term: str) -> Q:
    """Wallets whose holder's name, username or email contains ``term``."""
    condition = Q(pk__in=[])
    types = queryset.model.objects.order_by().values_list("holder_type", flat=True).distinct()
    for content_type in ContentType.objects.filter(pk__in=list(types)):
        model = content_type.model_class()
        if model is None:
            continue
        names = {f.name for f in model._meta.get_fields()}
        fields = [f for f in HOLDER_TEXT_FIELDS if f in names]
        if not fields:
            continue
        match = Q()
        for field in fields:
            match |= Q(**{f"{field}__icontains": term})
        ids = [
            str(pk)
            for pk in model._default_manager.filter(match).values_list("pk", flat=True)[:500]
        ]
        if ids:
            condition |= Q(holder_type=content_type, holder_id__in=ids)
    return condition


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is append-only: nobody adds, edits or deletes rows here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


# Confirmation pages


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Recorded in the audit log with your name, the time and your IP address.",
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Give a reason.")
        return reason


class AdjustmentForm(ReasonForm):
    amount = forms.DecimalField(min_value=Decimal("0.00000001"), max_digits=38, decimal_places=8)
    allow_negative = forms.BooleanField(
        required=False, label="A debit may take the balance below zero"
    )


class RefundForm(ReasonForm):
    amount = forms.DecimalField(
        required=False,
        min_value=Decimal("0.00000001"),
        max_digits=38,
        decimal_places=8,
        help_text="Leave empty to refund all that is left of each transfer.",
    )
    force = forms.BooleanField(
        required=False, label="Refund even if the recipient no longer has the funds"
    )


class ReverseForm(ReasonForm):
    force = forms.BooleanField(required=False, label="Reverse even if the balance goes below zero")


def run_confirmed_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet,
    *,
    title: str,
    describe: Callable[[Any, dict[str, Any] | None], str],
    perform: Callable[[Any, dict[str, Any]], Any],
    form_class: type[ReasonForm] = ReasonForm,
    single: bool = False,
) -> HttpResponse | None:
    """Show what will happen to each selected row and ask for a reason; then do it."""
    objects = list(queryset)
    confirmed = request.POST.get("confirm") == "yes"
    form = form_class(request.POST if confirmed else None)
    if single and len(objects) != 1:
        modeladmin.message_user(request, "Select exactly one row for this action.", messages.ERROR)
        return None
    if confirmed and form.is_valid():
        done = 0
        for obj in objects:
            try:
                perform(obj, form.cleaned_data)
            except (WalletError, PermissionDenied) as error:
                modeladmin.message_user(request, f"{obj}: {error}", messages.ERROR)
            else:
                done += 1
        if done:
            modeladmin.message_user(
                request, f"{title}: done for {done} of {len(objects)}.", messages.SUCCESS
            )
        return None
    # Describe with what was entered so far (the amount) even if the reason is missing.
    data = form.cleaned_data if form.is_bound and (form.is_valid() or form.cleaned_data) else None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "form": form,
        "rows": [(obj, describe(obj, data)) for obj in objects],
        "action_name": request.POST.get("action", ""),
        "selected": [str(obj.pk) for obj in objects],
        "checkbox_name": ACTION_CHECKBOX_NAME,
    }
    return TemplateResponse(request, "admin/wallets/action_confirmation.html", context)


# Wallets


class RecentTransactionsFormSet(BaseInlineFormSet):
    def get_queryset(self) -> QuerySet[Transaction]:
        if not hasattr(self, "_recent"):
            rows = super().get_queryset().order_by("-created_at", "-id")
            recent_ids = list(rows.values_list("pk", flat=True)[:RECENT_TRANSACTIONS])
            self._recent = rows.filter(pk__in=recent_ids)
        return self._recent


class RecentTransactionsInline(admin.TabularInline):
    model = Transaction
    formset = RecentTransactionsFormSet
    fk_name = "wallet"
    verbose_name_plural = f"Recent transactions (last {RECENT_TRANSACTIONS})"
    fields = ("link", "type", "amount", "state", "balance_after", "created_at")
    readonly_fields = fields
    can_delete = False
    extra = 0
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Transaction")
    def link(self, obj: Transaction) -> str:
        return admin_link(obj, obj.uuid)


class FrozenPermissionMixin:
    def has_freeze_permission(self, request: HttpRequest) -> bool:
        return moderation.can(request.user, Action.FREEZE)

    def has_adjust_permission(self, request: HttpRequest) -> bool:
        return moderation.can(request.user, Action.CREDIT)


@admin.register(Wallet)
class WalletAdmin(FrozenPermissionMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "holder_display",
        "unit",
        "balance_display",
        "held_display",
        "is_frozen",
    )
    list_filter = ("is_frozen", "unit", "holder_type")
    search_fields = ("uuid", "slug", "name", "holder_id")
    list_select_related = ("holder_type",)
    list_per_page = 50
    fields = (
        "uuid",
        "name",
        "slug",
        "holder_display",
        "unit",
        "decimal_places",
        "balance",
        "held",
        "is_frozen",
        "frozen_reason",
        "frozen_at",
        "frozen_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = (
        "uuid",
        "slug",
        "holder_display",
        "unit",
        "decimal_places",
        "balance",
        "held",
        "is_frozen",
        "frozen_reason",
        "frozen_at",
        "frozen_by",
        "created_at",
        "updated_at",
    )
    inlines = (RecentTransactionsInline,)
    actions = ("freeze_wallets", "unfreeze_wallets", "credit_wallet", "debit_wallet")

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

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        urls = super().get_urls()
        dashboard = path(
            "dashboard/",
            self.admin_site.admin_view(self.dashboard_view),
            name="wallets_dashboard",
        )
        return [dashboard, *urls]

    @admin.display(description="Holder")
    def holder_display(self, obj: Wallet) -> str:
        return holder_name(obj)

    @admin.display(description="Balance", ordering="balance")
    def balance_display(self, obj: Wallet) -> str:
        return money(obj.balance, obj)

    @admin.display(description="Held", ordering="held")
    def held_display(self, obj: Wallet) -> str:
        return money(obj.held, obj)

    @admin.action(description="Freeze selected wallets…", permissions=["freeze"])
    def freeze_wallets(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return run_confirmed_action(
            self,
            request,
            queryset.prefetch_related("holder"),
            title="Freeze wallets",
            describe=lambda w, data: (
                "Already frozen: will be refused."
                if w.is_frozen
                else f"Freeze '{w.name}' of {holder_name(w)} (balance {money(w.balance, w)}): "
                "every deposit, withdrawal, transfer and payment in or out will be refused "
                "until it is unfrozen."
            ),
            perform=lambda w, data: moderation.freeze_wallet(
                w, actor=request.user, reason=data["reason"], ip=client_ip(request)
            ),
        )

    @admin.action(description="Unfreeze selected wallets…", permissions=["freeze"])
    def unfreeze_wallets(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return run_confirmed_action(
            self,
            request,
            queryset.prefetch_related("holder"),
            title="Unfreeze wallets",
            describe=lambda w, data: (
                f"Unfreeze '{w.name}' of {holder_name(w)} "
                f"(frozen: {w.frozen_reason or 'no reason'}): operations are accepted again."
                if w.is_frozen
                else "Not frozen: will be refused."
            ),
            perform=lambda w, data: moderation.unfreeze_wallet(
                w, actor=request.user, reason=data["reason"], ip=client_ip(request)
            ),
        )

    def _adjust(self, request: HttpRequest, queryset: QuerySet[Wallet], credit: bool):
        word = "Credit" if credit else "Debit"

        def describe(w: Wallet, data: dict[str, Any] | None) -> str:
            if not data:
                return (
                    f"{word} '{w.name}' of {holder_name(w)} (balance {money(w.balance, w)}) by the "
                    "amount you enter below."
                )
            amount = parse_amount(data["amount"], w.decimal_places)
            after = w.balance + amount if credit else w.balance - amount
            return f"{word} {money(amount, w)}: balance {money(w.balance, w)} → {money(after, w)}."

        return run_confirmed_action(
            self,
            request,
            queryset.prefetch_related("holder"),
            title=f"Manual {word.lower()}",
            describe=describe,
            form_class=AdjustmentForm,
            single=True,
            perform=lambda w, data: moderation.adjust_wallet(
                w,
                actor=request.user,
                reason=data["reason"],
                amount=data["amount"],
                credit=credit,
                allow_negative=data.get("allow_negative", False),
                ip=client_ip(request),
            ),
        )

    @admin.action(description="Manual credit adjustment…", permissions=["adjust"])
    def credit_wallet(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return self._adjust(request, queryset, credit=True)

    @admin.action(description="Manual debit adjustment…", permissions=["adjust"])
    def debit_wallet(self, request: HttpRequest, queryset: QuerySet[Wallet]):
        return self._adjust(request, queryset, credit=False)

    def dashboard_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Wallet dashboard",
            "opts": self.model._meta,
            **dashboard_stats(),
            "extra_panels": [
                panel
                for _receiver, panels in dashboard_panels.send(sender=Wallet)
                for panel in (panels or [])
            ],
        }
        return TemplateResponse(request, "admin/wallets/dashboard.html", context)


def dashboard_stats() -> dict[str, Any]:
    """Totals per unit, the moderation queue, frozen wallets and the last day's volume."""
    since = timezone.now() - timedelta(days=1)
    balances = sum_amounts_by(Wallet.objects.all(), "unit", "balance")
    held = sum_amounts_by(Wallet.objects.all(), "unit", "held")
    volume = sum_amounts_by(
        Transfer.objects.filter(created_at__gte=since).exclude(kind=Transfer.Kind.REFUND),
        "from_wallet__unit",
        "amount",
    )
    units = sorted(set(balances) | set(held) | set(volume))
    return {
        "units": [
            {
                "unit": unit,
                "balance": balances.get(unit, Decimal(0)),
                "held": held.get(unit, Decimal(0)),
                "volume": volume.get(unit, Decimal(0)),
            }
            for unit in units
        ],
        "pending_count": Transaction.objects.filter(state=Transaction.State.PENDING).count(),
        "held_transfer_count": Transaction.objects.filter(
            state=Transaction.State.PENDING, meta__has_key=risk.HOLD_META_KEY
        ).count(),
        "frozen_count": Wallet.objects.filter(is_frozen=True).count(),
        "transfer_count": Transfer.objects.filter(created_at__gte=since).count(),
    }


# Transactions and transfers


class TransactionReferenceSearch:
    """Search by uuid, and by the reference or request kept in the row's meta."""

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            results = results | queryset.filter(meta__reference__icontains=term)
        return results, duplicates


class ConfirmPermissionMixin:
    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return moderation.can(request.user, Action.CONFIRM)

    def has_reverse_permission(self, request: HttpRequest) -> bool:
        return moderation.can(request.user, Action.REVERSE)


@admin.register(Transaction)
class TransactionAdmin(ConfirmPermissionMixin, TransactionReferenceSearch, ReadOnlyAdmin):
    list_display = (
        "uuid",
        "wallet_link",
        "type",
        "amount_display",
        "state",
        "balance_after",
        "reference",
        "created_at",
    )
    list_filter = ("type", "state", "wallet__unit", ("created_at", admin.DateFieldListFilter))
    search_fields = ("uuid",)
    list_select_related = ("wallet",)
    date_hierarchy = "created_at"
    fields = (
        "uuid",
        "wallet_link",
        "type",
        "amount_display",
        "state",
        "balance_after",
        "meta",
        "transfer_link",
        "reversal_of_link",
        "reversed_by_link",
        "created_at",
        "expires_at",
        "resolved_at",
        "resolution_note",
    )
    readonly_fields = fields
    actions = ("confirm_pending", "reject_pending", "reverse_transactions")

    def get_actions(self, request):
        # Nothing here deletes ledger rows, whoever asks.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="Wallet", ordering="wallet")
    def wallet_link(self, obj: Transaction) -> str:
        return admin_link(obj.wallet)

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Transaction) -> str:
        return money(obj.amount, obj.wallet)

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

    @admin.display(description="Reversal of")
    def reversal_of_link(self, obj: Transaction) -> str:
        return admin_link(obj.reversal_of)

    @admin.display(description="Reversed by")
    def reversed_by_link(self, obj: Transaction) -> str:
        return admin_link(Transaction.objects.filter(reversal_of=obj).first())

    @admin.action(description="Confirm selected pending transactions…", permissions=["moderate"])
    def confirm_pending(self, request: HttpRequest, queryset: QuerySet[Transaction]):
        def describe(tx: Transaction, data: dict[str, Any] | None) -> str:
            if tx.state != Transaction.State.PENDING:
                return f"{tx.get_state_display()}, not pending: will be refused."
            if risk.is_held_transfer(tx):
                details = risk.held_transfer_details(tx)
                return (
                    f"Send the transfer of {money(-tx.amount, tx.wallet)} held by rule "
                    f"'{details.get('rule')}' from '{tx.wallet.name}' to wallet "
                    f"{details.get('to_wallet')}."
                )
            after = tx.wallet.balance + tx.amount
            return (
                f"Confirm {tx.get_type_display().lower()} of {money(tx.magnitude, tx.wallet)} on "
                f"'{tx.wallet.name}': balance {money(tx.wallet.balance, tx.wallet)} → "
                f"{money(after, tx.wallet)}."
            )

        return run_confirmed_action(
            self,
            request,
            queryset.select_related("wallet"),
            title="Confirm pending transactions",
            describe=describe,
            perform=lambda tx, data: moderation.confirm_transaction(
                tx, actor=request.user, reason=data["reason"], ip=client_ip(request)
            ),
        )

    @admin.action(description="Reject selected pending transactions…", permissions=["moderate"])
    def reject_pending(self, request: HttpRequest, queryset: QuerySet[Transaction]):
        def describe(tx: Transaction, data: dict[str, Any] | None) -> str:
            if tx.state != Transaction.State.PENDING:
                return f"{tx.get_state_display()}, not pending: will be refused."
            released = " and release its hold" if tx.amount < 0 else ""
            return (
                f"Reject the {tx.get_type_display().lower()} of {money(tx.magnitude, tx.wallet)} "
                f"on '{tx.wallet.name}'{released}; the balance stays "
                f"{money(tx.wallet.balance, tx.wallet)}."
            )

        return run_confirmed_action(
            self,
            request,
            queryset.select_related("wallet"),
            title="Reject pending transactions",
            describe=describe,
            perform=lambda tx, data: moderation.reject_transaction(
                tx, actor=request.user, reason=data["reason"], ip=client_ip(request)
            ),
        )

    @admin.action(description="Reverse selected transactions…", permissions=["reverse"])
    def reverse_transactions(self, request: HttpRequest, queryset: QuerySet[Transaction]):
        def describe(tx: Transaction, data: dict[str, Any] | None) -> str:
            if tx.state != Transaction.State.CONFIRMED:
                return "Not confirmed: will be refused."
            after = tx.wallet.balance - tx.amount
            return (
                f"Post {money(-tx.amount, tx.wallet)} on '{tx.wallet.name}' to undo this "
                f"{tx.get_type_display().lower()}: balance {money(tx.wallet.balance, tx.wallet)}"
                f" → {money(after, tx.wallet)}. Transfer legs and reversed rows are refused."
            )

        return run_confirmed_action(
            self,
            request,
            queryset.select_related("wallet"),
            title="Reverse transactions",
            describe=describe,
            form_class=ReverseForm,
            perform=lambda tx, data: moderation.reverse_transaction(
                tx,
                actor=request.user,
                reason=data["reason"],
                force=data.get("force", False),
                ip=client_ip(request),
            ),
        )


@admin.register(Transfer)
class TransferAdmin(TransactionReferenceSearch, ReadOnlyAdmin):
    list_display = (
        "uuid",
        "kind",
        "from_link",
        "to_link",
        "amount",
        "received",
        "refund_state",
        "refund_of_link",
        "created_at",
    )
    list_filter = ("kind", "refund_state", ("created_at", admin.DateFieldListFilter))
    search_fields = ("uuid",)
    list_select_related = ("from_wallet", "to_wallet", "refund_of")
    date_hierarchy = "created_at"
    fields = (
        "uuid",
        "kind",
        "from_link",
        "to_link",
        "amount",
        "received",
        "rate",
        "withdraw_link",
        "deposit_link",
        "refund_state",
        "refunded_amount",
        "refund_of_link",
        "refunds_links",
        "meta",
        "created_at",
    )
    readonly_fields = fields
    actions = ("refund_transfers",)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_refund_permission(self, request: HttpRequest) -> bool:
        return moderation.can(request.user, Action.REFUND_TRANSFER)

    @admin.display(description="From", ordering="from_wallet")
    def from_link(self, obj: Transfer) -> str:
        return admin_link(obj.from_wallet)

    @admin.display(description="To", ordering="to_wallet")
    def to_link(self, obj: Transfer) -> str:
        return admin_link(obj.to_wallet)

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
        def describe(tr: Transfer, data: dict[str, Any] | None) -> str:
            if tr.kind == Transfer.Kind.REFUND:
                return "A refund: cannot itself be refunded."
            left = tr.amount - tr.refunded_amount
            if left <= 0:
                return "Already refunded in full: will be refused."
            amount = data.get("amount") if data else None
            how_much = (
                money(amount, tr.from_wallet)
                if amount
                else f"all that is left, {money(left, tr.from_wallet)}"
            )
            return (
                f"Return {how_much} from '{tr.to_wallet.name}' to '{tr.from_wallet.name}' "
                f"(paid {money(tr.amount, tr.from_wallet)}, refunded so far "
                f"{money(tr.refunded_amount, tr.from_wallet)})."
            )

        objects = queryset.select_related("from_wallet", "to_wallet")
        partial = request.POST.get("amount") and request.POST.get("confirm") == "yes"
        return run_confirmed_action(
            self,
            request,
            objects,
            title="Refund transfers",
            describe=describe,
            form_class=RefundForm,
            single=bool(partial),
            perform=lambda tr, data: moderation.refund_transfer(
                tr,
                actor=request.user,
                reason=data["reason"],
                amount=data.get("amount"),
                force=data.get("force", False),
                ip=client_ip(request),
            ),
        )


# The audit log


def spreadsheet_safe(value: Any) -> str:
    """Quote text a spreadsheet would run as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(("=", "+", "-", "@", "\t", "\r")):
        try:
            Decimal(text)
        except ArithmeticError:
            return "'" + text
    return text


class Echo:
    def write(self, value: str) -> str:
        return value


AUDIT_CSV_COLUMNS = (
    "created_at",
    "actor_label",
    "action",
    "target_type",
    "target_id",
    "target_uuid",
    "target_label",
    "reason",
    "amount",
    "unit",
    "before",
    "after",
    "ip_address",
    "uuid",
)


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "actor_label",
        "action",
        "target_link",
        "amount",
        "unit",
        "reason",
        "ip_address",
    )
    list_filter = ("action", ("created_at", admin.DateFieldListFilter), "target_type")
    search_fields = ("=target_uuid", "actor_label", "reason", "target_label")
    list_select_related = ("target_type",)
    date_hierarchy = "created_at"
    readonly_fields = (
        "uuid",
        "created_at",
        "actor",
        "actor_label",
        "action",
        "target_type",
        "target_id",
        "target_uuid",
        "target_label",
        "reason",
        "amount",
        "unit",
        "before",
        "after",
        "ip_address",
        "idempotency_key",
    )
    change_list_template = "admin/wallets/auditentry/change_list.html"

    def get_actions(self, request):
        return {}

    def get_urls(self):
        export = path(
            "export/",
            self.admin_site.admin_view(self.export_view),
            name="wallets_auditentry_export",
        )
        return [export, *super().get_urls()]

    @admin.display(description="Target")
    def target_link(self, obj: AuditEntry) -> str:
        model = obj.target_type.model_class()
        if model is None:
            return obj.target_label
        try:
            url = reverse(
                f"admin:{model._meta.app_label}_{model._meta.model_name}_change",
                args=[obj.target_id],
            )
        except NoReverseMatch:  # a target model without an admin page shows as text
            return obj.target_label
        return format_html('<a href="{}">{}</a>', url, obj.target_label)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": request.user.has_perm("wallets.export_auditentry"),
        }
        return super().changelist_view(request, extra_context)

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """The audit log as CSV, with the change list's filters and search applied."""
        if not (
            self.has_view_permission(request) and request.user.has_perm("wallets.export_auditentry")
        ):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        rows = changelist.get_queryset(request).select_related("target_type")
        writer = csv.writer(Echo())

        def lines():
            yield writer.writerow(AUDIT_CSV_COLUMNS)
            for entry in rows.iterator():
                values = [
                    entry.created_at.isoformat(),
                    entry.actor_label,
                    entry.action,
                    entry.target_type.model,
                    entry.target_id,
                    entry.target_uuid,
                    entry.target_label,
                    entry.reason,
                    entry.amount,
                    entry.unit,
                    entry.before,
                    entry.after,
                    entry.ip_address,
                    entry.uuid,
                ]
                yield writer.writerow([spreadsheet_safe(v) for v in values])

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        return response


@admin.register(RiskRule)
class RiskRuleAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "holder_type",
        "holder_id",
        "unit",
        "max_single",
        "max_daily_total",
        "max_per_hour",
        "on_breach",
        "is_active",
    )
    list_filter = ("is_active", "on_breach", "unit")
    search_fields = ("name", "holder_id")
    list_select_related = ("holder_type",)
