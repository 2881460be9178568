import json
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
        ({"amount": "abc"}, "Enter an amount like 12.50"),
        ({"amount": "1.001"}, "decimal places"),
        ({"amount": 12.5}, "decimal string"),
        ({"amount": "NaN"}, "Enter an amount like 12.50"),
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


# Bad input at the merchant API: a 4xx naming the field, never a 500, nothing saved.


def post_raw(client, api_key, data, content_type="application/json", **headers):
    return client.post(
        URL, data=data, content_type=content_type, HTTP_AUTHORIZATION=f"Bearer {api_key}", **headers
    )


def assert_refused(response, status=400, param=None):
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["message"]
    if param is not None:
        assert error["param"] == param, error
    assert CheckoutSession.objects.count() == 0
    return error


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"description": "Order\x0042"}, "description"),
        ({"client_reference_id": "ref\x00"}, "client_reference_id"),
        ({"metadata": {"note": "a\x00b"}}, "metadata.note"),
        ({"metadata": {"k\x00": "v"}}, "metadata.k\\u0000"),
        ({"success_url": "https://merchant.example/\x00ok"}, "success_url"),
        ({"unit": "US\x00D"}, "unit"),
        (
            {"amount": None, "line_items": [{"name": "Bo\x00ok", "unit_price": "1.00"}]},
            "line_items[0].name",
        ),
        (
            {"amount": None, "line_items": [{"name": "Book", "unit_price": "1.00", "x": ["\x00"]}]},
            "line_items[0].x[0]",
        ),
    ],
)
def test_a_nul_character_anywhere_is_a_400_naming_the_field(api, session_body, change, param):
    error = assert_refused(api.post(URL, {**session_body, **change}), param=param)
    assert "NUL" in error["message"]


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"success_url": "https://merchant.example/" + "a" * 480}, "success_url"),
        ({"cancel_url": "https://merchant.example/?q=" + "b" * 480}, "cancel_url"),
        ({"client_reference_id": "r" * 201}, "client_reference_id"),
        ({"description": "d" * 301}, "description"),
        ({"metadata": {"note": "m" * 501}}, "metadata.note"),
        ({"metadata": {"k" * 41: "v"}}, "metadata." + "k" * 41),
        ({"metadata": {f"k{n}": "v" for n in range(51)}}, "metadata"),
        (
            {"amount": None, "line_items": [{"name": "n" * 121, "unit_price": "1.00"}]},
            "line_items[0].name",
        ),
        ({"embed_origin": "https://" + "o" * 200 + ".example"}, "embed_origin"),
    ],
)
def test_an_over_long_field_is_a_400_naming_it(api, session_body, change, param):
    assert_refused(api.post(URL, {**session_body, **change}), param=param)


def test_every_text_column_is_checked_before_saving():
    from shop.checkout.exceptions import CheckoutRequestInvalid
    from shop.checkout.services.sessions import check_column_lengths

    limited = [f for f in CheckoutSession._meta.concrete_fields if f.max_length]
    assert {"success_url", "cancel_url", "description", "embed_origin"} <= {f.name for f in limited}
    for field in limited:
        session = CheckoutSession(**{field.attname: "x" * (field.max_length + 1)})
        with pytest.raises(CheckoutRequestInvalid) as refused:
            check_column_lengths(session)
        assert refused.value.field == field.name


def test_an_over_long_idempotency_key_is_refused(api, session_body):
    response = api.post(URL, session_body, idem="k" * 201)
    assert_refused(response, param="Idempotency-Key")


def test_deep_nesting_is_refused_without_recursing(client, api_key, session_body):
    deep = 30_000  # 60 kB of brackets: under the size limit, so the depth check answers
    body = json.dumps(session_body)[:-1] + ', "metadata": ' + "[" * deep + "]" * deep + "}"
    error = assert_refused(post_raw(client, api_key, body), param="metadata")
    assert "nested" in error["message"]
    # Five levels is already too deep for a checkout request.
    body = {**session_body, "metadata": {"a": {"b": {"c": {"d": "e"}}}}}
    assert_refused(post_raw(client, api_key, json.dumps(body)), param="metadata")


