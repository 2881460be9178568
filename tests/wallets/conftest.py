import pytest
from django.contrib.auth import get_user_model

from tests.testapp.models import Club, Item, Org, Tag

User = get_user_model()


@pytest.fixture
def alice(db):
    return User.objects.create_user(username="alice", email="alice@example.com")


@pytest.fixture
def bob(db):
    return User.objects.create_user(username="bob", email="bob@example.com")


@pytest.fixture
def org(db):
    return Org.objects.create(name="Acme")


@pytest.fixture
def club(db):
    return Club.objects.create(name="Chess club")


@pytest.fixture
def tag(db):
    return Tag.objects.create(code="blue")


@pytest.fixture
def item(org):
    return Item.objects.create(name="Mug", price="7.50", stock=3, seller=org)
