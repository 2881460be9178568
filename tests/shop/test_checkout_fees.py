"""The hosted and embedded checkout show the fee the buyer pays, pay only the fee they
showed, and the done pages show the fee paid; the merchant API stays as it was."""

from decimal import Decimal

import pytest

from shop.models import CheckoutSession, Organization, WebhookEvent
from tests.html import hidden_value
from wallets.models import FeeCharge, FeePolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def fee_policy(settings):
    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    # 2% of 25.00 + 0.10 = 0.60
    return FeePolicy.objects.create(name="Card fee", percent=Decimal("2"), fixed=Decimal("0.10"))



def test_hosted_page_shows_the_fee_and_the_total_with_it(client, buyer, session, fee_policy):
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    assert 'data-testid="total">25.00 USD<' in page
    assert 'data-testid="fee">0.60 USD<' in page
    assert 'data-testid="fee-total">25.60 USD<' in page
    assert 'balance after: <span data-testid="balance-after">74.40</span>' in page
    assert "Pay 25.60 USD</button>" in page
    assert hidden_value(page, "expected_fee") == "0.60"


def test_without_a_policy_the_page_shows_no_fee(client, buyer, session):
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    assert 'data-testid="total">25.00 USD<' in page
    assert "Fee" not in page and "with the fee" not in page
    assert hidden_value(page, "expected_fee") == "0"
    assert "Pay 25.00 USD</button>" in page


def test_a_wallet_that_covers_the_amount_but_not_the_fee_is_not_offered(
    client, buyer, session, fee_policy
):
    CheckoutSession.objects.filter(pk=session.pk).update(amount=Decimal("99.00"))
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    # 2% of 99.00 + 0.10 = 2.08: 101.08 is more than the 100.00 the buyer has.
    assert 'data-testid="fee-total">101.08 USD<' in page
    assert 'data-testid="no-wallet"' in page and "101.08 USD available" in page
    assert 'data-testid="pay"' not in page


def test_paying_charges_the_fee_shown_and_the_done_page_shows_it(
    client, buyer, merchant, session, fee_policy
):
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    response = client.post(
        f"/checkout/{session.public_id}/confirm/",
        {"wallet": buyer.wallet.pk, "expected_fee": hidden_value(page, "expected_fee")},
    )
    assert response.status_code == 303
    assert buyer.balance == Decimal("74.40")
    assert merchant.balance == Decimal("25.00")
    charge = FeeCharge.objects.get()
    assert (charge.amount, charge.policy_name) == (Decimal("0.60"), "Card fee")
    done = client.get(f"/checkout/{session.public_id}/").content.decode()
    assert 'data-testid="checkout-complete"' in done
    assert 'data-testid="fee">0.60 USD<' in done
    assert 'data-testid="fee-total">25.60 USD<' in done


def test_a_fee_that_changed_since_the_page_was_shown_is_refused_and_moves_nothing(
    client, buyer, merchant, session, fee_policy
):
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    fee_policy.fixed = Decimal("0.50")  # 2% of 25.00 + 0.50 = 1.00
    fee_policy.save()
    url = f"/checkout/{session.public_id}/confirm/"
    response = client.post(
        url, {"wallet": buyer.wallet.pk, "expected_fee": hidden_value(page, "expected_fee")}
    )
    body = response.content.decode()
    assert response.status_code == 409
    assert "The fee is now 1.00 USD, not 0.60:" in body
    assert buyer.balance == Decimal("100.00") and merchant.balance == Decimal("0")
    assert not FeeCharge.objects.exists() and not WebhookEvent.objects.exists()
    session.refresh_from_db()
    assert session.status == "open" and session.payment_id is None
    # The refusal shows the new fee, and its form expects it: paying again charges it.
    assert 'data-testid="fee">1.00 USD<' in body
    assert hidden_value(body, "expected_fee") == "1.00"
    again = client.post(url, {"wallet": buyer.wallet.pk, "expected_fee": "1.00"})
    assert again.status_code == 303
    assert buyer.balance == Decimal("74.00")


def test_a_fee_that_appeared_after_a_page_without_one_is_refused(client, buyer, session, settings):
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    house = Organization.objects.create(name="Tally fees", slug="tally-fees")
    settings.WALLETS = {**getattr(settings, "WALLETS", {}), "FEE_WALLET": lambda unit: house}
    FeePolicy.objects.create(name="Card fee", fixed=Decimal("0.30"))
    response = client.post(
        f"/checkout/{session.public_id}/confirm/",
        {"wallet": buyer.wallet.pk, "expected_fee": hidden_value(page, "expected_fee")},
    )
    assert response.status_code == 409
    assert "The fee is now 0.30 USD, not 0.00:" in response.content.decode()
    assert buyer.balance == Decimal("100.00")


