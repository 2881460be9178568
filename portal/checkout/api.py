"""The merchant server's JSON API: token-authenticated, so CSRF-exempt, no cookies."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt

from portal.checkout.ids import is_public_id
from portal.checkout.json_body import BodyRefused, read_json_object
from shop.checkout.selectors import session_data, session_for_merchant
from shop.checkout.services import (
    CheckoutRequestInvalid,
    InvalidAPIKey,
    SessionAlreadyPaid,
    authenticate_api_key,
    create_session,
    expire_session,
)
from shop.models import CheckoutSession
from wallets.exceptions import IdempotencyConflict


def error(status: int, type_: str, message: str, param: str | None = None) -> JsonResponse:
    """A JSON error body; ``param`` names the refused field when there is one (as Stripe's)."""
    body: dict[str, Any] = {"type": type_, "message": message}
    if param:
        body["param"] = param
    response = JsonResponse({"error": body}, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="checkout"'
    return response


def api_view(*methods: str) -> Callable[[Callable[..., JsonResponse]], Callable[..., JsonResponse]]:
    """Allow ``methods``, authenticate the Bearer key, pass it on, and turn
    domain errors into JSON error bodies."""
    return lambda view: _api_view(view, methods)


def _api_view(view: Callable[..., JsonResponse], methods: tuple[str, ...]):
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        if request.method not in methods:
            response = error(405, "method_not_allowed", f"Use {', '.join(methods)}.")
            response["Allow"] = ", ".join(methods)
            return response
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        try:
            if scheme.lower() != "bearer":
                raise InvalidAPIKey("Send the secret key as 'Authorization: Bearer sk_...'.")
            api_key = authenticate_api_key(token.strip())
            return view(request, api_key, *args, **kwargs)
        except InvalidAPIKey as exc:
            return error(401, "authentication_error", exc.message)
        except CheckoutSession.DoesNotExist:
            return error(404, "not_found", "No such checkout session.")
        except IdempotencyConflict as exc:
            return error(409, "idempotency_conflict", exc.message)
        except SessionAlreadyPaid as exc:
            return error(409, "session_complete", exc.message)
        except CheckoutRequestInvalid as exc:
            return error(400, "invalid_request", exc.message, exc.field)
        except BodyRefused as exc:
            return error(exc.status, exc.type, exc.message, exc.param)

    return wrapper


def payload(request: HttpRequest, session: CheckoutSession) -> dict[str, Any]:
    data = session_data(session)
    data["url"] = request.build_absolute_uri(reverse("checkout:hosted", args=[session.public_id]))
    if session.embed_origin:
        data["embed_url"] = (
            request.build_absolute_uri(reverse("checkout:embed", args=[session.public_id]))
            + f"?cs={session.client_secret}"
        )
    data["client_secret"] = session.client_secret
    return data


@api_view("POST")
def sessions(request: HttpRequest, api_key) -> JsonResponse:
    body = read_json_object(request)
    key = request.headers.get("Idempotency-Key", "").strip()
    session, created = create_session(api_key, body, idempotency_key=key)
    response = JsonResponse(payload(request, session), status=201 if created else 200)
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


def _merchant_session(api_key, public_id: str) -> CheckoutSession:
    # An id no session can have (a NUL, say) is not sent to the database at all.
    if not is_public_id(public_id):
        raise CheckoutSession.DoesNotExist
    return session_for_merchant(api_key.merchant_id, public_id)


@api_view("GET")
def session_detail(request: HttpRequest, api_key, public_id: str) -> JsonResponse:
    session = _merchant_session(api_key, public_id)
    return JsonResponse(payload(request, session))


@api_view("POST")
def session_expire(request: HttpRequest, api_key, public_id: str) -> JsonResponse:
    expire_session(_merchant_session(api_key, public_id))
    return JsonResponse(payload(request, _merchant_session(api_key, public_id)))
