"""Project-level settings the engine relies on."""

from portal.settings import database_config


def test_sqlite_runs_write_transactions_immediate():
    config = database_config("sqlite:////tmp/portal.sqlite3")
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_postgresql_keeps_persistent_checked_connections():
    config = database_config("postgres://postgres@127.0.0.1:5432/wallets")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert config["CONN_MAX_AGE"] > 0 and config["CONN_HEALTH_CHECKS"]