def test_a_fee_deducted_from_the_merchant_costs_the_buyer_nothing(
    client, buyer, merchant, session, fee_policy
):
    fee_policy.mode = FeePolicy.Mode.DEDUCTIBLE
    fee_policy.save()
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    assert "Fee" not in page and hidden_value(page, "expected_fee") == "0"
    client.post(f"/checkout/{session.public_id}/confirm/", {"wallet": buyer.wallet.pk})
    assert buyer.balance == Decimal("75.00")
    assert merchant.balance == Decimal("24.40")


def test_embedded_summary_and_popup_show_the_fee(client, buyer, embedded, fee_policy):
    frame = client.get(f"/checkout/{embedded.public_id}/embed/?cs={embedded.client_secret}")
    text = frame.content.decode()
    assert 'data-testid="fee">0.60 USD<' in text
    assert 'data-testid="fee-total">25.60 USD<' in text
    client.force_login(buyer)
    done = client.post(
        f"/checkout/{embedded.public_id}/confirm/",
        {"wallet": buyer.wallet.pk, "expected_fee": "0.60"},
    )
    assert done.status_code == 200
    text = done.content.decode()
    assert 'data-testid="popup-fee">0.60 USD<' in text
    assert 'data-testid="popup-fee-total">25.60 USD<' in text


def test_the_merchant_api_is_unchanged_by_a_fee(api, buyer, client, session, fee_policy):
    from shop.checkout.services import pay_session

    before = api.get(f"/api/checkout/sessions/{session.public_id}").json()
    pay_session(session, buyer, buyer.wallet)
    after = api.get(f"/api/checkout/sessions/{session.public_id}").json()
    assert set(before) == set(after) and "fee" not in after
    assert set(after["payment"]) == {"id", "amount", "refunded_amount", "created"}
    assert after["amount"] == "25.00" and after["payment"]["amount"] == "25.00"


def test_someone_else_cannot_see_the_paid_sessions_fee(client, buyer, session, fee_policy):
    from portal.models import User
    from shop.checkout.services import pay_session

    pay_session(session, buyer, buyer.wallet)
    other = User.objects.create_user("other", email="other@example.com", password="pw")
    client.force_login(other)
    assert client.get(f"/checkout/{session.public_id}/").status_code == 404


def test_an_altered_fee_field_is_told_as_a_stale_page_and_pays_nothing(
    client, buyer, merchant, session, fee_policy
):
    client.force_login(buyer)
    response = client.post(
        f"/checkout/{session.public_id}/confirm/",
        {"wallet": buyer.wallet.pk, "expected_fee": "0.60; drop"},
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "This page was out of date. Check the amounts shown and pay again." in body
    assert hidden_value(body, "expected_fee") == "0.60"  # the page as it is now
    assert buyer.balance == Decimal("100.00") and merchant.balance == 0
    response = client.post(f"/checkout/{session.public_id}/confirm/", {"expected_fee": "0.60"})
    assert "Choose a wallet to pay from." in response.content.decode()


def test_wallets_whose_fees_differ_each_show_and_pay_their_own(
    client, buyer, merchant, session, fee_policy
):
    """A wallet with fewer decimal places rounds the fee differently: the page
    shows each wallet's total, and paying from either charges the fee it showed."""
    fee_policy.percent = Decimal("2.1")  # 2.1% of 25.00 + 0.10 = 0.625
    fee_policy.save()
    coarse = buyer.get_wallet("coarse", name="Coarse", unit="USD", decimal_places=1)
    coarse.deposit("50")
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    fees = {w.pk: hidden_value(page, f"fee-{w.pk}") for w in (buyer.wallet, coarse)}
    assert fees == {buyer.wallet.pk: "0.63", coarse.pk: "0.6"}
    assert page.count('data-testid="option-total"') == 2
    assert "Pays 25.6 USD" in page and "Pays 25.63 USD" in page
    assert 'data-testid="pay">Pay</button>' in page

    response = client.post(
        f"/checkout/{session.public_id}/confirm/",
        {"wallet": coarse.pk, **{f"fee-{pk}": fee for pk, fee in fees.items()},
         "expected_fee": fees[buyer.wallet.pk]},
    )  # fmt: skip
    assert response.status_code == 303
    coarse.refresh_from_db()
    assert coarse.balance == Decimal("24.4")
    assert FeeCharge.objects.get().amount == Decimal("0.6")
    assert buyer.wallet.balance == Decimal("100.00")


def test_one_fee_for_every_wallet_keeps_the_single_total(client, buyer, session, fee_policy):
    other = buyer.get_wallet("other", name="Other", unit="USD", decimal_places=2)
    other.deposit("50")
    client.force_login(buyer)
    page = client.get(f"/checkout/{session.public_id}/").content.decode()
    assert 'data-testid="option-total"' not in page
    assert "Pay 25.60 USD</button>" in page
    assert hidden_value(page, f"fee-{other.pk}") == "0.60"
