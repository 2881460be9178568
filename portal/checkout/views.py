"""Hosted checkout (top level, logged in) and the embedded summary (framed, no login)."""

from __future__ import annotations

import hmac
from decimal import Decimal
from urllib.parse import urlsplit

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseStopPolling

from portal.checkout.forms import ConfirmForm
from portal.checkout.ids import is_public_id
from portal.services import needs_reauthentication
from shop.checkout.exceptions import CancelNotAllowed
from shop.checkout.selectors import (
    effective_status,
    fee_paid,
    payable_wallets,
    payment_options,
    session_fee,
    session_payable_problem,
)
from shop.checkout.services import (
    FeeChanged,
    SessionAlreadyPaid,
    SessionNotPayable,
    cancel_url_for,
    pay_session,
    success_url_for,
)
from shop.models import CheckoutSession
from shop.selectors import fees_differ
from wallets.exceptions import WalletError

CSP_MIDDLEWARE = "csp.middleware.CSPMiddleware"


def _session(public_id: str) -> CheckoutSession:
    if not is_public_id(public_id):
        raise Http404("No such checkout.")
    try:
        return CheckoutSession.objects.select_related("merchant").get(public_id=public_id)
    except CheckoutSession.DoesNotExist:
        raise Http404("No such checkout.") from None


def _page(request: HttpRequest, session: CheckoutSession, form=None, error: str = "", status=200):
    status_now = effective_status(session)
    if status_now == CheckoutSession.Status.COMPLETE and session.paid_by_id != request.user.pk:
        # A paid session is the payer's business only.
        raise Http404("No such checkout.")
    options = payment_options(request.user, session) if status_now == "open" else []
    if status_now == CheckoutSession.Status.COMPLETE:
        fee = fee_paid(session)
    elif status_now == CheckoutSession.Status.OPEN:
        # The fee of the wallet offered first (the one checked), or of any wallet.
        fee = options[0].fee if options else session_fee(session)
    else:
        fee = Decimal(0)
    if form is None:
        form = ConfirmForm(wallets=[option.wallet for option in options], fee=fee)
    response = render(
        request,
        "checkout/hosted.html",
        {
            "session": session,
            "status": status_now,
            "form": form,
            "options": options,
            "fees_differ": fees_differ(option.fee for option in options),
            "fee": fee,
            "fee_total": session.amount + fee if fee else None,
            "error": error,
            "paid_by_me": session.paid_by_id == request.user.pk,
        },
        status=status if status_now == "open" else (410 if status_now == "expired" else status),
    )
    return _keep_opener(_allow_form_redirects(response, session), session)


def _keep_opener(response: HttpResponse, session: CheckoutSession) -> HttpResponse:
    """Let the popup of an embedded checkout keep its link to the iframe that opened it.

    The default COOP ``same-origin`` severs it, because that iframe sits in
    the merchant's page; without the link the popup cannot tell the iframe
    that the customer cancelled. Completion does not depend on it (the iframe
    polls), and hosted-mode pages keep the strict default.
    """
    if session.mode == CheckoutSession.Mode.EMBEDDED:
        response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response


def _allow_form_redirects(response: HttpResponse, session: CheckoutSession) -> HttpResponse:
    # Confirm and cancel answer with a redirect to the merchant's site, and
    # CSP form-action applies to where a form submission is redirected.
    origins = sorted({_origin(session.success_url), _origin(session.cancel_url)})
    response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@require_GET
@login_required
def hosted(request: HttpRequest, public_id: str) -> HttpResponse:
    return _page(request, _session(public_id))


def _is_large_payment(request: HttpRequest) -> bool:
    public_id = request.resolver_match.kwargs.get("public_id", "")
    if not is_public_id(public_id):
        return False
    session = CheckoutSession.objects.filter(public_id=public_id)
    session = session.only("amount", "unit").first()
    return session is not None and needs_reauthentication(session.unit, session.amount)


