"""Fixtures of the staff tooling tests: holders with money, staff with and without rights."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.test import Client

from portal.models import User

ALL_STAFF_PERMISSIONS = (
    "freeze_wallet",
    "adjust_wallet",
    "confirm_transaction",
    "reverse_transaction",
    "refund_transfer",
    "view_wallet",
    "view_transaction",
    "view_transfer",
    "view_auditentry",
    "export_auditentry",
    "view_riskrule",
    "add_riskrule",
    "change_riskrule",
)


def make_user(username: str, *, staff: bool = False, perms: tuple[str, ...] = ()) -> User:
    user = User.objects.create_user(
        username=username,
        email=f"{username}@example.com",
        password="correct-horse-battery",
        first_name=username.title(),
        last_name="Tester",
        is_staff=staff,
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    if perms:
        user.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="wallets", codename__in=perms)
        )
    # Permissions are cached per instance: hand out a fresh one.
    return User.objects.get(pk=user.pk)


@pytest.fixture
def holder(db) -> User:
    user = make_user("holly")
    user.deposit("100.00")
    return user


@pytest.fixture
def other(db) -> User:
    user = make_user("otto")
    user.deposit("20.00")
    return user


@pytest.fixture
def moderator(db) -> User:
    return make_user("mod", staff=True, perms=ALL_STAFF_PERMISSIONS)


@pytest.fixture
def viewer(db) -> User:
    """Staff who may look at the ledger but run no action."""
    return make_user(
        "viewer", staff=True, perms=("view_wallet", "view_transaction", "view_transfer")
    )


@pytest.fixture
def moderator_client(moderator: User) -> Client:
    client = Client(enforce_csrf_checks=False)
    client.force_login(moderator)
    return client


@pytest.fixture
def viewer_client(viewer: User) -> Client:
    client = Client()
    client.force_login(viewer)
    return client


@pytest.fixture
def holder_client(holder: User) -> Client:
    client = Client()
    client.force_login(holder)
    return client


# The admin's tests: staff with every engine permission, renaming and held transfers included.
# The staff console's tests: an order to refund, a transfer held for review, form keys.
HTMX = {"HTTP_HX_REQUEST": "true"}


def fresh_key() -> str:
    """A console form's idempotency key, as the form generates it when first shown."""
    return uuid.uuid4().hex


@pytest.fixture
def order(holder: User):
    """Holly bought two books (20.00 USD) from a merchant she does not manage."""
    from shop.models import Organization, Product
    from shop.services import pay_cart

    merchant = Organization.objects.create(
        name="Acme Books", slug="acme", kind=Organization.Kind.MERCHANT
    )
    book = Product.objects.create(
        merchant=merchant, name="Book", slug="book", price=Decimal("10.00"), stock=5
    )
    return pay_cart(holder, holder.wallet, [(book, 2)])


@pytest.fixture
def hold(holder: User, other: User):
    """Holly's 60.00 USD transfer to Otto, held by the "Big ones" rule (over 50)."""
    from wallets.models import RiskRule, TransferHold

    RiskRule.objects.create(
        name="Big ones", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD
    )
    result = holder.transfer(other, "60.00")
    assert isinstance(result, TransferHold)
    return result


def form(reason: str, **fields: str) -> dict[str, str]:
    """A console form as first shown (with its new key), filled in."""
    return {"reason": reason, "idempotency_key": fresh_key(), **fields}


def decision(item, reason="checked", key=None) -> dict[str, str]:
    return {f"{item.uuid}-reason": reason, f"{item.uuid}-idempotency_key": key or fresh_key()}
