"""A wallet's page: filterable history with CSV export, and a receipt per transaction."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import HttpResponse, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django_filters.views import FilterView
from django_tables2 import RequestConfig, SingleTableMixin

from portal import activity, selectors
from portal.fee_receipt import fee_on_receipt
from portal.filters import TransactionFilter
from portal.ops.db import replica_reads, use_replica
from portal.tables import (
    COUNT_LIMIT,
    TransactionTable,
    csv_lines,
    csv_response,
    history_pagination,
    transaction_reference,
)
from portal.templatetags.portal_charts import chart_days
from portal.views.base import HtmxHttpRequest, partial
from wallets.selectors import SERIES_DAYS
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

EXPORT_PARAM = "_export"


# Only the listing reads from the replica (when one is configured): the login,
# session and ownership checks in dispatch() stay on the primary, so replica lag
# can never log someone out or hide a wallet they just opened.
@method_decorator(use_replica, name="get")
class WalletHistoryView(LoginRequiredMixin, SingleTableMixin, FilterView):
    """Full page on a normal load, the ``tx-table`` partial on htmx filter/sort/page
    requests, and the filtered rows as a streamed CSV with ``?_export=csv``."""

    request: HtmxHttpRequest
    table_class = TransactionTable
    filterset_class = TransactionFilter
    template_name = "portal/wallet_detail.html"
    # The table paginates (history_pagination); ListView must not paginate, and
    # count, the same rows a second time.
    paginate_by = None
    wallet: Wallet

    def dispatch(self, request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            self.wallet = selectors.wallet_for_user(request.user, kwargs["wallet_uuid"])
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.GET.get(EXPORT_PARAM) == "csv":
            return self.export_csv()
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.wallet_history(self.wallet)

    def get_table_pagination(self, table: TransactionTable) -> dict[str, Any]:
        return history_pagination(self.object_list)

    def get_template_names(self) -> list[str]:
        # The chart's range links swap the chart alone; filters, sorting and pages the table.
        fragment = "wallet-chart" if self.request.GET.get("chart") == "1" else "tx-table"
        return [partial(self.template_name, self.request, fragment)]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["wallet"] = self.wallet
        context["holder"] = selectors.holder_label(self.wallet, user)
        context["wallet_title"] = selectors.wallet_title(self.wallet, user)
        context["can_spend"] = selectors.can_spend_from(user, self.wallet)
        context["days"] = chart_days(self.request.GET.get("days"))
        context["chart_ranges"] = SERIES_DAYS
        context["count_limit"] = f"{COUNT_LIMIT:,}"
        query = self.request.GET.copy()
        for name in ("page", "days", "chart"):
            query.pop(name, None)
        query[EXPORT_PARAM] = "csv"
        context["export_query"] = query.urlencode()
        return context

    def export_csv(self) -> StreamingHttpResponse:
        """The rows the page's filters and sort select, every page of them."""
        filterset = self.get_filterset(self.get_filterset_class())
        rows = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        table = self.get_table_class()(data=rows, exclude=("receipt",))
        RequestConfig(self.request, paginate=False).configure(table)
        return csv_response(_on_replica(csv_lines(table)), f"{self.wallet.slug}-history.csv")


def _on_replica(lines: Iterator[str]) -> Iterator[str]:
    # A streamed body is read after the view returns, outside use_replica's block.
    with replica_reads():
        yield from lines


@login_required
def transaction_receipt(request: HtmxHttpRequest, tx_uuid: str) -> HttpResponse:
    tx = selectors.transaction_for_user(request.user, tx_uuid)
    activity.with_counterparties([tx])
    purchase = activity.purchase_of(tx)
    refunded = selectors.purchase_refunded_by(tx) if activity.refunded_product(tx) else None
    transfer = activity.counterparty_transfer(tx)
    context = {
        "tx": tx,
        "wallet": tx.wallet,
        "wallet_title": selectors.wallet_title(tx.wallet, request.user),
        "title": activity.describe_transaction(tx, request.user),
        # A purchase names its product in rows of its own.
        "counterparty": "" if purchase else activity.counterparty_label(tx),
        "purchase": purchase,
        "refunded_purchase": refunded,
        "refunded_purchase_title": activity.describe_purchase(refunded) if refunded else "",
        "reference": transaction_reference(tx),
        "transfer": transfer,
        "fee": fee_on_receipt(tx, request.user, transfer, purchase),
        "hold": selectors.hold_for(tx),
        "can_cancel": tx.is_pending
        and tx.type == tx.Type.WITHDRAW
        and selectors.can_spend_from(request.user, tx.wallet),
    }
    return TemplateResponse(request, "portal/transaction_detail.html", context)
