"""A wallet's page: filterable history with CSV export, and a receipt per transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django_filters.views import FilterView
from django_tables2 import SingleTableMixin
from django_tables2.export import ExportMixin

from portal import selectors
from portal.filters import TransactionFilter
from portal.ops.db import use_replica
from portal.tables import SafeTableExport, TransactionTable, transaction_reference
from portal.views.base import HtmxHttpRequest, partial
from wallets.models import Wallet


# Only the listing reads from the replica (when one is configured): the login,
# session and ownership checks in dispatch() stay on the primary, so replica lag
# can never log someone out or hide a wallet they just opened.
@method_decorator(use_replica, name="get")
class WalletHistoryView(LoginRequiredMixin, ExportMixin, SingleTableMixin, FilterView):
    """Full page on a normal load, the ``tx-table`` partial on htmx filter/sort/page requests."""

    request: HtmxHttpRequest
    table_class = TransactionTable
    filterset_class = TransactionFilter
    template_name = "portal/wallet_detail.html"
    paginate_by = 25
    export_class = SafeTableExport
    export_formats = ("csv",)
    wallet: Wallet

    def dispatch(self, request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            self.wallet = selectors.wallet_for_user(request.user, kwargs["wallet_uuid"])
        return super().dispatch(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.wallet_history(self.wallet)

    def get_template_names(self) -> list[str]:
        return [partial(self.template_name, self.request, "tx-table")]

    def get_export_filename(self, export_format: str) -> str:
        return f"{self.wallet.slug}-history.{export_format}"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["wallet"] = self.wallet
        context["holder"] = selectors.holder_label(self.wallet)
        context["can_spend"] = selectors.can_spend_from(self.request.user, self.wallet)
        query = self.request.GET.copy()
        query.pop("page", None)
        query["_export"] = "csv"
        context["export_query"] = query.urlencode()
        return context


@login_required
def transaction_receipt(request: HtmxHttpRequest, tx_uuid: str) -> HttpResponse:
    tx = selectors.transaction_for_user(request.user, tx_uuid)
    context = {
        "tx": tx,
        "wallet": tx.wallet,
        "counterparty": selectors.counterparty_label(tx),
        "reference": transaction_reference(tx),
        "transfer": selectors.counterparty_transfer(tx),
        "hold": selectors.hold_for(tx),
        "can_cancel": tx.is_pending
        and tx.type == tx.Type.WITHDRAW
        and selectors.can_spend_from(request.user, tx.wallet),
    }
    return TemplateResponse(request, "portal/transaction_detail.html", context)