@require_POST
@login_required
@reauthentication_required(enabled=_is_large_payment)
def confirm(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _session(public_id)
    wallets = payable_wallets(request.user, session)
    form = ConfirmForm(request.POST, wallets=wallets)
    if session_payable_problem(session):
        status = 409 if session.status == CheckoutSession.Status.COMPLETE else 410
        return _page(request, session, error=session_payable_problem(session), status=status)
    if not form.is_valid():
        shown = None if form.stale else form  # stale: a fresh form, as the page is now
        return _page(request, session, form=shown, error=form.problem(), status=422)
    try:
        pay_session(
            session,
            request.user,
            form.chosen_wallet(),
            expected_fee=form.cleaned_data["expected_fee"],
        )
    except FeeChanged as exc:
        # Shown afresh: the new fee, and a form that expects it.
        return _page(request, session, error=exc.message, status=409)
    except SessionAlreadyPaid as exc:
        session.refresh_from_db()
        return _page(request, session, error=exc.message, status=409)
    except SessionNotPayable as exc:
        session.refresh_from_db()
        return _page(request, session, error=exc.message, status=410)
    except WalletError as exc:
        return _page(request, session, form=form, error=exc.message, status=422)
    session.refresh_from_db()
    if session.mode == CheckoutSession.Mode.EMBEDDED:
        # The popup is done: the framed page learns it by polling and tells
        # the merchant page; this window only has to close.
        fee = fee_paid(session)
        context = {
            "session": session,
            "outcome": "paid",
            "fee": fee,
            "fee_total": session.amount + fee if fee else None,
        }
        return _keep_opener(render(request, "checkout/popup_done.html", context), session)
    return HttpResponseRedirect(success_url_for(session), status=303)


@require_POST
@login_required
def cancel(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _session(public_id)
    try:
        cancel_url = cancel_url_for(session, request.user)
    except CancelNotAllowed:
        # A paid session is the payer's business only (as on the page itself);
        # an expired one shows the expired page.
        return _page(request, session, error="This checkout can no longer be cancelled.")
    if session.mode == CheckoutSession.Mode.EMBEDDED:
        return _keep_opener(
            render(
                request, "checkout/popup_done.html", {"session": session, "outcome": "cancelled"}
            ),
            session,
        )
    return HttpResponseRedirect(cancel_url, status=303)


def _embedded_session(request: HttpRequest, public_id: str) -> CheckoutSession:
    """The session, if it is embeddable and ``cs`` is its client secret; 404 otherwise."""
    session = _session(public_id)
    given = request.GET.get("cs", "")
    if not session.embed_origin or not hmac.compare_digest(
        given.encode(), session.client_secret.encode()
    ):
        raise Http404("No such checkout.")
    return session


def _frame_only_by(response: HttpResponse, origin: str) -> HttpResponse:
    """Let only ``origin`` frame this response.

    django-csp builds the header from the site policy with frame-ancestors
    replaced; without its middleware the header is written here, so the view
    never relies on a setting another part of the project owns.
    """
    response._csp_replace = {  # type: ignore[attr-defined]
        **(getattr(response, "_csp_replace", None) or {}),
        "frame-ancestors": [origin],
    }
    if CSP_MIDDLEWARE not in settings.MIDDLEWARE:
        response["Content-Security-Policy"] = f"frame-ancestors {origin}"
    return response


@require_GET
@xframe_options_exempt
def embed(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _embedded_session(request, public_id)
    status = effective_status(session)
    # No customer here: the fee any wallet in the session's unit would pay.
    fee = session_fee(session) if status == CheckoutSession.Status.OPEN else None
    response = render(
        request,
        "checkout/embed.html",
        {
            "session": session,
            "status": status,
            "client_secret": request.GET["cs"],
            "fee": fee,
            "fee_total": session.amount + fee if fee else None,
        },
    )
    return _frame_only_by(response, session.embed_origin)


EVENT_FOR_STATUS = {
    CheckoutSession.Status.COMPLETE: "wallet-checkout:completed",
    CheckoutSession.Status.EXPIRED: "wallet-checkout:expired",
}


@require_GET
@xframe_options_exempt
def embed_status(request: HttpRequest, public_id: str) -> HttpResponse:
    session = _embedded_session(request, public_id)
    status = effective_status(session)
    context = {"session": session, "status": status, "event": EVENT_FOR_STATUS.get(status, "")}
    if status == CheckoutSession.Status.OPEN:
        # Nothing to swap: the button stays as it is and polling goes on.
        response = HttpResponse(status=204)
    else:
        response = render(request, "checkout/embed_status.html", context)
        response = HttpResponseStopPolling(response.content)
    return _frame_only_by(response, session.embed_origin)
