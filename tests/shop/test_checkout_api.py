from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from shop.checkout.services import (
    InvalidAPIKey,
    add_allowed_origin,
    authenticate_api_key,
    create_api_key,
    revoke_api_key,
)
from shop.exceptions import NotAllowed
from shop.models import CheckoutSession, MerchantAPIKey, Organization

pytestmark = pytest.mark.django_db

URL = "/api/checkout/sessions/"


def test_api_keys_are_hashed_shown_once_and_revocable(merchant, merchant_manager, buyer):
    key, raw = create_api_key(merchant, by=merchant_manager)
    assert raw.startswith(f"sk_{key.prefix}_")
    stored = MerchantAPIKey.objects.get(pk=key.pk)
    assert raw not in (stored.key_hash, stored.prefix) and len(stored.key_hash) == 64
    assert authenticate_api_key(raw).pk == key.pk
    with pytest.raises(InvalidAPIKey):
        authenticate_api_key(raw[:-1] + ("A" if raw[-1] != "A" else "B"))
    with pytest.raises(NotAllowed):
        create_api_key(merchant, by=buyer)
    with pytest.raises(NotAllowed):
        revoke_api_key(key, by=buyer)
    revoke_api_key(key, by=merchant_manager)
    with pytest.raises(InvalidAPIKey):
        authenticate_api_key(raw)


def test_create_session_returns_id_url_secret_and_expiry(api, session_body, merchant):
    response = api.post(URL, session_body, idem="create-1")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["id"].startswith("cs_")
    assert data["url"] == f"http://testserver/checkout/{data['id']}/"
    assert data["client_secret"].startswith("cs_secret_")
    assert data["status"] == "open"
    assert data["amount"] == "25.00" and data["unit"] == "USD"
    session = CheckoutSession.objects.get(public_id=data["id"])
    assert session.merchant == merchant
    expected = timezone.now() + timedelta(minutes=30)
    assert abs(session.expires_at - expected) < timedelta(seconds=10)
    assert data["expires_at"] == int(session.expires_at.timestamp())

    status = api.get(f"{URL}{data['id']}/")
    assert status.status_code == 200 and status.json()["status"] == "open"
    # Without the trailing slash too.
    assert api.get(f"/api/checkout/sessions/{data['id']}").status_code == 200


def test_idempotent_retry_returns_the_same_session(api, session_body):
    first = api.post(URL, session_body, idem="same")
    again = api.post(URL, session_body, idem="same")
    assert first.status_code == 201 and again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    assert CheckoutSession.objects.count() == 1
    conflict = api.post(URL, {**session_body, "amount": "26.00"}, idem="same")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["type"] == "idempotency_conflict"
    # No key: two sessions.
    api.post(URL, session_body)
    api.post(URL, session_body)
    assert CheckoutSession.objects.count() == 3


def test_line_items_from_products_and_free_text(api, session_body, make_product):
    book = make_product("Book", "12.50")
    body = {**session_body, "amount": None}
    body["line_items"] = [
        {"product": book.pk, "quantity": 2},
        {"name": "Shipping", "unit_price": "4.99", "quantity": 1},
    ]
    response = api.post(URL, body)
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["amount"] == "29.99"
    assert [line["name"] for line in data["line_items"]] == ["Book", "Shipping"]
    mismatch = api.post(URL, {**body, "amount": "30.00"})
    assert mismatch.status_code == 400 and "does not match" in mismatch.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"amount": "-1"}, "greater than zero"),
        ({"amount": "0"}, "greater than zero"),
        ({"amount": "abc"}, "not a number"),
        ({"amount": "1.001"}, "decimal places"),
        ({"amount": 12.5}, "decimal string"),
        ({"amount": "NaN"}, "finite"),
        ({"amount": None}, "decimal string"),
        ({"unit": "XYZ"}, "Unknown unit"),
        ({"unit": None}, "Unknown unit"),
        ({"success_url": "javascript:alert(1)"}, "success_url"),
        ({"cancel_url": None}, "cancel_url"),
        ({"mode": "popup"}, "mode"),
        ({"expires_in": 60}, "expires_in"),
        ({"expires_in": 90000}, "expires_in"),
        ({"metadata": {"a": 1}}, "metadata"),
        ({"description": "x" * 301}, "description"),
        ({"line_items": []}, "line_items"),
        ({"line_items": [{"name": "A", "unit_price": "1", "quantity": 0}]}, "quantity"),
        ({"line_items": [{"product": 999999}]}, "unknown product"),
        ({"mode": "embedded", "embed_origin": "https://evil.example"}, "allowed origins"),
        ({"mode": "embedded", "embed_origin": "https://x.example/path"}, "not an origin"),
    ],
)
def test_bad_requests_are_400_with_a_clear_message(api, session_body, change, message):
    response = api.post(URL, {**session_body, **change})
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["type"] == "invalid_request"
    assert message in error["message"]
    assert CheckoutSession.objects.count() == 0


