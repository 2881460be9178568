"""The buyer's shop: catalog, product pages, cart, paying it, orders and receipts."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.shopfront.base import money_error, redirect_to, template_for
from portal.shopfront.forms import (
    AddToCartForm,
    CartCheckoutForm,
    CartQuantityForm,
    CatalogFilterForm,
)
from shop import cart as shop_cart
from shop.models import Order, Organization, Product
from shop.selectors import (
    cart_fee,
    catalog,
    categories,
    order_fee,
    order_for_buyer,
    orders_for_buyer,
    price_for,
    product_availability_problem,
    wallets_for_payment,
)
from shop.services import pay_cart
from wallets.exceptions import WalletError


@require_GET
def catalog_page(request: HttpRequest) -> HttpResponse:
    form = CatalogFilterForm(request.GET or None, categories=categories())
    filters = form.cleaned_data if form.is_valid() else {}
    products = catalog(
        q=filters.get("q") or "",
        category=filters.get("category") or "",
        min_price=filters.get("min_price"),
        max_price=filters.get("max_price"),
        sort=filters.get("sort") or "name",
    )
    page = Paginator(products, 24).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        template_for(request, "shop/catalog.html", "product-list"),
        {"form": form, "page": page, "query": query.urlencode()},
    )


def _product(pk: int) -> Product:
    try:
        return Product.objects.select_related("merchant").get(
            pk=pk, is_active=True, merchant__kind=Organization.Kind.MERCHANT
        )
    except Product.DoesNotExist:
        raise Http404("No such product.") from None


@require_GET
def product_page(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product(pk)
    customer = request.user if request.user.is_authenticated else None
    return render(
        request,
        "shop/product.html",
        {
            "product": product,
            "price": price_for(product, customer),
            "problem": product_availability_problem(product, customer, 1),
            "form": AddToCartForm(),
        },
    )


@require_POST
def cart_add(request: HttpRequest, pk: int) -> HttpResponse:
    product = _product(pk)
    form = AddToCartForm(request.POST)
    if form.is_valid():
        shop_cart.add(request.session, product, form.cleaned_data["quantity"])
        messages.success(request, f"Added {product.name} to your cart.")
    else:
        messages.error(request, "Choose a quantity from 1 to 99.")
    return redirect_to(request, reverse("shop:cart"))


def _cart_context(request: HttpRequest, checkout_form: CartCheckoutForm | None = None) -> dict:
    customer = request.user if request.user.is_authenticated else None
    lines = shop_cart.lines(request.session, customer)
    totals = shop_cart.totals_by_unit(lines)
    unit = next(iter(totals)) if len(totals) == 1 else None
    wallets = wallets_for_payment(request.user, unit) if unit and customer else []
    # Each wallet's fee: their decimal places may round it differently.
    fees = {w.pk: cart_fee(lines, w) for w in wallets}
    fee = fees[wallets[0].pk] if wallets else Decimal(0)
    if checkout_form is None and wallets:
        checkout_form = CartCheckoutForm(wallets=wallets, total=totals[unit], fee=fee, fees=fees)
    return {
        "fee": fee,
        "fee_total": totals[unit] + fee if fee else None,
        "lines": lines,
        "totals": totals,
        "unit": unit,
        "mixed_units": len(totals) > 1,
        "wallets": wallets,
        "checkout_form": checkout_form,
    }


@require_GET
def cart_page(request: HttpRequest) -> HttpResponse:
    return render(
        request, template_for(request, "shop/cart.html", "cart-body"), _cart_context(request)
    )


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    form = CartQuantityForm(request.POST)
    if form.is_valid():
        shop_cart.set_quantity(
            request.session, form.cleaned_data["product"], form.cleaned_data["quantity"]
        )
    return render(
        request, template_for(request, "shop/cart.html", "cart-body"), _cart_context(request)
    )


@require_POST
@login_required
def cart_checkout(request: HttpRequest) -> HttpResponse:
    # Never charge for a different cart than the one the customer saw.
    removed = shop_cart.drop_missing(request.session)
    context = _cart_context(request)
    # After a refusal nothing is recorded under the submitted key: the fresh
    # form (new key, the total as it is now) lets "pay again" agree to the
    # cart the page now shows.
    fresh_form = context["checkout_form"]
    fees = fresh_form.wallet_fees if fresh_form is not None else None
    total = context["totals"].get(context["unit"]) if context["unit"] else None
    form = CartCheckoutForm(request.POST, wallets=context["wallets"], total=total, fees=fees)
    context["checkout_form"] = form
    if removed:
        context["checkout_form"] = fresh_form
        context["error"] = (
            "Some products are no longer sold and were removed from your cart. "
            "Check it and pay again."
        )
    elif not context["lines"]:
        context["error"] = "Your cart is empty."
    elif context["mixed_units"]:
        context["error"] = "Pay for products in one unit at a time."
    elif not form.is_valid():
        context["error"] = form.problem()
        if form.stale:
            context["checkout_form"] = fresh_form
    else:
        try:
            order = pay_cart(
                request.user,
                form.chosen_wallet(),
                [(line.product, line.quantity) for line in context["lines"]],
                idempotency_key=form.cleaned_data["idempotency_key"],
                expected_total=form.cleaned_data["expected_total"],
                expected_fee=form.cleaned_data["expected_fee"],
            )
        except WalletError as exc:
            context["error"] = money_error(
                exc, form.chosen_wallet(), form.cleaned_data["expected_total"]
            )
            context["checkout_form"] = fresh_form
        else:
            shop_cart.clear(request.session)
            messages.success(request, f"Paid. Order {order.number}.")
            return redirect_to(request, reverse("shop:receipt", args=[order.number]))
    return render(
        request, template_for(request, "shop/cart.html", "cart-body"), context, status=422
    )


@require_GET
@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(orders_for_buyer(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "shop/orders.html", {"page": page})


@require_GET
@login_required
def receipt(request: HttpRequest, number: str) -> HttpResponse:
    try:
        order = order_for_buyer(request.user, number)
    except Order.DoesNotExist:
        raise Http404("No such order.") from None
    fee = order_fee(order)
    context = {"order": order, "fee": fee, "fee_total": order.total + fee if fee else None}
    return render(request, "shop/receipt.html", context)
