"""One setting, TRUSTED_PROXY_COUNT, decides the client's address everywhere.

Behind the load balancer (one proxy) the client is the last X-Forwarded-For
entry; anything left of it is the client's own claim. Rate limits (allauth),
the staff audit log, request logs and gunicorn all see that address.
"""

import logging
import re
import uuid

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from portal.ops.client_ip import client_address, forwarded_client
from portal.ops.logs import JsonFormatter, RequestIdFilter
from tests.ops.test_deploy_files import gunicorn_config
from tests.staff.conftest import ALL_STAFF_PERMISSIONS
from tests.staff.conftest import make_user as make_staff_user
from tests.wallets.conftest import ADMIN_STAFF_PERMISSIONS
from wallets.models import AuditEntry

BALANCER = "10.0.0.2"  # the connecting address: the load balancer
CLIENT = "203.0.113.9"
OTHER_CLIENT = "198.51.100.23"


@pytest.fixture
def one_proxy(settings):
    # In production both come from TRUSTED_PROXY_COUNT (portal.settings).
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def via_balancer(client_ip: str, claimed: str = "") -> dict[str, str]:
    """What the balancer forwards: whatever the client claimed, then the client's address."""
    chain = f"{claimed}, {client_ip}" if claimed else client_ip
    return {"REMOTE_ADDR": BALANCER, "HTTP_X_FORWARDED_FOR": chain}


@pytest.mark.parametrize(
    ("header", "count", "expected"),
    [
        (None, 1, None),
        ("203.0.113.9", 0, None),  # no proxy trusted: the header is the client's claim
        ("203.0.113.9", 1, "203.0.113.9"),
        ("6.6.6.6, 203.0.113.9", 1, "203.0.113.9"),  # a forged entry on the left
        ("6.6.6.6,203.0.113.9, 10.1.1.1", 2, "203.0.113.9"),  # two proxies
        ("203.0.113.9", 2, None),  # shorter than the proxies that must have written it
        ("6.6.6.6, unknown", 1, None),  # not an address where the client's should be
        ("203.0.113.9:5123", 1, "203.0.113.9"),
        ("[2001:db8::7]:443", 1, "2001:db8::7"),
        (" 2001:DB8:0::7 ", 1, "2001:db8::7"),
    ],
)
def test_the_client_is_the_entry_our_first_proxy_wrote(header, count, expected):
    assert forwarded_client(header, count) == expected
    assert client_address(header, BALANCER, count) == (expected or BALANCER)


@pytest.mark.urls("tests.ops.urls")
def test_every_view_sees_the_client_address(client, one_proxy):
    response = client.get("/ops-test/whoami", **via_balancer(CLIENT, "6.6.6.6"))
    assert response.content == CLIENT.encode()


