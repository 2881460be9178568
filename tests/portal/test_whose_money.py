"""Whose money a page shows or a form moves: named everywhere, your own wallet by default,
an organization's only by explicit choice, frozen wallets shown but never offered."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from portal import selectors
from portal.activity import activity_items
from portal.forms import ExchangeForm, MoneyRequestForm, TransferForm
from shop.models import Membership, Organization
from tests.portal.conftest import HTMX, make_user
from wallets.services import wallet_service
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


@pytest.fixture
def early_org(db):
    """An organization (and its wallet) that exists before its owner's own wallet."""
    org = Organization.objects.create(name="Acme Coffee", slug="acme-coffee", kind="merchant")
    org.deposit("900.00")
    owner = make_user("olga", "Olga", "Owner")
    Membership.objects.create(organization=org, user=owner, role="owner")
    owner.deposit("40.00")
    return org, owner


def selected(html: str, name: str) -> str:
    """The label of the option a select named ``name`` starts on."""
    select = re.search(rf'<select name="{name}".*?</select>', html, re.S).group(0)
    return re.search(r"<option[^>]*selected[^>]*>([^<]*)</option>", select).group(1)


def test_forms_start_on_your_own_default_wallet_not_the_organizations(early_org, client):
    _org, owner = early_org
    client.force_login(owner)
    body = client.get(reverse("portal:transfer")).content.decode()
    assert selected(body, "source").startswith("Your Main wallet")
    assert '<optgroup label="Acme Coffee">' in body
    assert "Acme Coffee&#x27;s Main wallet · 900.00 USD available" in body
    body = client.get(reverse("portal:requests")).content.decode()
    assert selected(body, "topup-wallet").startswith("Your Main wallet")
    assert selected(body, "payout-wallet").startswith("Your Main wallet")
    body = client.get(reverse("portal:exchange")).content.decode()
    assert selected(body, "from_wallet").startswith("Your Main wallet")


def test_default_source_prefers_the_default_slug_then_the_oldest_own_wallet(early_org):
    _org, owner = early_org
    savings = owner.get_wallet("savings", name="Savings")
    wallets = list(selectors.wallets_for_user(owner, spend=True))
    assert selectors.default_source(owner, wallets) == owner.wallet
    wallet_service().freeze(owner.wallet)
    wallets = list(selectors.wallets_for_user(owner, spend=True))
    assert selectors.default_source(owner, wallets) == savings
    wallet_service().freeze(savings)
    wallets = list(selectors.wallets_for_user(owner, spend=True))
    assert selectors.default_source(owner, wallets) is None  # never the organization's


def test_with_no_wallet_of_your_own_the_source_must_be_chosen(client):
    org = Organization.objects.create(name="Acme Coffee", slug="acme-coffee")
    org.deposit("900.00")
    manager = make_user("mona")
    make_user("bob")
    Membership.objects.create(organization=org, user=manager, role="manager")
    client.force_login(manager)
    body = client.get(reverse("portal:transfer")).content.decode()
    assert selected(body, "source") == "Choose the wallet to send from…"
    response = client.post(
        reverse("portal:transfer"),
        {"recipient": "bob", "amount": "5", "note": "", "idempotency_key": "k-1"},
        **HTMX,
    )
    assert response.status_code == 422
    assert "Choose the wallet to send from." in response.content.decode()


def test_a_link_may_choose_the_organizations_wallet_explicitly(acme, alice, alice_client):
    url = reverse("portal:transfer") + f"?from={acme.wallet.uuid}"
    body = alice_client.get(url).content.decode()
    assert selected(body, "source").startswith("Acme&#x27;s Main wallet")
    # Nonsense, or a wallet the user cannot spend from, falls back to their own.
    for junk in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        body = alice_client.get(reverse("portal:transfer") + f"?from={junk}").content.decode()
        assert selected(body, "source").startswith("Your Main wallet")


def test_the_review_says_whose_money_leaves_in_words(acme, alice, bob, alice_client):
    data = {"recipient": "bob", "amount": "25", "note": "", "idempotency_key": "k-1"}
    body = alice_client.post(
        reverse("portal:transfer"), {**data, "source": acme.wallet.pk}, **HTMX
    ).content.decode()
    assert "from <strong>Acme&#x27;s Main wallet</strong>" in body
    assert "This is Acme&#x27;s money, not yours." in body
    body = alice_client.post(
        reverse("portal:transfer"), {**data, "source": alice.wallet.pk}, **HTMX
    ).content.decode()
    assert "from <strong>your Main wallet</strong>" in body
    assert "not yours" not in body
    assert not Transfer.objects.exists()


def test_frozen_wallets_are_shown_disabled_with_the_holders_reason(alice, alice_client):
    wallet_service().freeze(
        alice.wallet, note="Mule account suspected", message="Please call support."
    )
    savings = alice.get_wallet("savings", name="Savings")
    savings.deposit("5.00")
    for url in (reverse("portal:transfer"), reverse("portal:requests")):
        body = alice_client.get(url).content.decode()
        assert re.search(
            rf'<option value="{alice.wallet.pk}"[^>]*disabled[^>]*>Your Main wallet · frozen', body
        )
        assert "Frozen wallets cannot be used: Your Main wallet (Please call support.)" in body
        assert "Mule" not in body
    # Posted anyway (an old page, a crafted request): refused with the same words.
    response = alice_client.post(
        reverse("portal:transfer"),
        {
            "source": alice.wallet.pk,
            "recipient": "nobody",
            "amount": "1",
            "note": "",
            "idempotency_key": "k",
        },
        **HTMX,
    )
    assert "Your Main wallet is frozen. Please call support." in response.content.decode()