def test_bad_json_and_non_object_body(api):
    response = api.post(URL, raw="{not json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_json",
        "message": "The body is not valid JSON.",
    }
    response = api.post(URL, raw="[1, 2]")
    assert response.status_code == 400
    assert "JSON object" in response.json()["error"]["message"]


@pytest.mark.parametrize("key", [None, "nope", "sk_000000000000_wrong", "Basic abc"])
def test_bad_key_is_401(client, key, session_body):
    headers = {}
    if key:
        headers["HTTP_AUTHORIZATION"] = key if key.startswith("Basic") else f"Bearer {key}"
    response = client.post(URL, data=session_body, content_type="application/json", **headers)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "authentication_error"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoked_key_is_401(api, session_body, merchant, merchant_manager, api_key):
    revoke_api_key(MerchantAPIKey.objects.get(), by=merchant_manager)
    assert api.post(URL, session_body).status_code == 401


def test_the_api_needs_no_csrf_token(session_body, api_key):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(
        URL,
        data=session_body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    assert response.status_code == 201


def test_unknown_or_foreign_session_is_404(api, session_body, merchant_manager):
    assert api.get(f"{URL}cs_missing/").status_code == 404
    other = Organization.objects.create(name="Other", slug="other", kind="merchant")
    from shop.models import Membership

    Membership.objects.create(organization=other, user=merchant_manager, role="owner")
    _, other_key = create_api_key(other, by=merchant_manager)
    session_id = api.post(URL, session_body).json()["id"]
    response = api.get(f"{URL}{session_id}/", key=other_key)
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "not_found"
    assert api.post(f"{URL}{session_id}/expire/", key=other_key).status_code == 404


def test_expire_then_status_reads_expired_and_it_cannot_be_paid(api, session_body, buyer):
    from shop.checkout.services import SessionExpired, pay_session

    session_id = api.post(URL, session_body).json()["id"]
    response = api.post(f"{URL}{session_id}/expire/")
    assert response.status_code == 200 and response.json()["status"] == "expired"
    assert api.post(f"{URL}{session_id}/expire/").status_code == 200  # idempotent
    with pytest.raises(SessionExpired):
        pay_session(CheckoutSession.objects.get(), buyer, buyer.wallet)
    assert buyer.balance == Decimal("100.00")


def test_a_paid_session_cannot_expire(api, session_body, buyer):
    from shop.checkout.services import pay_session

    session_id = api.post(URL, session_body).json()["id"]
    pay_session(CheckoutSession.objects.get(), buyer, buyer.wallet)
    response = api.post(f"{URL}{session_id}/expire/")
    assert response.status_code == 409
    assert response.json()["error"]["type"] == "session_complete"
    data = api.get(f"{URL}{session_id}/").json()
    assert data["status"] == "complete"
    assert data["payment"]["amount"] == "25.00"


def test_a_session_past_its_time_reads_expired(api, session_body):
    session_id = api.post(URL, session_body).json()["id"]
    CheckoutSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api.get(f"{URL}{session_id}/").json()["status"] == "expired"


def test_embedded_session_with_an_allowed_origin(api, session_body, merchant, merchant_manager):
    add_allowed_origin(merchant, "http://localhost:8000/", by=merchant_manager)
    body = {**session_body, "mode": "embedded", "embed_origin": "http://LOCALHOST:8000"}
    data = api.post(URL, body).json()
    assert data["embed_origin"] == "http://localhost:8000"
    assert data["embed_url"].endswith(f"/checkout/{data['id']}/embed/?cs={data['client_secret']}")


def test_wrong_methods_are_json_405(api, client):
    response = api.get(URL)
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert response.json()["error"]["type"] == "method_not_allowed"
    assert client.delete(f"{URL}cs_x/").status_code == 405
