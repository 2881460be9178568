"""A merchant's sales page: orders, revenue, and refunds of orders and checkout payments."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.shopfront.base import (
    managed_merchant,
    member_merchant,
    money_error,
    redirect_to,
)
from portal.shopfront.forms import RefundForm, SessionRefundForm
from shop.checkout.services import refund_session_payment
from shop.models import CheckoutSession, Order
from shop.selectors import (
    can_manage_merchant,
    merchants_for_user,
    paid_sessions,
    revenue_by_product,
    sales_orders,
)
from shop.services import refund_order
from wallets.exceptions import WalletError
from wallets.models import AuditEntry
from wallets.staff import can as staff_can
from wallets.staff import request_ip


@require_GET
@login_required
def sales_index(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/sales_index.html", {"merchants": merchants_for_user(request.user)})


@require_GET
@login_required
def sales(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = member_merchant(request, slug)
    page = Paginator(sales_orders(merchant), 20).get_page(request.GET.get("page"))
    orders = []
    for order in page:
        refundable = [line for line in order.merchant_lines if line.refundable_quantity]
        orders.append(
            {
                "order": order,
                "lines": order.merchant_lines,
                "refund_form": RefundForm(lines=refundable, prefix=order.number),
            }
        )
    checkout_payments = [
        # Each row's form has its own key; auto_id keeps the element ids unique.
        {"session": session, "refund_form": SessionRefundForm(auto_id=f"id_%s_{session.pk}")}
        for session in paid_sessions(merchant)
    ]
    return render(
        request,
        "shop/sales.html",
        {
            "merchant": merchant,
            "orders": orders,
            "page": page,
            "revenue": revenue_by_product(merchant),
            "checkout_payments": checkout_payments,
            # Staff without the refund permission see the sales, not the refund forms.
            "can_refund": can_manage_merchant(request.user, merchant)
            or staff_can(request.user, AuditEntry.Action.REFUND_ORDER),
        },
    )


@require_POST
@login_required
def refund(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    merchant = managed_merchant(request, slug)
    order = Order.objects.filter(number=number, lines__merchant=merchant).distinct().first()
    if order is None:
        raise Http404("No such order.")
    form = RefundForm(
        request.POST, lines=list(order.lines.filter(merchant=merchant)), prefix=number
    )
    if not form.is_valid():
        messages.error(request, "Refund quantities are not valid.")
    elif not form.quantities():
        messages.error(request, "Choose at least one item to refund.")
    else:
        try:
            refund_order(
                order,
                by=request.user,
                quantities=form.quantities(),
                reason=form.cleaned_data["reason"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                ip=request_ip(request),
            )
        except WalletError as exc:
            messages.error(request, money_error(exc))
        else:
            messages.success(request, f"Refunded order {order.number}.")
    return redirect_to(request, reverse("shop:sales", args=[merchant.slug]))


@require_POST
@login_required
def session_refund(request: HttpRequest, slug: str, public_id: str) -> HttpResponse:
    merchant = managed_merchant(request, slug)
    session = CheckoutSession.objects.filter(merchant=merchant, public_id=public_id).first()
    if session is None:
        raise Http404("No such checkout.")
    form = SessionRefundForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Enter a valid amount, or leave it empty to refund the rest.")
    else:
        try:
            refund_session_payment(
                session,
                by=request.user,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                idempotency_key=form.cleaned_data["idempotency_key"],
                ip=request_ip(request),
            )
        except WalletError as exc:
            messages.error(request, money_error(exc))
        else:
            messages.success(request, f"Refunded checkout {session.public_id}.")
    return redirect_to(request, reverse("shop:sales", args=[merchant.slug]))