def test_forms_without_a_viewer_still_work(alice):
    """The forms' old signature: no viewer, no default, the wallets still offered."""
    wallets = selectors.wallets_for_user(alice, spend=True)
    assert str(alice.wallet.pk) in str(TransferForm(wallets=wallets)["source"])
    assert MoneyRequestForm(wallets=wallets, kind="topup").fields["wallet"].queryset.exists()
    assert ExchangeForm(wallets=wallets).fields["from_wallet"].queryset.exists()


def test_dashboard_groups_your_wallets_first_then_each_organization(acme, alice, alice_client):
    climbers = Organization.objects.create(name="Weekend Climbers", slug="climbers")
    Membership.objects.create(organization=climbers, user=alice, role="member")
    climbers.deposit("10.00")
    groups = selectors.wallet_groups(alice)
    assert [g.title for g in groups] == ["Your wallets", "Acme", "Weekend Climbers"]
    assert [g.can_spend for g in groups] == [True, True, False]
    assert groups[0].totals == [{"unit": "USD", "total": Decimal("100.00"), "text": "100.00 USD"}]
    body = alice_client.get(reverse("portal:dashboard")).content.decode()
    yours, acme_at, climbers_at = (
        body.index(">Yours</h2>"),
        body.index(">Acme</h2>"),
        body.index(">Weekend Climbers</h2>"),
    )
    assert yours < acme_at < climbers_at
    assert "you can look, not spend" in body


def test_holder_labels_and_titles():
    alice = make_user("alice", "Alice", "Archer")
    bob = make_user("bob", "Bob", "Baker")
    org = Organization.objects.create(name="Weekend Climbers", slug="climbers")
    own, other, team = (
        alice.get_wallet("default"),
        bob.get_wallet("default"),
        org.get_wallet("default"),
    )
    assert selectors.holder_label(own, alice) == "You"
    assert selectors.holder_label(other, alice) == "Bob Baker"
    assert selectors.holder_label(team, alice) == "Weekend Climbers"
    assert selectors.wallet_title(own, alice) == "your Main wallet"
    assert selectors.wallet_title(other, alice) == "Bob Baker's Main wallet"
    assert selectors.wallet_title(team, alice) == "Weekend Climbers' Main wallet"


def test_pending_rows_and_activity_name_the_holder_and_the_counterparty(
    acme, alice, bob, alice_client
):
    acme.withdraw("30.00", confirmed=False, meta={"reference": "Supplier", "request": "payout"})
    acme.transfer(bob, "12.00", meta={"note": "Beans"})
    body = alice_client.get(reverse("portal:pending")).content.decode()
    assert "Acme&#x27;s Main wallet</a>" in body
    items = activity_items(alice)
    sent = next(item for item in items if item.reference == "Beans")
    assert (sent.title, sent.wallet) == ("Sent to Bob Baker", "Acme's Main wallet")
    payout = next(item for item in items if item.reference == "Supplier")
    assert payout.title == "Payout"


def test_an_exchange_receipt_offers_another_exchange(alice, alice_client):
    euros = alice.get_wallet("eur", name="Euros", unit="EUR")
    transfer = alice.exchange("default", "eur", "10.00")
    body = alice_client.get(reverse("portal:transfer_receipt", args=[transfer.uuid])).content
    body = body.decode()
    assert "Exchange again" in body and "Send another transfer" not in body
    assert f"?from={alice.wallet.uuid}" in body
    assert euros.name in body


def test_open_wallet_shows_one_error_box_with_the_message(alice, alice_client):
    response = alice_client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Again", "slug": "default", "unit": "USD"},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert body.count('role="alert"') == 1
    assert "Please correct the following" not in body
    assert "You already have a wallet with the short name &#x27;default&#x27;." in body
    assert '<details class="advanced mb-3" open>' in body


@pytest.mark.parametrize(
    ("unit", "places"), [("USD", 2), ("EUR", 2), ("PTS", 0), ("JPY", 0), ("XYZ", 2)]
)
def test_open_wallet_defaults_the_engine_terms_from_name_and_unit(
    alice, alice_client, unit, places
):
    response = alice_client.post(
        reverse("portal:open_wallet"), {"holder": "me", "name": "Rainy day", "unit": unit}
    )
    assert response.status_code == 302
    wallet = alice.get_wallets().get(name="Rainy day")
    assert (wallet.slug, wallet.decimal_places, wallet.unit) == ("rainy-day", places, unit)


def test_open_wallet_makes_slugs_unique_and_a_first_usd_wallet_the_default(alice_client, alice):
    for _ in range(2):
        alice_client.post(
            reverse("portal:open_wallet"), {"holder": "me", "name": "Trip", "unit": "EUR"}
        )
    assert set(alice.get_wallets().values_list("slug", flat=True)) >= {"trip", "trip-2"}
    newcomer = make_user("nina")
    from django.test import Client

    client = Client()
    client.force_login(newcomer)
    client.post(reverse("portal:open_wallet"), {"holder": "me", "name": "Everyday", "unit": "USD"})
    assert newcomer.get_wallets().get().slug == "default"  # transfers to Nina arrive here
