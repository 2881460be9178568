"""Staff console actions: each parses a form and calls one engine (or shop) service.

Every service is given ``actor=StaffActor(user, reason, ip)`` and the form's idempotency
key. The engine's operation checks the actor's permission and the reason before anything
(``PermissionDenied`` becomes a 403), locks, writes the audit entry in the same
transaction, and answers a repeated key with the first result: nothing here locks,
audits or checks permissions itself. Pages only hide forms the viewer may not use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from portal.staff import selectors
from portal.staff.forms import FreezeForm, QueueDecisionForm, ReasonForm, RefundTransferForm
from portal.staff.views import queue_row, staff_required
from portal.templatetags.portal_money import money
from portal.views.base import HtmxHttpRequest
from shop.services import refund_order
from wallets.exceptions import WalletError
from wallets.models import AuditEntry, TransferHold
from wallets.services import transfer_service, wallet_service
from wallets.staff import StaffActor, can
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

Action = AuditEntry.Action
# perform(item, actor, idempotency_key) for each decision, and the word for its outcome.
Decision = tuple[str, Callable[[Any, StaffActor, str], Any]]

TRANSACTION_DECISIONS: dict[str, Decision] = {
    "confirm": (
        "Confirmed",
        lambda tx, actor, key: wallet_service().confirm_transaction(
            tx, actor=actor, idempotency_key=key
        ),
    ),
    "reject": (
        "Rejected",
        lambda tx, actor, key: wallet_service().reject_transaction(
            tx, actor=actor, idempotency_key=key
        ),
    ),
}
HOLD_DECISIONS: dict[str, Decision] = {
    "release": (
        "Released",
        lambda hold, actor, key: transfer_service().release_hold(
            hold, actor=actor, idempotency_key=key
        ),
    ),
    "reject": (
        "Rejected",
        lambda hold, actor, key: transfer_service().reject_hold(
            hold, actor=actor, idempotency_key=key
        ),
    ),
}


def acting(request: HtmxHttpRequest, reason: str) -> StaffActor:
    return StaffActor.from_request(request, reason)


@staff_required
@require_POST
def decide_transaction(request: HtmxHttpRequest, tx_uuid: str, decision: str) -> HttpResponse:
    return _decide(request, selectors.transaction(tx_uuid), TRANSACTION_DECISIONS, decision)


@staff_required
@require_POST
def decide_hold(request: HtmxHttpRequest, hold_uuid: str, decision: str) -> HttpResponse:
    return _decide(request, selectors.transfer_hold(hold_uuid), HOLD_DECISIONS, decision)


def _decide(
    request: HtmxHttpRequest,
    item: Transaction | TransferHold,
    decisions: dict[str, Decision],
    decision: str,
) -> HttpResponse:
    """Run a queue decision; htmx gets the row back in place, others the queue page."""
    if decision not in decisions:
        raise Http404("No such decision.")
    outcome, perform = decisions[decision]
    form = QueueDecisionForm(request.POST, prefix=str(item.uuid))
    done = False
    if form.is_valid():
        data = form.cleaned_data
        try:
            perform(item, acting(request, data["reason"]), data["idempotency_key"])
        except WalletError as error:
            form.add_wallet_error(error)
        else:
            done = True
    if not request.htmx:
        if done:
            messages.success(request, f"{outcome}: {_describe(item)}.")
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("staff:queue")
    item.refresh_from_db()
    row = queue_row(request, item, form=None if done else form, outcome=outcome if done else "")
    template = (
        "staff/includes/hold_row.html"
        if isinstance(item, TransferHold)
        else "staff/includes/queue_row.html"
    )
    return TemplateResponse(request, template, {"row": row}, status=200 if done else 422)


def _describe(item: Transaction | TransferHold) -> str:
    if isinstance(item, TransferHold):
        return f"held transfer of {money(item.amount, item.from_wallet)}"
    return f"{item.get_type_display().lower()} of {money(abs(item.amount), item.wallet)}"


def _action_page(
    request: HtmxHttpRequest,
    *,
    action: str,
    title: str,
    what: str,
    form: ReasonForm,
    back: str,
    perform: Callable[[dict[str, Any], StaffActor], Any],
    success: str,
) -> HttpResponse:
    """GET shows what will happen; POST with a reason does it and goes back."""
    if form.is_bound and form.is_valid():
        try:
            perform(form.cleaned_data, acting(request, form.cleaned_data["reason"]))
        except WalletError as error:
            form.add_wallet_error(error)
        else:
            messages.success(request, success)
            return redirect(back)
    # The form is shown only to staff who may use it (the engine refuses the others).
    if not can(request.user, action):
        raise PermissionDenied
    status = 422 if form.is_bound else 200
    context = {"title": title, "what": what, "form": form, "back": back}
    return TemplateResponse(request, "staff/confirm.html", context, status=status)


def _posted(request: HtmxHttpRequest) -> dict | None:
    return request.POST if request.method == "POST" else None


def _holder_url(wallet: Wallet) -> str:
    holder = wallet.holder
    return reverse("staff:holder", args=[selectors.holder_kind(holder), holder.pk])


@staff_required
@require_http_methods(["GET", "POST"])
def freeze(request: HtmxHttpRequest, wallet_uuid: str) -> HttpResponse:
    wallet = selectors.wallet(wallet_uuid)
    what = (
        f"Freeze '{wallet.name}' of {wallet.holder}. Every deposit, withdrawal, transfer and "
        "payment into or out of it will be refused until it is unfrozen. The holder sees "
        "the message to the holder; the staff note is for staff only."
    )
    if wallet.is_frozen:
        what = f"'{wallet.name}' of {wallet.holder} is already frozen."
    return _action_page(
        request,
        action=Action.FREEZE,
        title="Freeze wallet",
        what=what,
        form=FreezeForm(_posted(request)),
        back=_holder_url(wallet),
        perform=lambda data, actor: wallet_service().freeze(
            wallet,
            message=data["message"],
            actor=actor,
            idempotency_key=data["idempotency_key"],
        ),
        success=f"The wallet '{wallet.name}' is frozen.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def unfreeze(request: HtmxHttpRequest, wallet_uuid: str) -> HttpResponse:
    wallet = selectors.wallet(wallet_uuid)
    if wallet.is_frozen:
        what = (
            f"Unfreeze '{wallet.name}' of {wallet.holder}: operations are accepted again. "
            f"The holder was told: “{wallet.frozen_message_for_holder}” "
            f"Staff note: “{wallet.frozen_note or '—'}”"
        )
    else:
        what = f"'{wallet.name}' of {wallet.holder} is not frozen."
    return _action_page(
        request,
        action=Action.UNFREEZE,
        title="Unfreeze wallet",
        what=what,
        form=ReasonForm(_posted(request)),
        back=_holder_url(wallet),
        perform=lambda data, actor: wallet_service().unfreeze(
            wallet, actor=actor, idempotency_key=data["idempotency_key"]
        ),
        success=f"The wallet '{wallet.name}' is unfrozen.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def refund_transfer(request: HtmxHttpRequest, transfer_uuid: str) -> HttpResponse:
    transfer = selectors.transfer(transfer_uuid)
    source, destination = transfer.from_wallet, transfer.to_wallet
    what = (
        f"Return money from '{destination.name}' of {destination.holder} to '{source.name}' of "
        f"{source.holder}: up to {money(transfer.refundable, source)} is left of this "
        f"{transfer.get_kind_display().lower()} of {money(transfer.amount, source)}."
    )
    return _action_page(
        request,
        action=Action.REFUND_TRANSFER,
        title="Refund transfer",
        what=what,
        form=RefundTransferForm(_posted(request)),
        back=_holder_url(source),
        perform=lambda data, actor: transfer_service().refund(
            transfer, data.get("amount"), actor=actor, idempotency_key=data["idempotency_key"]
        ),
        success="The transfer was refunded.",
    )


@staff_required
@require_http_methods(["GET", "POST"])
def refund_order_view(request: HtmxHttpRequest, number: str) -> HttpResponse:
    order = selectors.order(number)
    what = (
        f"Refund everything not yet refunded of order {order.number} "
        f"({money(order.total, order.wallet)}, {order.get_status_display().lower()}) "
        f"to {order.buyer}, and return the stock."
    )
    return _action_page(
        request,
        action=Action.REFUND_ORDER,
        title="Refund order",
        what=what,
        form=ReasonForm(_posted(request)),
        back=reverse("staff:holder", args=["user", order.buyer_id]),
        # The shop runs the refund as one engine operation with its one audit entry.
        perform=lambda data, actor: refund_order(
            order,
            by=actor.user,
            reason=actor.reason,
            staff=True,
            ip=actor.ip,
            idempotency_key=data["idempotency_key"],
        ),
        success=f"Order {order.number} was refunded.",
    )
