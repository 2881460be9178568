"""The engine's hot statements are prepared once per PostgreSQL connection
(``wallets.prepared``): each runs again from its prepared plan, Django's own
statements are never prepared, and with prepared statements off (a
transaction-pooling PgBouncer) nothing is. Either way the money is the same."""

from decimal import Decimal

import pytest
from django.db import DataError, NotSupportedError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from tests.testapp.products import Ebook
from wallets.exceptions import InsufficientFunds
from wallets.prepared import statement_cursor
from wallets.selectors import last_transactions
from wallets.services import purchase_service, transfer_service, wallet_service
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()
pytestmark = [pytest.mark.postgres]


def prepared() -> dict[str, int]:
    """This session's prepared statements: their text and how often each ran."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def runs_of(statements: dict[str, int], start: str) -> list[int]:
    return [runs for text, runs in statements.items() if text.startswith(start)]


def with_threshold(threshold):
    """The connection's psycopg ``prepare_threshold``, as its OPTIONS would set it
    (the portal's settings: 5; Django's default and ``DB_PREPARED_STATEMENTS=off``:
    None), for the length of a test."""
    connection.ensure_connection()
    before = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = threshold
    yield
    connection.connection.prepare_threshold = before


@pytest.fixture
def prepared_on():
    yield from with_threshold(5)


@pytest.fixture
def prepared_off():
    yield from with_threshold(None)


def operate_twice(alice, bob, course):
    for _ in range(2):
        wallet_service().deposit(alice.wallet, Decimal("10"))
        transfer_service().transfer(alice.wallet, bob.wallet, Decimal("1"))
        purchase_service().pay(alice.wallet, course, customer=alice)
        last_transactions(alice.wallet, 50)
        assert alice.balance > 0


@pytest.mark.django_db
def test_each_hot_statement_is_prepared_once_and_run_again(
    alice, bob, settled_policy_caches, prepared_on
):
    course = Ebook("2.50")
    operate_twice(alice, bob, course)

    statements = prepared()
    # Each shape prepared once, sent with server-side parameters, run twice.
    assert runs_of(statements, "WITH w AS (UPDATE") == [2, 2]  # deposit, payment
    assert runs_of(statements, "WITH locked AS") == [2]  # transfer
    assert sorted(runs_of(statements, "SELECT")) == [2, 2]  # the newest rows, .balance
    assert runs_of(statements, "SELECT balance FROM") == [2]
    assert all("$1" in text for text in statements)
    assert len(statements) == 5, statements  # nothing of Django's own
    assert Wallet.objects.get(pk=alice.wallet.pk).balance == Decimal("13.00")
    assert Wallet.objects.get(pk=bob.wallet.pk).balance == Decimal("2.00")


@pytest.mark.django_db
def test_with_prepared_statements_off_nothing_is_prepared(
    alice, bob, settled_policy_caches, prepared_off
):
    course = Ebook("2.50")
    operate_twice(alice, bob, course)
    assert prepared() == {}
    assert Wallet.objects.get(pk=alice.wallet.pk).balance == Decimal("13.00")
    assert len(last_transactions(alice.wallet, 50)) == 6


@pytest.mark.django_db
def test_a_logged_statement_is_logged_with_its_values(alice, settled_policy_caches, prepared_on):
    with CaptureQueriesContext(connection) as captured:
        wallet_service().deposit(alice.wallet, Decimal("12.34"))
    sent = [query["sql"] for query in captured.captured_queries]
    assert [sql for sql in sent if sql.startswith("WITH w AS (UPDATE")], sent
    assert all("None" not in sql for sql in sent), sent
    assert any("12.34" in sql for sql in sent), sent


@pytest.mark.django_db(transaction=True)
def test_statements_run_again_after_a_rollback_and_a_refusal(alice, bob, prepared_on):
    wallet_service().deposit(alice.wallet, Decimal("5"))
    with pytest.raises(RuntimeError), transaction.atomic():
        wallet_service().deposit(alice.wallet, Decimal("100"))
        raise RuntimeError("the caller gives up")
    with pytest.raises(InsufficientFunds):
        transfer_service().transfer(alice.wallet, bob.wallet, Decimal("6"))
    wallet_service().deposit(alice.wallet, Decimal("5"))
    transfer_service().transfer(alice.wallet, bob.wallet, Decimal("6"))

    assert Wallet.objects.get(pk=alice.wallet.pk).balance == Decimal("4")
    assert Wallet.objects.get(pk=bob.wallet.pk).balance == Decimal("6")
    assert alice.wallet.transactions.count() == 3
    assert runs_of(prepared(), "WITH w AS (UPDATE")  # prepared again after the rollback


@pytest.mark.django_db(transaction=True)
def test_one_cursor_serves_a_connection_and_survives_an_error(alice, prepared_on):
    wallet_service().deposit(alice.wallet, Decimal("5"))
    database, _, kept = connection._wallets_prepared_cursor
    wallet_service().deposit(alice.wallet, Decimal("5"))
    assert connection._wallets_prepared_cursor[2] is kept and not kept.closed

    with pytest.raises(DataError), statement_cursor(connection) as cursor:
        cursor.execute("SELECT 1 / %s", [0])
    assert not kept.closed  # leaving the block leaves it open for the next statement
    wallet_service().deposit(alice.wallet, Decimal("5"))
    assert connection._wallets_prepared_cursor[2] is kept

    connection.close()  # Django reconnects: a new connection gets a new cursor
    connection.ensure_connection()
    connection.connection.prepare_threshold = 5  # as the settings under test would set it
    wallet_service().deposit(alice.wallet, Decimal("5"))
    assert connection._wallets_prepared_cursor[0] is not database
    assert connection._wallets_prepared_cursor[2] is not kept
    assert Wallet.objects.get(pk=alice.wallet.pk).balance == Decimal("20")


def alter_wallet_name(length):
    """Change the type of a column the engine's statements return, from
    another connection, as a migration deployed meanwhile would."""
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute(
                f"ALTER TABLE {Wallet._meta.db_table} ALTER COLUMN name TYPE varchar({length})"
            )
    finally:
        other.close()


@pytest.mark.django_db(transaction=True)
def test_statements_are_prepared_again_after_a_migration_changes_a_column(alice, prepared_on):
    wallet_service().deposit(alice.wallet, Decimal("5"))
    alter_wallet_name(101)
    try:
        # Outside a transaction: the stale statement is dropped and prepared again.
        wallet_service().deposit(alice.wallet, Decimal("5"))
        alter_wallet_name(100)
        # In one: the operation fails and changes nothing; its rollback makes
        # psycopg forget its statements, and the next operation runs.
        with pytest.raises(NotSupportedError), transaction.atomic():
            wallet_service().deposit(alice.wallet, Decimal("50"))
        wallet_service().deposit(alice.wallet, Decimal("5"))
    finally:
        alter_wallet_name(100)
    assert Wallet.objects.get(pk=alice.wallet.pk).balance == Decimal("15")
    assert alice.wallet.transactions.count() == 3
