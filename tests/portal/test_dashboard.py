from decimal import Decimal

import pytest
from django.urls import reverse

from tests.portal.conftest import HTMX

pytestmark = pytest.mark.django_db


def test_dashboard_requires_login(client):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_dashboard_shows_a_card_per_wallet_with_balances_and_frozen_badge(alice, alice_client):
    savings = alice.get_wallet("savings", name="Savings", unit="EUR")
    savings.deposit("10.00")
    alice.withdraw("30.00", confirmed=False)
    alice.freeze_wallet("savings", reason="review")

    response = alice_client.get(reverse("portal:dashboard"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Skip to main content" in body
    assert "{#" not in body and "{%" not in body
    assert "100.00 USD" in body  # balance
    assert "70.00 USD" in body  # available
    assert "30.00 USD" in body  # held
    assert "Savings" in body and "10.00 EUR" in body
    assert ">Frozen<" in body
    assert '<svg class="balance-chart"' in body
    assert reverse("portal:wallet", args=[savings.uuid]) in body


def test_dashboard_lists_recent_activity_with_signed_amounts(alice, bob, alice_client):
    alice.transfer(bob, "12.50")
    body = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert "\N{MINUS SIGN}12.50 USD" in body
    assert "+100.00 USD" in body


def test_dashboard_never_shows_other_peoples_wallets(alice, bob, bob_client):
    alice.get_wallet("secret-stash", name="Secret stash")
    body = bob_client.get(reverse("portal:dashboard")).content.decode()
    assert "Secret stash" not in body
    assert "50.00 USD" in body


def test_balance_cards_partial_for_htmx_refresh(alice_client):
    response = alice_client.get(reverse("portal:balances"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="wallet-cards"')
    assert "<html" not in body


def test_open_wallet(alice, alice_client):
    response = alice_client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Gems", "slug": "gems", "unit": "gem", "decimal_places": 0},
    )
    wallet = alice.get_wallets().get(slug="gems")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:wallet", args=[wallet.uuid])
    assert (wallet.unit, wallet.decimal_places, wallet.balance) == ("GEM", 0, Decimal(0))


def test_open_wallet_refuses_a_taken_slug_inline(alice, alice_client):
    response = alice_client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Again", "slug": "default", "unit": "USD", "decimal_places": 2},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "already have a wallet" in body
    assert body.lstrip().startswith('<form id="open-wallet-form"')


def test_open_wallet_for_an_organization_needs_a_spending_role(acme, alice, bob, bob_client):
    response = bob_client.post(
        reverse("portal:open_wallet"),
        {"holder": f"org:{acme.pk}", "name": "X", "slug": "x", "unit": "USD", "decimal_places": 2},
    )
    assert response.status_code == 422
    assert not acme.has_wallet("x")


def test_open_wallet_over_htmx_redirects_the_whole_page(alice_client):
    response = alice_client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Trip", "slug": "trip", "unit": "EUR", "decimal_places": 2},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/wallets/")


def test_htmx_post_without_csrf_token_is_refused(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Trip", "slug": "trip", "unit": "EUR", "decimal_places": 2},
        **HTMX,
    )
    assert response.status_code == 403
    assert not alice.has_wallet("trip")


def test_navigation_marks_the_current_page(alice_client):
    body = alice_client.get(reverse("portal:pending")).content.decode()
    assert 'aria-current="page" href="/pending/">Pending</a>' in body
    assert body.count('aria-current="page"') == 1


def test_navigation_links_to_the_shop_and_orders(client, django_user_model):
    user = django_user_model.objects.create_user(username="nav", email="nav@example.com")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'href="/shop/"' in html and 'href="/shop/orders/"' in html