@pytest.mark.urls("tests.ops.urls")
def test_without_trusted_proxies_the_header_is_ignored(client, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client.get("/ops-test/whoami", **via_balancer(CLIENT)).content == BALANCER.encode()


@pytest.mark.urls("tests.ops.urls")
def test_a_malformed_chain_falls_back_to_the_connecting_address(client, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 2
    # One entry where two proxies should have written two: not trusted, and allauth
    # (which would raise on it) never sees the header.
    response = client.get("/ops-test/whoami", **via_balancer(CLIENT))
    assert response.status_code == 200 and response.content == BALANCER.encode()


@pytest.mark.urls("tests.ops.urls")
def test_request_logs_carry_the_client_address(client, one_proxy):
    records = []
    handler = logging.Handler()
    handler.addFilter(RequestIdFilter())
    handler.emit = lambda record: records.append(JsonFormatter().format(record))
    logger = logging.getLogger("tests.ops")
    logger.addHandler(handler)
    try:
        client.get("/ops-test/whoami", **via_balancer(CLIENT, "6.6.6.6"))
    finally:
        logger.removeHandler(handler)
    [line] = [r for r in records if "serving whoami" in r]
    assert f'"client_ip": "{CLIENT}"' in line and "6.6.6.6" not in line


# Login rate limits: per client address and per account, not per balancer.


def failed_login(client: Client, login: str, client_ip: str):
    return client.post(
        reverse("account_login"),
        {"login": login, "password": "wrong-password"},
        **via_balancer(client_ip),
    )


def blocked(response) -> bool:
    """Refused by a rate limit: allauth's 429 page, or the form's "too many failed" error."""
    return response.status_code == 429 or "Too many failed login" in response.content.decode()


@pytest.mark.django_db
def test_one_address_failing_logins_does_not_lock_out_the_others(client, one_proxy):
    from tests.portal.conftest import make_user

    make_user("alice")
    for n in range(20):  # the per-address limit, each against another account
        assert not blocked(failed_login(client, f"nobody{n}@example.com", CLIENT))
    assert blocked(failed_login(client, "nobody-else@example.com", CLIENT))
    # Alice logs in from her own address through the same balancer.
    response = Client().post(
        reverse("account_login"),
        {"login": "alice@example.com", "password": "correct-horse-battery"},
        **via_balancer(OTHER_CLIENT),
    )
    assert response.status_code == 302


@pytest.mark.django_db
def test_without_the_setting_everyone_behind_the_balancer_shares_one_limit(client, settings):
    from tests.portal.conftest import make_user

    settings.TRUSTED_PROXY_COUNT = 0
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    make_user("alice")
    for n in range(20):
        failed_login(client, f"nobody{n}@example.com", CLIENT)
    # The issue: one client's failures block a different client.
    assert blocked(failed_login(Client(), "alice@example.com", OTHER_CLIENT))


@pytest.mark.django_db
def test_failures_against_one_account_are_limited_from_any_address(client, one_proxy, settings):
    from tests.portal.conftest import make_user

    make_user("alice")
    per_account = int(settings.ACCOUNT_RATE_LIMITS["login_failed"].split("/")[0])
    for n in range(per_account):
        assert not blocked(failed_login(client, "alice@example.com", f"198.51.100.{n + 1}"))
    assert blocked(failed_login(client, "alice@example.com", "198.51.100.200"))
    # Other accounts are not affected.
    assert not blocked(failed_login(client, "bob@example.com", "198.51.100.200"))


# The staff audit log records the client, in the console and in the admin.


@pytest.mark.django_db
def test_console_audit_entries_record_the_client_address(one_proxy):
    from tests.portal.conftest import make_user

    holder = make_user("holly")
    holder.deposit("10.00")
    moderator = make_staff_user("mod", staff=True, perms=ALL_STAFF_PERMISSIONS)
    client = Client()
    client.force_login(moderator)
    url = reverse("staff:freeze", args=[holder.wallet.uuid])
    data = {"message": "", "reason": "fraud check", "idempotency_key": uuid.uuid4().hex}
    assert client.post(url, data, **via_balancer(CLIENT, "6.6.6.6")).status_code == 302
    assert AuditEntry.objects.get().ip_address == CLIENT


@pytest.mark.django_db
def test_admin_audit_entries_record_the_client_address(one_proxy):
    from tests.portal.conftest import make_user

    holder = make_user("holly")
    boss = make_staff_user("boss", staff=True, perms=ADMIN_STAFF_PERMISSIONS)
    client = Client()
    client.force_login(boss)
    url = "/admin/wallets/wallet/"
    action = {"action": "credit_wallet", ACTION_CHECKBOX_NAME: [str(holder.wallet.pk)]}
    page = client.post(url, action, **via_balancer(CLIENT)).content.decode()
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    confirm = {**action, "confirm": "yes", "idempotency_key": key, "amount": "5", "reason": "r"}
    assert client.post(url, confirm, **via_balancer(CLIENT, "6.6.6.6")).status_code == 302
    assert AuditEntry.objects.get().ip_address == CLIENT


# gunicorn agrees with the setting.


def test_gunicorn_trusts_forwarded_headers_only_behind_proxies():
    assert gunicorn_config(TRUSTED_PROXY_COUNT="1")["forwarded_allow_ips"] == "['*']"
    loopback = gunicorn_config(TRUSTED_PROXY_COUNT="0")["forwarded_allow_ips"]
    assert loopback == "['127.0.0.1', '::1']"
    explicit = gunicorn_config(TRUSTED_PROXY_COUNT="1", FORWARDED_ALLOW_IPS="10.0.0.2")
    assert explicit["forwarded_allow_ips"] == "['10.0.0.2']"
