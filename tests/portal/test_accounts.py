"""Accounts through allauth: sign-up with verification, login, logout, reset, MFA, admin login."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse

from tests.portal.conftest import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth counts attempts in the cache; each test starts with a clean slate.
    cache.clear()
    yield
    cache.clear()


def test_login_page_uses_the_portal_layout(client):
    body = client.get(reverse("account_login")).content.decode()
    assert "Skip to main content" in body
    assert "form-control" in body
    assert "vendor/bootstrap/bootstrap.min.css" in body


def test_sign_up_sends_a_verification_email_and_verifying_logs_in(client):
    response = client.post(
        reverse("account_signup"),
        {
            "email": "dora@example.com",
            "username": "dora",
            "password1": "a-long-passphrase-42",
            "password2": "a-long-passphrase-42",
        },
    )
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    # Mandatory verification: no dashboard before the email is confirmed.
    assert client.get(reverse("portal:dashboard")).status_code == 302
    link = re.search(r"https?://[^/]+(/accounts/confirm-email/[^\s]+/)", mail.outbox[0].body)
    confirm_url = link.group(1)
    client.post(confirm_url)
    response = client.post(
        reverse("account_login"),
        {"login": "dora@example.com", "password": "a-long-passphrase-42"},
    )
    assert response.status_code == 302
    assert client.get(reverse("portal:dashboard")).status_code == 200


def test_login_and_logout(client):
    make_user("erin")
    response = client.post(
        reverse("account_login"), {"login": "erin@example.com", "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    assert client.get(reverse("portal:dashboard")).status_code == 200
    client.post(reverse("account_logout"))
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_password_reset_sends_an_email(client):
    make_user("finn")
    client.post(reverse("account_reset_password"), {"email": "finn@example.com"})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_failed_logins_are_rate_limited(client):
    make_user("gail")
    bodies = [
        client.post(
            reverse("account_login"), {"login": "gail@example.com", "password": "wrong"}
        ).content.decode()
        for _ in range(6)
    ]
    assert "Too many failed login attempts" not in bodies[0]
    assert "Too many failed login attempts" in bodies[-1]
    # Even the right password is refused while the limit holds.
    client.post(
        reverse("account_login"), {"login": "gail@example.com", "password": "correct-horse-battery"}
    )
    assert client.get(reverse("portal:dashboard")).status_code == 302


def test_admin_login_goes_through_allauth(client):
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_two_factor_page_for_a_verified_user(alice_client):
    body = alice_client.get(reverse("mfa_index")).content.decode()
    assert "Authenticator" in body
    assert "Skip to main content" in body
    body = alice_client.get(reverse("mfa_activate_totp"), follow=True).content.decode()
    # Re-authentication or the setup form: either way it renders in the portal layout.
    assert "Skip to main content" in body


def current_totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    return format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))


def test_authenticator_app_then_login_asks_for_the_code(client):
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    make_user("hana")
    credentials = {"login": "hana@example.com", "password": "correct-horse-battery"}
    client.post(reverse("account_login"), credentials)
    # Changing two-factor settings asks for the password again.
    assert "/reauthenticate/" in client.get(reverse("mfa_activate_totp"))["Location"]
    client.post(reverse("account_reauthenticate"), {"password": credentials["password"]})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]
    response = client.post(reverse("mfa_activate_totp"), {"code": current_totp_code(secret)})
    assert response.status_code == 302  # on to the recovery codes
    body = client.get(reverse("mfa_view_recovery_codes"), follow=True).content.decode()
    assert "Recovery Codes" in body or "recovery codes" in body.lower()

    client.post(reverse("account_logout"))
    response = client.post(reverse("account_login"), credentials)
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get(reverse("portal:dashboard")).status_code == 302  # not in yet
    response = client.post(reverse("mfa_authenticate"), {"code": current_totp_code(secret)})
    assert response.status_code == 302
    assert client.get(reverse("portal:dashboard")).status_code == 200
