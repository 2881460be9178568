"""A request that fails at the database gets a quick, branded 503; a money form says the
outcome is unknown, links to the history and says sending the same form again is safe."""

import re

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client
from django.urls import reverse

from shop.models import CheckoutSession
from tests.portal.conftest import HTMX
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db

OUTCOME = 'data-testid="outcome-unknown"'


def transfer_form(alice, key="k-503"):
    return {
        "source": alice.wallet.pk,
        "recipient": "bob@example.com",
        "amount": "12.50",
        "note": "",
        "idempotency_key": key,
    }


@pytest.fixture
def database_down(monkeypatch):
    """The engine call fails the way a dropped or stalled connection makes it fail."""

    def fail(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr("portal.views.transfers.execute_transfer", fail)


def assert_accessible_page(body: str) -> None:
    assert '<html lang="en">' in body and "<main" in body and "<h1" in body
    assert "<script" not in body and " style=" not in body  # nothing the CSP would block
    assert "bootstrap.min.css" in body


def test_a_money_form_that_fails_at_the_database_says_the_outcome_is_unknown(
    alice, bob, alice_client, database_down
):
    response = alice_client.post(reverse("portal:transfer_confirm"), transfer_form(alice))
    body = response.content.decode()
    assert response.status_code == 503
    assert response["Retry-After"] and response["Cache-Control"] == "no-store"
    assert OUTCOME in body and "may or may not have been completed" in body
    assert "submit the same form again" in body and "This is safe" in body
    assert f'href="{reverse("portal:dashboard")}"' in body  # the history
    assert "alice" not in body  # rendered without the user (it may need the database)
    assert_accessible_page(body)


def test_with_htmx_the_page_is_replaced_by_the_explanation(alice, bob, alice_client, database_down):
    response = alice_client.post(reverse("portal:transfer_confirm"), transfer_form(alice), **HTMX)
    assert response.status_code == 503
    target = response["HX-Redirect"]
    assert target.startswith(reverse("unavailable")) and "outcome=unknown" in target
    page = Client().get(target)
    assert page.status_code == 503 and OUTCOME in page.content.decode()
    assert f'href="{reverse("portal:dashboard")}"' in page.content.decode()


def test_the_explanation_page_needs_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("unavailable"), {"outcome": "unknown", "history": "/x/"})
    assert OUTCOME in response.content.decode() and 'href="/x/"' in response.content.decode()
    # Only a path on this site is linked.
    for history in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        body = client.get(reverse("unavailable"), {"history": history}).content.decode()
        assert "evil" not in body and "javascript:" not in body


def test_resending_the_same_form_afterwards_moves_money_once(alice, bob, alice_client, monkeypatch):
    from portal.views import transfers

    real = transfers.execute_transfer

    def commit_then_lose_the_connection(*args, **kwargs):
        real(*args, **kwargs)
        raise OperationalError("connection lost after commit")

    monkeypatch.setattr(transfers, "execute_transfer", commit_then_lose_the_connection)
    first = alice_client.post(reverse("portal:transfer_confirm"), transfer_form(alice))
    assert first.status_code == 503 and OUTCOME in first.content.decode()
    monkeypatch.setattr(transfers, "execute_transfer", real)
    again = alice_client.post(reverse("portal:transfer_confirm"), transfer_form(alice))
    assert again.status_code == 302
    assert Transfer.objects.count() == 1


@pytest.mark.parametrize("error", [OperationalError("timeout"), InterfaceError("closed")])
def test_database_errors_wrapped_in_others_are_recognised(
    alice, bob, alice_client, monkeypatch, error
):
    def fail(*args, **kwargs):
        try:
            raise error
        except type(error) as cause:
            raise RuntimeError("could not complete") from cause

    monkeypatch.setattr("portal.views.transfers.execute_transfer", fail)
    response = alice_client.post(reverse("portal:transfer_confirm"), transfer_form(alice))
    assert response.status_code == 503


