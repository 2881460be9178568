"""Catalog, cart, orders (buyers) and sales, refunds, developer settings (merchants)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from portal.shopfront.forms import (
    AddToCartForm,
    APIKeyForm,
    CartCheckoutForm,
    CartQuantityForm,
    CatalogFilterForm,
    OriginForm,
    RefundForm,
    SessionRefundForm,
    WebhookForm,
)
from shop import cart as shop_cart
from shop.checkout.services import (
    add_allowed_origin,
    create_api_key,
    refund_session_payment,
    revoke_api_key,
)
from shop.models import (
    CheckoutSession,
    MerchantAPIKey,
    Order,
    Organization,
    Product,
    WebhookDelivery,
)
from shop.selectors import (
    can_manage_merchant,
    catalog,
    categories,
    merchant_for_manager,
    merchant_for_member,
    merchants_for_user,
    order_for_buyer,
    orders_for_buyer,
    paid_sessions,
    price_for,
    product_availability_problem,
    revenue_by_product,
    sales_orders,
    wallets_for_payment,
)
from shop.services import pay_cart, refund_order
from shop.webhooks import add_endpoint, retry_now
from wallets.exceptions import WalletError


def _template(request: HttpRequest, name: str, fragment: str) -> str:
    """The whole page, or only ``fragment`` for a non-boosted htmx request."""
    htmx = getattr(request, "htmx", None)
    if htmx and not htmx.boosted:
        return f"{name}#{fragment}"
    return name


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return redirect(url)


# Buyers


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
        _template(request, "shop/catalog.html", "product-list"),
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
    return _redirect(request, reverse("shop:cart"))


def _cart_context(request: HttpRequest, checkout_form: CartCheckoutForm | None = None) -> dict:
    customer = request.user if request.user.is_authenticated else None
    lines = shop_cart.lines(request.session, customer)
    totals = shop_cart.totals_by_unit(lines)
    unit = next(iter(totals)) if len(totals) == 1 else None
    wallets = wallets_for_payment(request.user, unit) if unit and customer else []
    if checkout_form is None and wallets:
        checkout_form = CartCheckoutForm(wallets=wallets, total=totals[unit])
    return {
        "lines": lines,
        "totals": totals,
        "unit": unit,
        "mixed_units": len(totals) > 1,
        "checkout_form": checkout_form,
    }


@require_GET
def cart_page(request: HttpRequest) -> HttpResponse:
    return render(
        request, _template(request, "shop/cart.html", "cart-body"), _cart_context(request)
    )


@require_POST
def cart_update(request: HttpRequest) -> HttpResponse:
    form = CartQuantityForm(request.POST)
    if form.is_valid():
        shop_cart.set_quantity(
            request.session, form.cleaned_data["product"], form.cleaned_data["quantity"]
        )
    return render(
        request, _template(request, "shop/cart.html", "cart-body"), _cart_context(request)
    )


@require_POST
@login_required
def cart_checkout(request: HttpRequest) -> HttpResponse:
    # Never charge for a different cart than the one the customer saw.
    removed = shop_cart.drop_missing(request.session)
    context = _cart_context(request)
    wallets = wallets_for_payment(request.user, context["unit"]) if context["unit"] else []
    form = CartCheckoutForm(request.POST, wallets=wallets)
    context["checkout_form"] = form
    if removed:
        context["error"] = (
            "Some products are no longer sold and were removed from your cart. "
            "Check it and pay again."
        )
    elif not context["lines"]:
        context["error"] = "Your cart is empty."
    elif context["mixed_units"]:
        context["error"] = "Pay for products in one unit at a time."
    elif not form.is_valid():
        context["error"] = "Choose a wallet to pay from."
    else:
        try:
            order = pay_cart(
                request.user,
                form.chosen_wallet(),
                [(line.product, line.quantity) for line in context["lines"]],
                idempotency_key=form.cleaned_data["idempotency_key"],
                expected_total=form.cleaned_data["expected_total"],
            )
        except WalletError as exc:
            context["error"] = exc.message
        else:
            shop_cart.clear(request.session)
            messages.success(request, f"Paid. Order {order.number}.")
            return _redirect(request, reverse("shop:receipt", args=[order.number]))
    return render(request, _template(request, "shop/cart.html", "cart-body"), context, status=422)


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
    return render(request, "shop/receipt.html", {"order": order})


# Merchants


@require_GET
@login_required
def sales_index(request: HttpRequest) -> HttpResponse:
    return render(request, "shop/sales_index.html", {"merchants": merchants_for_user(request.user)})


def _member_merchant(request: HttpRequest, slug: str) -> Organization:
    try:
        return merchant_for_member(request.user, slug)
    except Organization.DoesNotExist:
        raise Http404("No such merchant.") from None


def _managed_merchant(request: HttpRequest, slug: str) -> Organization:
    try:
        return merchant_for_manager(request.user, slug)
    except Organization.DoesNotExist:
        raise Http404("No such merchant.") from None


@require_GET
@login_required
def sales(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = _member_merchant(request, slug)
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
    return render(
        request,
        "shop/sales.html",
        {
            "merchant": merchant,
            "orders": orders,
            "page": page,
            "revenue": revenue_by_product(merchant),
            "checkout_payments": paid_sessions(merchant),
            "can_refund": request.user.is_staff or can_manage_merchant(request.user, merchant),
        },
    )


@require_POST
@login_required
def refund(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    merchant = _managed_merchant(request, slug)
    order = Order.objects.filter(number=number, lines__merchant=merchant).distinct().first()
    if order is None:
        raise Http404("No such order.")
    lines = [line for line in order.lines.filter(merchant=merchant) if line.refundable_quantity]
    form = RefundForm(request.POST, lines=lines, prefix=number)
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
            )
        except WalletError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Refunded order {order.number}.")
    return _redirect(request, reverse("shop:sales", args=[merchant.slug]))


@require_POST
@login_required
def session_refund(request: HttpRequest, slug: str, public_id: str) -> HttpResponse:
    merchant = _managed_merchant(request, slug)
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
            )
        except WalletError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"Refunded checkout {session.public_id}.")
    return _redirect(request, reverse("shop:sales", args=[merchant.slug]))


@require_GET
@login_required
def developers(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = _managed_merchant(request, slug)
    return _developers_page(request, merchant)


def _developers_page(
    request: HttpRequest, merchant: Organization, new_key: str = "", status: int = 200
) -> HttpResponse:
    deliveries = (
        WebhookDelivery.objects.filter(endpoint__merchant=merchant)
        .select_related("event", "endpoint")
        .order_by("-pk")[:50]
    )
    return render(
        request,
        "shop/developers.html",
        {
            "merchant": merchant,
            "keys": merchant.api_keys.all(),
            "origins": merchant.checkout_origins.all(),
            "endpoints": merchant.webhook_endpoints.all(),
            "deliveries": deliveries,
            "new_key": new_key,
            "key_form": APIKeyForm(),
            "origin_form": OriginForm(),
            "webhook_form": WebhookForm(),
        },
        status=status,
    )


@require_POST
@login_required
def api_key_create(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = _managed_merchant(request, slug)
    form = APIKeyForm(request.POST)
    name = form.cleaned_data["name"] if form.is_valid() else ""
    _, raw = create_api_key(merchant, by=request.user, name=name)
    # Shown in this response only; the page never sees it again.
    response = _developers_page(request, merchant, new_key=raw)
    response["Cache-Control"] = "no-store"
    return response


@require_POST
@login_required
def api_key_revoke(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    merchant = _managed_merchant(request, slug)
    key = MerchantAPIKey.objects.filter(merchant=merchant, pk=pk).first()
    if key is None:
        raise Http404("No such key.")
    revoke_api_key(key, by=request.user)
    messages.success(request, "The key was revoked.")
    return _redirect(request, reverse("shop:developers", args=[merchant.slug]))


@require_POST
@login_required
def origin_add(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = _managed_merchant(request, slug)
    form = OriginForm(request.POST)
    if form.is_valid():
        try:
            add_allowed_origin(merchant, form.cleaned_data["origin"], by=request.user)
        except WalletError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Enter an origin such as https://shop.example.")
    return _redirect(request, reverse("shop:developers", args=[merchant.slug]))


@require_POST
@login_required
def webhook_add(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = _managed_merchant(request, slug)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            add_endpoint(merchant, form.cleaned_data["url"], by=request.user)
        except WalletError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Enter a valid URL.")
    return _redirect(request, reverse("shop:developers", args=[merchant.slug]))


@require_POST
@login_required
def webhook_retry(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    merchant = _managed_merchant(request, slug)
    delivery = WebhookDelivery.objects.filter(endpoint__merchant=merchant, pk=pk).first()
    if delivery is None:
        raise Http404("No such delivery.")
    retry_now(delivery, by=request.user)
    messages.success(request, "The delivery will be retried on the next pass.")
    return _redirect(request, reverse("shop:developers", args=[merchant.slug]))
