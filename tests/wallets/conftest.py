import math

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
def carol(db):
    return User.objects.create_user(username="carol", email="carol@example.com")


@pytest.fixture
def settled_policy_caches():
    """The risk rules and fee policies as a running process holds them: read
    once and unchanged since, so no operation under test reads them again.
    Marked changed afterwards: the rows this test saw go with its database."""
    from wallets import fees, risk

    caches = (risk.active_rules, fees.active_policies)
    for cache in caches:
        cache.changed_at = cache.read_at = -math.inf
        cache.get()
    yield
    for cache in caches:
        cache.changed()


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


STAFF_PERMISSIONS = (
    "freeze_wallet",
    "adjust_wallet",
    "confirm_transaction",
    "reverse_transaction",
    "refund_transfer",
    "change_wallet",
)


def engine_permissions(codenames):
    """The engine's permissions by the codenames of its default models; where a
    project swaps the wallet, transaction or transfer model (tests.engine_settings),
    the swapped model's own permissions."""
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

    wanted = set()
    engine_types = set(ContentType.objects.filter(app_label="wallets"))
    for model, default_name in (
        (get_wallet_model(), "wallet"),
        (get_transaction_model(), "transaction"),
        (get_transfer_model(), "transfer"),
    ):
        engine_types.add(ContentType.objects.get_for_model(model))
        for codename in codenames:
            action, _, name = codename.partition("_")
            if name == default_name:
                codename = f"{action}_{model._meta.model_name}"
            wanted.add((ContentType.objects.get_for_model(model).pk, codename))
    found = Permission.objects.filter(
        content_type__in=engine_types, codename__in=set(codenames) | {c for _, c in wanted}
    )
    return [
        p
        for p in found
        if p.codename in codenames or (p.content_type_id, p.codename) in wanted
    ]


def make_staff(username, *perms, is_staff=True):
    """A user with some of the engine's permissions (a fresh instance: perms are cached)."""

    user = User.objects.create_user(username=username, email=f"{username}@example.com")
    user.is_staff = is_staff
    user.save(update_fields=["is_staff"])
    user.user_permissions.add(*engine_permissions(perms))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def moderator(db):
    return make_staff("mod", *STAFF_PERMISSIONS)


@pytest.fixture
def staff(moderator):
    """A factory of StaffActor for the moderator, with a reason."""
    from wallets.staff import StaffActor

    def actor(reason="checked", ip=None, user=None):
        return StaffActor(user or moderator, reason, ip)

    return actor


# The engine's admin, driven as staff do (tests/wallets/admin_pages/ and
# test_admin_races_pg.py). Users are created through get_user_model(), so these
# run with the engine alone too.
ADMIN_STAFF_PERMISSIONS = (
    *STAFF_PERMISSIONS,
    "view_wallet",
    "view_transaction",
    "view_transfer",
    "view_transferhold",
    "view_auditentry",
    "export_auditentry",
    "view_riskrule",
    "add_riskrule",
    "change_riskrule",
)


def make_user(username, *, staff=False, perms=()):
    return make_staff(username, *perms, is_staff=staff)


def logged_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def holder(db):
    user = make_user("holly")
    user.deposit("100.00")
    return user


@pytest.fixture
def other(db):
    user = make_user("otto")
    user.deposit("20.00")
    return user


@pytest.fixture
def admin_staff(db):
    return make_user("boss", staff=True, perms=ADMIN_STAFF_PERMISSIONS)


@pytest.fixture
def admin_staff_client(admin_staff):
    return logged_in(admin_staff)


@pytest.fixture
def moderator_client(moderator):
    return logged_in(moderator)


@pytest.fixture
def holder_client(holder):
    return logged_in(holder)
