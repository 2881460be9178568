"""Credit limits on the portal's pages: wherever available money is shown, a wallet with
a credit limit says that the credit is included ("600.00 USD available incl. 500.00 USD
credit"), and a balance below zero says it is credit being used. A wallet without a
credit limit shows no word about credit."""

from __future__ import annotations

import html

import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.conftest import HTMX
from tests.staff.conftest import ALL_STAFF_PERMISSIONS
from tests.staff.conftest import make_user as make_staff_user
from wallets.services import wallet_service

pytestmark = pytest.mark.django_db


def page(client: Client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def with_credit(holder, limit: str = "500.00"):
    wallet_service().set_credit_limit(holder.wallet, limit)
    holder.wallet.refresh_from_db()
    return holder.wallet


def test_dashboard_card_says_the_credit_is_included(alice, alice_client):
    with_credit(alice)
    body = page(alice_client, reverse("portal:dashboard"))
    assert '600.00 USD</span> available <span class="amount">incl. 500.00 USD credit' in body
    assert "using credit" not in body


def test_negative_balance_says_it_is_using_credit_everywhere(alice, bob, alice_client):
    with_credit(alice)
    alice.withdraw("145.00")
    dashboard = page(alice_client, reverse("portal:dashboard"))
    wallet_page = page(alice_client, reverse("portal:wallet", args=[alice.wallet.uuid]))
    for body in (dashboard, wallet_page):
        assert "-45.00 USD" in body
        assert "· using credit" in body
        assert "455.00 USD" in body and "incl. 500.00 USD credit" in body


def test_wallet_page_header_full_page_and_htmx_history_restore(alice, alice_client):
    with_credit(alice)
    url = reverse("portal:wallet", args=[alice.wallet.uuid])
    for headers in ({}, {"HTTP_HX_HISTORY_RESTORE_REQUEST": "true", **HTMX}):
        body = page(alice_client, url, **headers)
        assert (
            '<dd data-testid="wallet-available"><span class="amount">600.00 USD</span> '
            '<span class="credit-state">incl. 500.00 USD credit</span></dd>'
        ) in body
        assert '<span class="amount">100.00 USD</span></dd>' in body  # the balance, as is


def test_money_forms_offer_wallets_with_their_credit(alice, alice_client):
    with_credit(alice)
    expected = "600.00 USD available incl. 500.00 USD credit"
    for name in ("portal:transfer", "portal:exchange", "portal:requests"):
        assert expected in page(alice_client, reverse(name)), name


def test_transfer_review_says_available_after_includes_credit(alice, bob, alice_client):
    with_credit(alice)
    data = {
        "source": alice.wallet.pk,
        "recipient": "bob@example.com",
        "amount": "145.00",
        "note": "",
        "idempotency_key": "k-credit",
    }
    body = html.unescape(
        alice_client.post(reverse("portal:transfer"), data, **HTMX).content.decode()
    )
    assert "Review your transfer" in body
    assert (
        '<span class="amount">-45.00 USD</span> <span class="credit-state">· using credit</span>'
    ) in body
    assert (
        '<span class="amount">455.00 USD</span> <span class="credit-state">'
        "incl. 500.00 USD credit</span>"
    ) in body


def test_exchange_review_says_available_after_includes_credit(alice, alice_client):
    with_credit(alice)
    euros = alice.get_wallet("eur", name="Euros", unit="EUR")
    data = {
        "from_wallet": alice.wallet.pk,
        "to_wallet": euros.pk,
        "amount": "150.00",
        "idempotency_key": "x-credit",
        "quoted_rate": "",
    }
    body = html.unescape(
        alice_client.post(reverse("portal:exchange"), data, **HTMX).content.decode()
    )
    assert "Review your exchange" in body
    assert '<span class="amount">450.00 USD</span> in your' in body
    assert "incl. 500.00 USD credit" in body


def test_insufficient_funds_error_counts_the_credit(alice, bob, alice_client):
    with_credit(alice, "20.00")
    data = {
        "source": alice.wallet.pk,
        "recipient": "bob@example.com",
        "amount": "500.00",
        "note": "",
        "idempotency_key": "k-too-much",
    }
    body = html.unescape(
        alice_client.post(reverse("portal:transfer"), data, **HTMX).content.decode()
    )
    assert "has 120.00 USD available incl. 20.00 USD credit; this needs 500.00 USD." in body


def test_staff_holder_page_shows_available_with_credit_and_using_credit(alice):
    with_credit(alice)
    alice.withdraw("145.00")
    staff = make_staff_user("mod", staff=True, perms=ALL_STAFF_PERMISSIONS)
    client = Client()
    client.force_login(staff)
    body = page(client, reverse("staff:holder", args=["user", alice.pk]))
    assert (
        '<td class="text-end" data-testid="staff-balance"><span class="amount">-45.00 USD</span>'
        '<span class="credit-state d-block">using credit</span></td>'
    ) in body
    assert (
        '<td class="text-end" data-testid="staff-available"><span class="amount">455.00 USD'
        '</span><span class="credit-state d-block">incl. 500.00 USD credit</span></td>'
    ) in body
    wallet_body = page(client, reverse("staff:wallet", args=[alice.wallet.uuid]))
    assert "455.00 USD available incl. 500.00 USD credit" in wallet_body


def test_a_wallet_without_credit_says_nothing_about_credit(alice, bob, alice_client):
    with_credit(bob)  # someone else's credit is not alice's business
    urls = [
        reverse("portal:dashboard"),
        reverse("portal:wallet", args=[alice.wallet.uuid]),
        reverse("portal:transfer"),
        reverse("portal:exchange"),
        reverse("portal:requests"),
    ]
    for url in urls:
        body = page(alice_client, url).lower()
        assert "credit" not in body.replace("welcome credit", ""), url


def test_a_credit_limit_taken_away_leaves_no_credit_text(alice, alice_client):
    with_credit(alice)
    with_credit(alice, "0")
    body = page(alice_client, reverse("portal:dashboard"))
    assert "incl." not in body and "using credit" not in body
