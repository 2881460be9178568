"""Cancelling a checkout: anyone looking at an open session, afterwards only its payer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal.models import User
from shop.checkout.exceptions import CancelNotAllowed
from shop.checkout.services import cancel_url_for, pay_session
from shop.models import CheckoutSession

pytestmark = pytest.mark.django_db

CANCEL_URL = "https://merchant.example/cancel"


@pytest.fixture
def stranger(db):
    return User.objects.create_user("stranger", email="stranger@example.com", password="pw")


def cancel(client, user, session):
    client.force_login(user)
    return client.post(f"/checkout/{session.public_id}/cancel/")


def test_anyone_may_cancel_an_open_session(client, stranger, session):
    response = cancel(client, stranger, session)
    assert response.status_code == 303 and response["Location"] == CANCEL_URL
    session.refresh_from_db()
    assert session.status == "open"


def test_a_paid_session_is_cancelled_only_by_its_payer(client, buyer, stranger, session):
    pay_session(session, buyer, buyer.wallet)
    response = cancel(client, stranger, session)
    assert response.status_code == 404
    assert CANCEL_URL not in response.get("Location", "")
    response = cancel(client, buyer, session)
    assert response.status_code == 303 and response["Location"] == CANCEL_URL
    session.refresh_from_db()
    assert session.status == "complete"


@pytest.mark.parametrize("how", ["expired by the merchant", "past its time"])
def test_an_expired_session_cannot_be_cancelled(client, stranger, session, how):
    if how == "past its time":
        CheckoutSession.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    else:
        CheckoutSession.objects.update(status=CheckoutSession.Status.EXPIRED)
    session.refresh_from_db()
    response = cancel(client, stranger, session)
    assert response.status_code == 410
    assert "no longer be cancelled" in response.content.decode()
    with pytest.raises(CancelNotAllowed):
        cancel_url_for(session, stranger)


def test_cancelling_needs_a_login_and_a_post(client, session, stranger):
    assert client.post(f"/checkout/{session.public_id}/cancel/").status_code == 302
    client.force_login(stranger)
    assert client.get(f"/checkout/{session.public_id}/cancel/").status_code == 405
