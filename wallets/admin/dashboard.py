"""The staff dashboard: totals per unit, the queues staff work through, and panels
that projects add (``dashboard_panels``) without the engine knowing them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.dispatch import Signal
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse

from wallets.amounts import exact, quantum
from wallets.selectors import UnitTotals, dashboard_stats
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()

# A receiver returns a list of (label, value) pairs, e.g. failed webhook deliveries.
dashboard_panels = Signal()

TEMPLATE = "admin/wallets/dashboard.html"


@exact
def _amount(value: Decimal, totals: UnitTotals) -> str:
    return f"{value.quantize(quantum(totals.decimal_places))} {totals.unit}"


def unit_rows(units: list[UnitTotals]) -> list[dict[str, str]]:
    """Each unit's totals as staff read them: at the unit's decimal places, with the unit."""
    return [
        {
            "unit": totals.unit,
            "balance": _amount(totals.balance, totals),
            "held": _amount(totals.held, totals),
            "sent_last_day": _amount(totals.sent_last_day, totals),
        }
        for totals in units
    ]


def extra_panels() -> list[tuple[str, Any]]:
    return [
        panel
        for _receiver, panels in dashboard_panels.send(sender=Wallet)
        for panel in (panels or [])
    ]


def admin_changelist_url(model: type[Model]) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def dashboard_view(model_admin: admin.ModelAdmin, request: HttpRequest) -> HttpResponse:
    """The page; the caller (the wallet admin) has checked the staff may view wallets."""
    stats = dashboard_stats()
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Wallet dashboard",
        "opts": model_admin.model._meta,
        "units": unit_rows(stats.units),
        "stats": stats,
        "extra_panels": extra_panels(),
        # The swappable models' admin pages live under their own app labels.
        "transactions_url": admin_changelist_url(get_transaction_model()),
        "wallets_url": admin_changelist_url(Wallet),
    }
    return TemplateResponse(request, TEMPLATE, context)
