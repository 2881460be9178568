"""Fixtures of the portal's view tests: people with wallets, and logged-in clients."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from portal.models import User
from shop.models import Membership, Organization


def make_user(username: str, first: str = "", last: str = "") -> User:
    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password="correct-horse-battery",
        first_name=first,
        last_name=last,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


@pytest.fixture
def alice(db) -> User:
    user = make_user("alice", "Alice", "Archer")
    user.deposit("100.00", meta={"reference": "Welcome"})
    return user


@pytest.fixture
def bob(db) -> User:
    user = make_user("bob", "Bob", "Baker")
    user.deposit("50.00")
    return user


@pytest.fixture
def alice_client(alice: User) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def bob_client(bob: User) -> Client:
    client = Client()
    client.force_login(bob)
    return client


@pytest.fixture
def acme(alice: User, bob: User) -> Organization:
    """Alice owns it; Bob is a plain member who may look but not spend."""
    org = Organization.objects.create(name="Acme", slug="acme")
    Membership.objects.create(organization=org, user=alice, role=Membership.Role.OWNER)
    Membership.objects.create(organization=org, user=bob, role=Membership.Role.MEMBER)
    org.deposit("500.00")
    return org


HTMX = {"HTTP_HX_REQUEST": "true"}