def test_a_page_that_cannot_reach_the_database_is_a_plain_503(alice_client, monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr("portal.views.dashboard.selectors.wallets_for_user", fail)
    response = alice_client.get(reverse("portal:dashboard"))
    body = response.content.decode()
    assert response.status_code == 503
    assert "temporarily unavailable" in body and OUTCOME not in body
    assert_accessible_page(body)


def test_other_errors_in_a_money_form_also_say_the_outcome_is_unknown(alice, bob, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("a bug after the commit")

    monkeypatch.setattr("portal.views.transfers.execute_transfer", fail)
    client = Client(raise_request_exception=False)
    client.force_login(alice)
    response = client.post(reverse("portal:transfer_confirm"), transfer_form(alice))
    assert response.status_code == 500
    assert OUTCOME in response.content.decode()
    assert_accessible_page(response.content.decode())


@pytest.mark.urls("tests.ops.urls")
def test_other_server_errors_get_the_branded_500_page():
    response = Client(raise_request_exception=False).get("/ops-test/boom")
    body = response.content.decode()
    assert response.status_code == 500
    assert "Something went wrong on our side" in body and OUTCOME not in body
    assert "Submitting the same form again is safe" in body
    assert_accessible_page(body)


def test_refusals_stay_refusals(alice, bob, alice_client, monkeypatch):
    from django.core.exceptions import PermissionDenied

    def refuse(*args, **kwargs):
        raise PermissionDenied

    monkeypatch.setattr("portal.views.transfers.execute_transfer", refuse)
    response = alice_client.post(reverse("portal:transfer_confirm"), transfer_form(alice))
    assert response.status_code == 403


def test_the_merchant_api_answers_json(api_key, monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("canceling statement due to statement timeout")

    monkeypatch.setattr("portal.checkout.api.create_session", fail)
    response = Client().post(
        "/api/checkout/sessions/",
        data={"amount": "1.00", "unit": "USD"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api_key}",
    )
    assert response.status_code == 503 and response["Retry-After"]
    assert response.json()["error"]["type"] == "service_unavailable"
    assert "Idempotency-Key" in response.json()["error"]["message"]


def test_checkout_confirmation_links_to_the_checkout(buyer, api, session_body, monkeypatch):
    def fail(*args, **kwargs):
        raise OperationalError("terminating connection due to administrator command")

    monkeypatch.setattr("portal.checkout.views.pay_session", fail)
    public_id = api.post("/api/checkout/sessions/", session_body).json()["id"]
    session = CheckoutSession.objects.get(public_id=public_id)
    client = Client()
    client.force_login(buyer)
    response = client.post(f"/checkout/{public_id}/confirm/", {"wallet": buyer.wallet.pk})
    body = response.content.decode()
    assert response.status_code == 503 and OUTCOME in body
    assert f'href="/checkout/{session.public_id}/"' in body


def test_staff_console_forms_link_to_the_console(monkeypatch):
    from tests.staff.conftest import ALL_STAFF_PERMISSIONS, make_user

    holder = make_user("holly")
    moderator = make_user("mod", staff=True, perms=ALL_STAFF_PERMISSIONS)

    def fail(*args, **kwargs):
        raise OperationalError("lock timeout")

    monkeypatch.setattr("portal.staff.actions.wallet_service", fail)
    client = Client()
    client.force_login(moderator)
    response = client.post(
        reverse("staff:freeze", args=[holder.wallet.uuid]),
        {"message": "", "reason": "checks", "idempotency_key": "f" * 32},
    )
    assert response.status_code == 503
    assert re.search(r'href="/staff/"', response.content.decode())


def test_database_states_reported_as_other_errors_are_recognised():
    from django.db import InternalError

    from portal.ops.errors import database_unavailable

    class IdleInTransactionTimeout(Exception):
        sqlstate = "25P03"  # what psycopg raises when the server ended the transaction

    try:
        try:
            raise IdleInTransactionTimeout("terminating connection")
        except IdleInTransactionTimeout as cause:
            raise InternalError("terminating connection") from cause
    except InternalError as error:
        assert database_unavailable(error)
    assert not database_unavailable(InternalError("a bug"))
    assert not database_unavailable(ValueError("not the database"))
