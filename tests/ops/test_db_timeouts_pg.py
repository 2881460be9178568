"""On PostgreSQL: the timeouts reach the server, and a wait they end becomes a quick 503.

A second, real connection holds a row lock the way a long transaction would;
the page waiting for it gets its answer from ``lock_timeout``, well before
gunicorn's 30 s, and the same form sent once the lock is gone moves money once.
"""

import time
from decimal import Decimal

import psycopg
import pytest
from django.db import DatabaseError, connections, transaction
from django.test import Client
from django.urls import reverse

from portal.ops.db_timeouts import postgres_options, timeouts
from portal.ops.errors import database_unavailable
from tests.ops.test_db_timeouts import closed_port, silent_server  # noqa: F401
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def reconnect_with(**overrides: str) -> None:
    """Reopen the test's connection with the web's timeouts (and ``overrides``, in seconds)."""
    connection = connections["default"]
    connection.close()
    values = {**timeouts("web", {}), **{k: Decimal(v) for k, v in overrides.items()}}
    connection.settings_dict["OPTIONS"] = postgres_options(values, {})


@pytest.fixture
def web_timeouts():
    connection = connections["default"]
    original = connection.settings_dict["OPTIONS"]
    reconnect_with()
    yield reconnect_with
    connection.close()
    connection.settings_dict["OPTIONS"] = original


def other_connection() -> psycopg.Connection:
    """A connection of its own, like another process's (no timeouts of ours)."""
    s = connections["default"].settings_dict
    return psycopg.connect(
        dbname=s["NAME"],
        user=s["USER"] or None,
        password=s["PASSWORD"] or None,
        host=s["HOST"] or None,
        port=s["PORT"] or None,
        connect_timeout=10,
    )


def test_the_timeouts_reach_the_server(web_timeouts):
    with connections["default"].cursor() as cursor:
        shown = {}
        for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout"):
            cursor.execute(f"SHOW {name}")
            shown[name] = cursor.fetchone()[0]
    assert shown == {
        "statement_timeout": "5s",
        "lock_timeout": "3s",
        "idle_in_transaction_session_timeout": "15s",
    }


def transfer_form(alice, key="lock-1"):
    return {
        "source": alice.wallet.pk,
        "recipient": "bob@example.com",
        "amount": "12.50",
        "note": "",
        "idempotency_key": key,
    }


def test_a_row_lock_held_elsewhere_becomes_a_quick_503(alice, bob, web_timeouts):
    client = Client()
    client.force_login(alice)
    with other_connection() as holder:
        # Another process holds Alice's wallet row, as a long transaction would.
        holder.execute("SELECT id FROM wallets_wallet WHERE id = %s FOR UPDATE", [alice.wallet.pk])
        started = time.monotonic()
        response = client.post(reverse("portal:transfer_confirm"), transfer_form(alice))
        waited = time.monotonic() - started
        body = response.content.decode()
        assert response.status_code == 503, body[:500]
        assert 'data-testid="outcome-unknown"' in body
        assert 3 <= waited < 6  # lock_timeout, not gunicorn's 30 s
        # The process survives: its next request is served.
        assert client.get(reverse("portal:dashboard")).status_code == 200
        holder.rollback()
    # Sending the same form again, as the page says, moves the money once.
    assert client.post(reverse("portal:transfer_confirm"), transfer_form(alice)).status_code == 302
    assert client.post(reverse("portal:transfer_confirm"), transfer_form(alice)).status_code == 302
    assert Transfer.objects.count() == 1
    assert alice.wallet.__class__.objects.get(pk=alice.wallet.pk).balance == Decimal("87.50")


@pytest.mark.urls("tests.ops.urls")
def test_a_statement_over_its_time_becomes_a_quick_503(web_timeouts):
    web_timeouts(STATEMENT_TIMEOUT="1")
    started = time.monotonic()
    response = Client().get("/ops-test/slow", {"seconds": "10"})
    assert response.status_code == 503
    assert "temporarily unavailable" in response.content.decode()
    assert time.monotonic() - started < 3
    assert Client().get("/ops-test/slow", {"seconds": "0"}).status_code == 200


def test_a_transaction_left_idle_is_ended_by_the_server(web_timeouts):
    web_timeouts(IDLE_IN_TRANSACTION_TIMEOUT="1")
    with pytest.raises(DatabaseError) as ended:
        with transaction.atomic():
            with connections["default"].cursor() as cursor:
                cursor.execute("SELECT 1")
                time.sleep(1.5)  # a stuck worker holding its transaction (and locks) open
                cursor.execute("SELECT 1")
    # PostgreSQL reports it as an InternalError; the error pages know it as "unavailable".
    assert database_unavailable(ended.value)
    connections["default"].close()
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")


# /readyz: 503 within 2 s when the database refuses or stalls.


def test_readyz_is_ready_on_a_working_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"]["database"] is True


@pytest.fixture
def database_at(monkeypatch):
    connection = connections["default"]
    real = connection.get_connection_params

    def point_at(port: int) -> None:
        monkeypatch.setattr(
            connection,
            "get_connection_params",
            lambda: {**real(), "host": "127.0.0.1", "port": port},
        )

    return point_at


def test_readyz_answers_503_at_once_when_the_database_refuses(client, database_at):
    database_at(closed_port())
    started = time.monotonic()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False, "migrations": False}
    assert time.monotonic() - started < 2


def test_readyz_answers_503_within_2_s_when_the_database_stalls(
    client,
    database_at,
    silent_server,  # noqa: F811
):
    from tests.ops.test_db_timeouts import wait_for_previous_probe

    wait_for_previous_probe()
    database_at(silent_server)
    started = time.monotonic()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert time.monotonic() - started < 2
    wait_for_previous_probe()
