"""A tiny merchant site, to show and test both checkout modes on one machine.

Served only with DEBUG or ``SHOP_DEMO_MERCHANT = True``. Open it on
``http://localhost:<port>/demo-merchant/`` and it sends customers to the
portal at ``http://127.0.0.1:<port>`` (and the other way round): two
different sites, so framing and cookies behave as in production.
"""

from __future__ import annotations

from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from shop.checkout.selectors import session_data
from shop.checkout.services import create_session, ensure_demo_merchant
from shop.models import CheckoutSession

PRODUCT = {"name": "Demo T-shirt", "unit_price": "25.00", "quantity": 1}


def demo_only(view):
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not (settings.DEBUG or getattr(settings, "SHOP_DEMO_MERCHANT", False)):
            raise Http404("The demo merchant is off.")
        return view(request, *args, **kwargs)

    return wrapper


def portal_origin(request: HttpRequest) -> str:
    """The portal as another site: localhost and 127.0.0.1 swapped, same port."""
    configured = getattr(settings, "SHOP_DEMO_PORTAL_ORIGIN", "")
    if configured:
        return configured
    parts = urlsplit(request.build_absolute_uri("/"))
    swap = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}
    host = swap.get(parts.hostname or "", parts.hostname or "")
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def _own_origin(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _allow_portal(response: HttpResponse, origin: str) -> HttpResponse:
    # The merchant page loads embed.js from the portal, frames it, and its
    # forms are redirected there (CSP form-action covers redirects).
    response._csp_update = {  # type: ignore[attr-defined]
        "script-src": [origin],
        "frame-src": [origin],
        "form-action": [origin],
    }
    # A merchant page that opens the checkout popup must not cut it off.
    response["Cross-Origin-Opener-Policy"] = "same-origin-allow-popups"
    return response


@require_GET
@demo_only
def page(request: HttpRequest) -> HttpResponse:
    response = render(request, "checkout/demo_merchant.html", {"product": PRODUCT})
    return _allow_portal(response, portal_origin(request))


@require_POST
@demo_only
def start(request: HttpRequest) -> HttpResponse:
    """What the merchant's server does: create a session, then send or frame it."""
    mode = "embedded" if request.POST.get("mode") == "embedded" else "hosted"
    own = _own_origin(request)
    merchant = ensure_demo_merchant(own)
    body = {
        "line_items": [PRODUCT],
        "unit": "USD",
        "description": "Demo order",
        "client_reference_id": "demo",
        "mode": mode,
        "success_url": own + reverse("checkout:demo-success"),
        "cancel_url": own + reverse("checkout:demo"),
    }
    if mode == "embedded":
        body["embed_origin"] = own
    session, _ = create_session(None, body, merchant=merchant)
    portal = portal_origin(request)
    if mode == "hosted":
        return HttpResponseRedirect(
            portal + reverse("checkout:hosted", args=[session.public_id]), status=303
        )
    embed_url = (
        portal
        + reverse("checkout:embed", args=[session.public_id])
        + f"?cs={session.client_secret}"
    )
    response = render(
        request,
        "checkout/demo_merchant.html",
        {"product": PRODUCT, "session": session, "embed_url": embed_url, "portal": portal},
    )
    return _allow_portal(response, portal)


@require_GET
@demo_only
def status(request: HttpRequest, public_id: str) -> JsonResponse:
    """The merchant's server confirming a session before fulfilling."""
    try:
        session = CheckoutSession.objects.get(public_id=public_id, merchant__slug="demo-merchant")
    except CheckoutSession.DoesNotExist:
        raise Http404("No such session.") from None
    return JsonResponse(session_data(session))


@require_GET
@demo_only
def success(request: HttpRequest) -> HttpResponse:
    session = CheckoutSession.objects.filter(
        public_id=request.GET.get("session_id", ""), merchant__slug="demo-merchant"
    ).first()
    return render(
        request,
        "checkout/demo_success.html",
        {"session": session, "data": session_data(session) if session else None},
    )
