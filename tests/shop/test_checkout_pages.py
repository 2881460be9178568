from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from portal.models import User
from shop.models import CheckoutSession, WebhookEvent

pytestmark = pytest.mark.django_db


def test_logged_out_customers_log_in_first(client, session):
    response = client.get(f"/checkout/{session.public_id}/")
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_hosted_page_shows_merchant_total_and_balance_after(client, buyer, session):
    buyer.get_wallet("savings", name="Savings").deposit("10.00")  # not enough: not offered
    client.force_login(buyer)
    response = client.get(f"/checkout/{session.public_id}/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "Acme Books" in page and "25.00 USD" in page
    assert 'balance after: <span data-testid="balance-after">75.00</span>' in page
    assert "Savings" not in page


def test_confirm_pays_and_redirects_to_success_then_a_second_confirm_is_refused(
    client, buyer, session, merchant
):
    client.force_login(buyer)
    url = f"/checkout/{session.public_id}/confirm/"
    response = client.post(url, {"wallet": buyer.wallet.pk})
    assert response.status_code == 303
    assert response["Location"] == f"https://merchant.example/ok?session_id={session.public_id}"
    assert merchant.balance == Decimal("25.00")
    again = client.post(url, {"wallet": buyer.wallet.pk})
    assert again.status_code == 409
    assert buyer.balance == Decimal("75.00")


def test_confirm_needs_csrf(buyer, session):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(buyer)
    response = client.post(f"/checkout/{session.public_id}/confirm/", {"wallet": buyer.wallet.pk})
    assert response.status_code == 403


def test_cannot_pay_from_someone_elses_wallet(client, buyer, session):
    other = User.objects.create_user("x", email="x@example.com", password="pw")
    other.deposit("100.00")
    client.force_login(buyer)
    response = client.post(f"/checkout/{session.public_id}/confirm/", {"wallet": other.wallet.pk})
    assert response.status_code == 422
    assert other.balance == Decimal("100.00")


def test_expired_session_renders_expired_and_cannot_be_paid(client, buyer, session):
    CheckoutSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(buyer)
    assert client.get(f"/checkout/{session.public_id}/").status_code == 410
    response = client.post(f"/checkout/{session.public_id}/confirm/", {"wallet": buyer.wallet.pk})
    assert response.status_code == 410
    assert buyer.balance == Decimal("100.00")


def test_cancel_returns_to_the_merchant_and_leaves_it_open(client, buyer, session):
    client.force_login(buyer)
    response = client.post(f"/checkout/{session.public_id}/cancel/")
    assert response.status_code == 303 and response["Location"] == "https://merchant.example/cancel"
    session.refresh_from_db()
    assert session.status == "open"


def test_unknown_session_is_404(client, buyer):
    client.force_login(buyer)
    assert client.get("/checkout/cs_nope/").status_code == 404


def test_a_paid_session_is_404_for_everyone_but_the_payer(client, buyer, session):
    from shop.checkout.services import pay_session

    pay_session(session, buyer, buyer.wallet)
    client.force_login(buyer)
    assert client.get(f"/checkout/{session.public_id}/").status_code == 200
    other = User.objects.create_user("z", email="z@example.com", password="pw")
    other.deposit("50.00")
    client.force_login(other)
    assert client.get(f"/checkout/{session.public_id}/").status_code == 404
    response = client.post(f"/checkout/{session.public_id}/confirm/", {"wallet": other.wallet.pk})
    assert response.status_code == 404
    assert other.balance == Decimal("50.00")


def test_embed_needs_the_client_secret_and_sends_frame_ancestors(client, embedded, session):
    base = f"/checkout/{embedded.public_id}/embed/"
    assert client.get(base).status_code == 404
    assert client.get(base + "?cs=wrong").status_code == 404
    # A hosted-only session cannot be framed at all.
    assert (
        client.get(f"/checkout/{session.public_id}/embed/?cs={session.client_secret}").status_code
        == 404
    )
    response = client.get(base + f"?cs={embedded.client_secret}")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors http://localhost:8123" in csp
    assert "'none'" not in csp.split("frame-ancestors")[1].split(";")[0]
    assert "X-Frame-Options" not in response
    page = response.content.decode()
    assert "Continue with Wallet" in page and "<script>" not in page
    # Other pages still refuse framing.
    other = client.get(f"/checkout/{session.public_id}/")
    assert other.get("X-Frame-Options") == "DENY" or "frame-ancestors 'none'" in other.get(
        "Content-Security-Policy", ""
    )


def test_embed_status_polls_then_stops_with_the_event(client, embedded, buyer):
    url = f"/checkout/{embedded.public_id}/embed/status/?cs={embedded.client_secret}"
    assert client.get(url).status_code == 204
    from shop.checkout.services import pay_session

    pay_session(embedded, buyer, buyer.wallet)
    response = client.get(url)
    assert response.status_code == 286
    assert 'data-wallet-checkout-event="wallet-checkout:completed"' in response.content.decode()
    assert "frame-ancestors http://localhost:8123" in response["Content-Security-Policy"]
    assert WebhookEvent.objects.count() == 1


def test_embedded_confirm_renders_the_closing_popup_page(client, embedded, buyer):
    client.force_login(buyer)
    response = client.post(f"/checkout/{embedded.public_id}/confirm/", {"wallet": buyer.wallet.pk})
    assert response.status_code == 200
    assert 'data-outcome="paid"' in response.content.decode()
    # The popup keeps its opener (the iframe) so it can report a cancel.
    assert response["Cross-Origin-Opener-Policy"] == "unsafe-none"


def test_hosted_mode_pages_keep_the_strict_opener_policy(client, buyer, session):
    client.force_login(buyer)
    response = client.get(f"/checkout/{session.public_id}/")
    assert response.get("Cross-Origin-Opener-Policy") != "unsafe-none"


def test_large_payments_ask_for_the_password_again(client, buyer, api, session_body, settings):
    settings.PORTAL_REAUTH_THRESHOLD = {"USD": "20"}
    data = api.post("/api/checkout/sessions/", session_body).json()
    client.force_login(buyer)
    # force_login counts as a fresh authentication; age it past the timeout.
    session = client.session
    for key in list(session.keys()):
        if "authentication" in key or key.startswith("account_"):
            del session[key]
    session.save()
    response = client.post(f"/checkout/{data['id']}/confirm/", {"wallet": buyer.wallet.pk})
    assert response.status_code == 302
    assert "reauthenticate" in response["Location"]
    assert buyer.balance == Decimal("100.00")
