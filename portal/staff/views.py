"""Staff console pages: holder search, a holder's money, a wallet's history, the queue.

Only active staff see any of these pages (others get a 404, as if they did not exist).
The actions (``portal.staff.actions``) go through the engine, which checks each action's
permission and writes its audit entry; these pages only hide the buttons of actions the
viewer may not run (``wallets.staff.can``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET
from django_tables2 import RequestConfig

from portal.filters import TransactionFilter
from portal.staff import selectors
from portal.staff.forms import HolderSearchForm, QueueDecisionForm
from portal.tables import TransactionTable, history_pagination
from portal.views.base import HtmxHttpRequest, partial
from wallets.models import AuditEntry, TransferHold
from wallets.staff import can
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()

Action = AuditEntry.Action


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_active and request.user.is_staff):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped


@staff_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    form = HolderSearchForm(request.GET or None)
    results = selectors.search_holders(form.cleaned_data["q"]) if form.is_valid() else []
    context = {
        "form": form,
        "results": results,
        "searched": form.is_bound,
        "queue_size": selectors.queue_size(),
    }
    return TemplateResponse(request, partial("staff/home.html", request, "results"), context)


@staff_required
@require_GET
def holder_detail(request: HtmxHttpRequest, kind: str, pk: str) -> HttpResponse:
    holder = selectors.holder(kind, pk)
    wallets = selectors.wallets_of(holder)
    transfers = selectors.with_fees(selectors.recent_transfers(wallets))
    user = request.user
    context = {
        "holder": holder,
        "kind": kind,
        "wallets": wallets,
        "transfers": transfers,
        # The Fee column, when a listed transfer was charged one.
        "transfer_fees": any(t.fee_charge for t in transfers),
        "orders": selectors.orders_of(holder),
        "audit": selectors.audit_for_holder(holder, wallets),
        "can_freeze": can(user, Action.FREEZE),
        "can_refund_transfer": can(user, Action.REFUND_TRANSFER),
        "can_refund_order": can(user, Action.REFUND_ORDER),
    }
    return TemplateResponse(request, "staff/holder.html", context)


@staff_required
@require_GET
def wallet_history(request: HtmxHttpRequest, wallet_uuid: str) -> HttpResponse:
    wallet = selectors.wallet(wallet_uuid)
    history = selectors.wallet_history(wallet)
    filterset = TransactionFilter(request.GET or None, queryset=history)
    # The holder's receipt pages are theirs alone; staff read the rows here.
    table = TransactionTable(filterset.qs, exclude=("receipt",))
    # As on the holder's page: one capped COUNT, "Newer / Older" on long histories.
    RequestConfig(request, paginate=history_pagination(filterset.qs)).configure(table)
    context = {
        "wallet": wallet,
        "holder": wallet.holder,
        "kind": selectors.holder_kind(wallet.holder),
        "filter": filterset,
        "table": table,
        "can_freeze": can(request.user, Action.FREEZE),
    }
    return TemplateResponse(request, partial("staff/wallet.html", request, "tx-table"), context)


@staff_required
@require_GET
def queue(request: HtmxHttpRequest) -> HttpResponse:
    context = {
        "hold_rows": [queue_row(request, hold) for hold in selectors.open_transfer_holds()],
        "tx_rows": [queue_row(request, tx) for tx in selectors.pending_for_review()],
    }
    return TemplateResponse(request, "staff/queue.html", context)


def queue_row(
    request: HtmxHttpRequest,
    item: Transaction | TransferHold,
    form: QueueDecisionForm | None = None,
    outcome: str = "",
) -> dict[str, Any]:
    """One row of the queue: a pending transaction or a held transfer, and its form.

    A fresh form carries a fresh idempotency key; a refused one keeps the key it was sent
    with, so retrying it cannot act twice."""
    is_hold = isinstance(item, TransferHold)
    action = Action.RELEASE_HOLD if is_hold else Action.CONFIRM
    return {
        "item": item,
        "dom_id": f"{'hold' if is_hold else 'queue'}-{item.uuid}",
        "form": form or QueueDecisionForm(prefix=str(item.uuid)),
        "outcome": outcome,
        "can_decide": can(request.user, action),
    }