def test_a_body_nested_100000_deep_is_refused(client, api_key):
    deep = 100_000
    body = '{"metadata": ' + "[" * deep + "]" * deep + "}"
    assert post_raw(client, api_key, body).status_code in (400, 413)
    # The depth scan alone copes with it too (no recursion, so no RecursionError).
    from portal.checkout.json_body import BodyRefused, check_depth

    with pytest.raises(BodyRefused) as refused:
        check_depth(body)
    assert refused.value.param == "metadata"


def test_brackets_inside_strings_do_not_count_as_nesting(api, session_body):
    body = {**session_body, "description": '[[[[[[{{{{{{ \\" ]]', "metadata": {"x": "{[{[{["}}
    assert api.post(URL, body).status_code == 201


def test_a_body_over_the_size_limit_is_413(client, api_key, session_body):
    from portal.checkout.json_body import MAX_BODY_BYTES

    body = json.dumps({**session_body, "description": "x" * MAX_BODY_BYTES})
    error = assert_refused(post_raw(client, api_key, body), status=413)
    assert error["type"] == "request_too_large"


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        "",
    ],
)
def test_a_body_that_is_not_declared_json_is_415(client, api_key, session_body, content_type):
    response = post_raw(client, api_key, json.dumps(session_body), content_type=content_type)
    error = assert_refused(response, status=415)
    assert error["type"] == "unsupported_media_type"


def test_json_with_a_utf8_charset_is_accepted(client, api_key, session_body):
    response = post_raw(
        client, api_key, json.dumps(session_body), content_type="application/json; charset=utf-8"
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    "raw",
    [
        '{"amount": "1.00", "unit": "USD", "description": "\\ud800"}',
        '{"amount": NaN}',
        '{"amount": 1' + "0" * 5000 + "}",
        b'{"description": "\xff"}',
    ],
)
def test_text_json_cannot_carry_is_a_400(client, api_key, raw):
    assert_refused(post_raw(client, api_key, raw))


def test_an_origin_with_an_impossible_port_is_a_400(api, session_body):
    body = {**session_body, "mode": "embedded", "embed_origin": "https://shop.example:99999"}
    assert_refused(api.post(URL, body), param="embed_origin")


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("\u0661\u0662\u0663", "Enter an amount like 12.50"),
        ("\uff11", "Enter an amount like 12.50"),
        ("1e2", "Enter an amount like 12.50"),
        ("1E2", "Enter an amount like 12.50"),
        ("1,000", "Enter an amount like 12.50"),
        ("12.50.1", "Enter an amount like 12.50"),
        ("+5", "Enter an amount like 12.50"),
        ("0x10", "Enter an amount like 12.50"),
        ("Infinity", "Enter an amount like 12.50"),
        ("1\u00a0000", "Enter an amount like 12.50"),
        ("\u200912.50", "Enter an amount like 12.50"),
        ("-5", "greater than zero"),
        ("", "Enter an amount like 12.50"),
    ],
)
def test_api_amounts_follow_the_forms_rule(api, session_body, amount, message):
    error = assert_refused(api.post(URL, {**session_body, "amount": amount}), param="amount")
    assert message in error["message"]


@pytest.mark.parametrize(("amount", "stored"), [(" 12.50 ", "12.50"), ("7", "7.00"), (7, "7.00")])
def test_api_amounts_may_have_spaces_around_them(api, session_body, amount, stored):
    response = api.post(URL, {**session_body, "amount": amount})
    assert response.status_code == 201, response.content
    assert response.json()["amount"] == stored


@pytest.mark.parametrize("public_id", ["cs_a%00b", "cs_" + "x" * 70, "cs_%E2%80%AE"])
def test_impossible_session_ids_are_404_without_a_query(api, client, buyer, public_id):
    assert api.get(f"{URL}{public_id}/").status_code == 404
    assert api.post(f"{URL}{public_id}/expire/").status_code == 404
    client.force_login(buyer)
    assert client.get(f"/checkout/{public_id}/").status_code == 404
    assert client.post(f"/checkout/{public_id}/confirm/").status_code == 404
