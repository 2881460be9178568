from decimal import Decimal

import pytest

from portal.models import User
from shop.models import Membership, Organization, Product


@pytest.fixture
def merchant(db):
    return Organization.objects.create(
        name="Acme Books", slug="acme", kind=Organization.Kind.MERCHANT
    )


@pytest.fixture
def merchant_manager(merchant):
    user = User.objects.create_user("manager", email="manager@example.com", password="pw")
    Membership.objects.create(organization=merchant, user=user, role=Membership.Role.MANAGER)
    return user


@pytest.fixture
def buyer(db):
    user = User.objects.create_user("buyer", email="buyer@example.com", password="pw")
    user.deposit("100.00")
    return user


@pytest.fixture
def make_product(merchant):
    def make(name="Book", price="10.00", stock=None, **fields):
        slug = fields.pop("slug", name.lower().replace(" ", "-"))
        return Product.objects.create(
            merchant=merchant, name=name, slug=slug, price=Decimal(price), stock=stock, **fields
        )

    return make
