"""A merchant's developer settings: API keys, embedding origins, webhooks and deliveries."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from portal.shopfront.base import managed_merchant, redirect_to
from portal.shopfront.forms import APIKeyForm, OriginForm, WebhookForm
from shop.checkout.services import add_allowed_origin, create_api_key, revoke_api_key
from shop.models import MerchantAPIKey, Organization, WebhookDelivery
from shop.webhooks import add_endpoint, retry_now
from wallets.exceptions import WalletError


@require_GET
@login_required
def developers(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = managed_merchant(request, slug)
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
    merchant = managed_merchant(request, slug)
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
    merchant = managed_merchant(request, slug)
    key = MerchantAPIKey.objects.filter(merchant=merchant, pk=pk).first()
    if key is None:
        raise Http404("No such key.")
    revoke_api_key(key, by=request.user)
    messages.success(request, "The key was revoked.")
    return redirect_to(request, reverse("shop:developers", args=[merchant.slug]))


@require_POST
@login_required
def origin_add(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = managed_merchant(request, slug)
    form = OriginForm(request.POST)
    if form.is_valid():
        try:
            add_allowed_origin(merchant, form.cleaned_data["origin"], by=request.user)
        except WalletError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Enter an origin such as https://shop.example.")
    return redirect_to(request, reverse("shop:developers", args=[merchant.slug]))


@require_POST
@login_required
def webhook_add(request: HttpRequest, slug: str) -> HttpResponse:
    merchant = managed_merchant(request, slug)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            add_endpoint(merchant, form.cleaned_data["url"], by=request.user)
        except WalletError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, "Enter a valid URL.")
    return redirect_to(request, reverse("shop:developers", args=[merchant.slug]))


@require_POST
@login_required
def webhook_retry(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    merchant = managed_merchant(request, slug)
    delivery = WebhookDelivery.objects.filter(endpoint__merchant=merchant, pk=pk).first()
    if delivery is None:
        raise Http404("No such delivery.")
    retry_now(delivery, by=request.user)
    messages.success(request, "The delivery will be retried on the next pass.")
    return redirect_to(request, reverse("shop:developers", args=[merchant.slug]))
