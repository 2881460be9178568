"""Project-level settings the engine relies on."""

import pytest

from portal.settings import database_config


def test_sqlite_runs_write_transactions_immediate():
    config = database_config("sqlite:////tmp/portal.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgresql_keeps_persistent_checked_connections():
    config = database_config("postgres://postgres@127.0.0.1:5432/wallets")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["CONN_MAX_AGE"] > 0 and config["CONN_HEALTH_CHECKS"]


def test_postgresql_lets_the_engine_prepare_its_statements(monkeypatch):
    monkeypatch.delenv("DB_PREPARED_STATEMENTS", raising=False)
    config = database_config("postgres://postgres@127.0.0.1:5432/wallets")
    assert config["OPTIONS"]["prepare_threshold"] == 5


@pytest.mark.parametrize("off", ["off", "false", "0", "no"])
def test_prepared_statements_can_be_turned_off_for_a_transaction_pooler(monkeypatch, off):
    monkeypatch.setenv("DB_PREPARED_STATEMENTS", off)
    config = database_config("postgres://postgres@127.0.0.1:5432/wallets")
    # Absent: Django's default, None, under which psycopg prepares nothing.
    assert "prepare_threshold" not in config["OPTIONS"]
