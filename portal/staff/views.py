"""Staff console views: thin, each parses a form, calls one service and renders.

Only active staff see any of these pages (others get a 404, as if they did not
exist); each action's own permission is checked by ``wallets.moderation``,
which also writes the audit entry.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_tables2 import RequestConfig

from portal.filters import TransactionFilter
from portal.staff import selectors
from portal.staff.forms import HolderSearchForm, QueueDecisionForm, ReasonForm, RefundTransferForm
from portal.staff.services import refund_order
from portal.tables import TransactionTable
from portal.views.base import HtmxHttpRequest, partial
from wallets import moderation, risk
from wallets.exceptions import WalletError
from wallets.models import AuditEntry, Wallet

Action = AuditEntry.Action


def staff_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @login_required
    @wraps(view)
    def wrapped(request: HtmxHttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (request.user.is_active and request.user.is_staff):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapped


def client_ip(request: HtmxHttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


@staff_required
@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    form = HolderSearchForm(request.GET or None)
    results = selectors.search_holders(form.cleaned_data["q"]) if form.is_valid() else []
    context = {
        "form": form,
        "results": results,
        "searched": form.is_bound,
        "queue_size": selectors.moderation_queue().count(),
    }
    return TemplateResponse(request, partial("staff/home.html", request, "results"), context)


@staff_required
@require_GET
def holder_detail(request: HtmxHttpRequest, kind: str, pk: str) -> HttpResponse:
    holder = selectors.holder(kind, pk)
    wallets = selectors.wallets_of(holder)
    context = {
        "holder": holder,
        "kind": kind,
        "wallets": wallets,
        "transfers": selectors.recent_transfers(wallets),
        "orders": selectors.orders_of(holder),
        "audit": selectors.audit_for_wallets(wallets),
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
    RequestConfig(request, paginate={"per_page": 25}).configure(table)
    context = {
        "wallet": wallet,
        "holder": wallet.holder,
        "kind": selectors.holder_kind(wallet.holder),
        "filter": filterset,
        "table": table,
    }
    return TemplateResponse(request, partial("staff/wallet.html", request, "tx-table"), context)


@staff_required
@require_GET
def queue(request: HtmxHttpRequest) -> HttpResponse:
    rows = [queue_row(tx) for tx in selectors.moderation_queue()]
    return TemplateResponse(request, "staff/queue.html", {"rows": rows})


def queue_row(tx: Any, form: QueueDecisionForm | None = None, outcome: str = "") -> dict:
    return {
        "tx": tx,
        "held": risk.held_transfer_details(tx) if risk.is_held_transfer(tx) else None,
        "form": form or QueueDecisionForm(prefix=str(tx.uuid)),
        "outcome": outcome,
    }


@staff_required
@require_POST
def queue_decide(request: HtmxHttpRequest, tx_uuid: str, decision: str) -> HttpResponse:
    actions = {"confirm": moderation.confirm_transaction, "reject": moderation.reject_transaction}
    if decision not in actions:
        raise Http404("No such decision.")
    tx = selectors.transaction(tx_uuid)
    form = QueueDecisionForm(request.POST, prefix=str(tx.uuid))
    outcome, status = "", 422
    if form.is_valid():
        try:
            actions[decision](
                tx, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
            )
        except WalletError as error:
            form.add_error(None, error.message)
        else:
            outcome = "Confirmed" if decision == "confirm" else "Rejected"
            status = 200
    if not request.htmx:
        if outcome:
            messages.success(request, f"{outcome}: {tx.get_type_display().lower()} {tx.uuid}.")
        else:
            for error in form.errors.values():
                messages.error(request, " ".join(error))
        return redirect("staff:queue")
    tx.refresh_from_db()
    row = queue_row(tx, form=None if outcome else form, outcome=outcome)
    return TemplateResponse(request, "staff/includes/queue_row.html", {"row": row}, status=status)


def _confirm_page(
    request: HtmxHttpRequest,
    *,
    title: str,
    what: str,
    form: ReasonForm,
    back: str,
    perform: Callable[[dict[str, Any]], Any],
    success: str,
) -> HttpResponse:
    """GET shows what will happen; POST with a reason does it and goes back."""
    if request.method == "POST" and form.is_valid():
        try:
            perform(form.cleaned_data)
        except WalletError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, success)
            return redirect(back)
    status = 422 if form.is_bound else 200
    context = {"title": title, "what": what, "form": form, "back": back}
    return TemplateResponse(request, "staff/confirm.html", context, status=status)


def _holder_url(wallet: Wallet) -> str:
    holder = wallet.holder
    return reverse("staff:holder", args=[selectors.holder_kind(holder), holder.pk])


@staff_required
@require_http_methods(["GET", "POST"])
def freeze(request: HtmxHttpRequest, wallet_uuid: str) -> HttpResponse:
    wallet = selectors.wallet(wallet_uuid)
    if not moderation.can(request.user, Action.FREEZE):
        raise PermissionDenied
    freezing = not wallet.is_frozen
    if freezing:
        what = (
            f"Freeze '{wallet.name}' of {wallet.holder}. Every deposit, withdrawal, transfer and "
            "payment into or out of it will be refused until it is unfrozen. The holder sees the "
            "reason."
        )
    else:
        what = (
            f"Unfreeze '{wallet.name}' of {wallet.holder} (frozen because: "
            f"{wallet.frozen_reason or 'no reason given'}). Operations are accepted again."
        )
    service = moderation.freeze_wallet if freezing else moderation.unfreeze_wallet
    return _confirm_page(
        request,
        title="Freeze wallet" if freezing else "Unfreeze wallet",
        what=what,
        form=ReasonForm(request.POST or None),
        back=_holder_url(wallet),
        perform=lambda data: service(
            wallet, actor=request.user, reason=data["reason"], ip=client_ip(request)
        ),
        success=f"The wallet '{wallet.name}' is {'frozen' if freezing else 'unfrozen'}.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def refund_transfer_view(request: HtmxHttpRequest, transfer_uuid: str) -> HttpResponse:
    transfer = selectors.transfer(transfer_uuid)
    if not moderation.can(request.user, Action.REFUND_TRANSFER):
        raise PermissionDenied
    source, destination = transfer.from_wallet, transfer.to_wallet
    left = transfer.amount - transfer.refunded_amount
    what = (
        f"Return money from '{destination.name}' of {destination.holder} to '{source.name}' of "
        f"{source.holder}: up to {moderation.at_precision(left, source)} {source.unit} is left "
        f"of this {transfer.get_kind_display().lower()} of "
        f"{moderation.at_precision(transfer.amount, source)} {source.unit}."
    )
    return _confirm_page(
        request,
        title="Refund transfer",
        what=what,
        form=RefundTransferForm(request.POST or None),
        back=_holder_url(source),
        perform=lambda data: moderation.refund_transfer(
            transfer,
            actor=request.user,
            reason=data["reason"],
            amount=data.get("amount"),
            ip=client_ip(request),
        ),
        success="The transfer was refunded.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def refund_order_view(request: HtmxHttpRequest, number: str) -> HttpResponse:
    order = selectors.order(number)
    if not moderation.can(request.user, Action.REFUND_ORDER):
        raise PermissionDenied
    what = (
        f"Refund everything not yet refunded of order {order.number} "
        f"({moderation.at_precision(order.total, order.wallet)} {order.unit}, "
        f"{order.get_status_display().lower()}) to {order.buyer}, and return the stock."
    )
    return _confirm_page(
        request,
        title="Refund order",
        what=what,
        form=ReasonForm(request.POST or None),
        back=reverse("staff:holder", args=["user", order.buyer_id]),
        perform=lambda data: refund_order(
            order, actor=request.user, reason=data["reason"], ip=client_ip(request)
        ),
        success=f"Order {order.number} was refunded.",
    )
