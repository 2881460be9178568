import pytest
from django.test import Client
from django.urls import reverse

from tests.portal.conftest import make_user

pytestmark = pytest.mark.django_db


def test_members_see_their_organizations_and_roles(acme, alice_client, bob_client):
    body = bob_client.get(reverse("portal:organizations")).content.decode()
    assert "Acme" in body and "Member" in body
    body = alice_client.get(reverse("portal:organizations")).content.decode()
    assert "Owner" in body


def test_organization_page_shows_wallets_and_role_specific_actions(acme, alice_client, bob_client):
    url = reverse("portal:organization", args=[acme.slug])
    owner_body = alice_client.get(url).content.decode()
    member_body = bob_client.get(url).content.decode()
    assert "500.00 USD" in owner_body and "500.00 USD" in member_body
    # Owners get the card's quick actions; members only look.
    send = f"/transfer/?from={acme.wallet.uuid}"
    assert send in owner_body and "Send<span" in owner_body
    assert send not in member_body and "owners and managers move this money" in member_body
    assert "Members" in owner_body and "Members" not in member_body


def test_organization_wallets_appear_on_the_members_dashboard(acme, bob_client):
    body = bob_client.get(reverse("portal:dashboard")).content.decode()
    assert "Acme" in body and "500.00 USD" in body


def test_outsiders_get_404_for_the_organization_and_its_money(acme, alice):
    outsider = Client()
    outsider.force_login(make_user("carol"))
    tx = acme.wallet.transactions.first()
    transfer = acme.transfer(alice, "5.00")
    urls = [
        reverse("portal:organization", args=[acme.slug]),
        reverse("portal:wallet", args=[acme.wallet.uuid]),
        reverse("portal:transaction", args=[tx.uuid]),
        reverse("portal:transfer_receipt", args=[transfer.uuid]),
    ]
    for url in urls:
        assert outsider.get(url).status_code == 404, url
    assert "Acme" not in outsider.get(reverse("portal:dashboard")).content.decode()
