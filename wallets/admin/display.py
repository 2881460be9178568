"""How the admin shows ledger rows: links, holders, amounts, and read-only pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.formats import number_format
from django.utils.functional import cached_property
from django.utils.html import format_html

from wallets.amounts import exact, quantum
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

# Text fields of holder models that staff search by; a holder model has any of them.
HOLDER_TEXT_FIELDS = ("username", "email", "first_name", "last_name", "name")
# Enough holders per model for a search page; a broader term needs a narrower search.
HOLDER_SEARCH_LIMIT = 500


def change_url(obj: Model) -> str | None:
    """The admin page of ``obj``, or None when its model has no admin."""
    try:
        return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
    except NoReverseMatch:
        return None


def admin_link(obj: Model | None, label: Any = None) -> str:
    if obj is None:
        return "—"
    text = label if label is not None else obj
    url = change_url(obj)
    return format_html('<a href="{}">{}</a>', url, text) if url else format_html("{}", text)


def holder_name(wallet: Wallet) -> str:
    """Who owns the wallet, as staff recognise them: name and email when there is one."""
    holder = wallet.holder
    if holder is None:
        return f"{wallet.holder_type_id}:{wallet.holder_id} (deleted)"
    email = getattr(holder, "email", "")
    return f"{holder} <{email}>" if email else str(holder)


# A hyphen-minus, as in the CSV exports and what people type back into a form.
MINUS = "-"


@exact
def at_places(value: Any, decimal_places: int) -> Decimal:
    """``value`` written with ``decimal_places`` decimals, or with more if it has more
    digits than that: an amount is never rounded for display."""
    amount = Decimal(value)
    if not amount.is_finite():
        raise ValueError(f"{value!r} is not an amount.")
    own = -amount.normalize().as_tuple().exponent
    return amount.quantize(quantum(max(decimal_places, own, 0)))


@exact
def format_amount(value: Any, decimal_places: int, unit: str = "", *, signed: bool = False) -> str:
    """The one way an amount is written for people, everywhere (portal pages,
    messages, errors, the staff console, this admin, emails).

    - the wallet's decimal places (``1,500 PTS``, ``12.50 USD``, ``0.00000001 BTC``),
      more only when the value has more (nothing is rounded away);
    - grouping and decimal separators of the active language, through Django's
      localization (``1,234.50`` in English);
    - the sign in front (``-3.00 USD``; ``+`` only when ``signed``; zero has none);
    - the unit after the number, separated by a space.
    """
    amount = at_places(value, decimal_places)
    places = max(-amount.as_tuple().exponent, 0)
    digits = number_format(abs(amount), decimal_pos=places, use_l10n=True, force_grouping=True)
    sign = MINUS if amount < 0 else ("+" if signed and amount > 0 else "")
    return f"{sign}{digits} {unit}" if unit else f"{sign}{digits}"


@exact
def plain_amount(value: Any, decimal_places: int) -> str:
    """The same amount for machines (CSV, exports): the same decimal places and sign,
    a "." and no grouping, so spreadsheets read it as a number: ``-1234.50``."""
    return f"{at_places(value, decimal_places):f}"


def money(value: Decimal | None, wallet: Wallet) -> str:
    """An amount of ``wallet`` as people read it: ``1,500 PTS``, ``12.50 USD``."""
    if value is None:
        return "—"
    return format_amount(value, wallet.decimal_places, wallet.unit)


def holder_search(queryset: QuerySet[Wallet], term: str) -> Q:
    """Wallets whose holder's name, username or email contains ``term``.

    Holders are any model, so each holder model in use is searched on the
    text fields it has."""
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
        found = model._default_manager.filter(match).values_list("pk", flat=True)
        ids = [str(pk) for pk in found[:HOLDER_SEARCH_LIMIT]]
        if ids:
            condition |= Q(holder_type=content_type, holder_id__in=ids)
    return condition


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows, so a list over a million-row ledger stays fast.

    Pages past the cap are reached by filtering or searching instead."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP].count()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Ledger rows are append-only: nobody adds, edits or deletes them here,
    superusers included. Changes go through the actions, which call the engine.

    Their lists never count a whole ledger (see ``CappedCountPaginator``)."""

    paginator = CappedCountPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class WalletUnitFilter(admin.SimpleListFilter):
    """Units read from the wallets, not from every ledger row."""

    title = "unit"
    parameter_name = "unit"
    wallet_field = "wallet"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple]:
        units = Wallet.objects.order_by("unit").values_list("unit", flat=True).distinct()
        return [(unit, unit) for unit in units]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value():
            return queryset.filter(**{f"{self.wallet_field}__unit": self.value()})
        return queryset
