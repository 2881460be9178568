"""Database timeouts per kind of process, and a readiness probe that cannot hang."""

import socket
import threading
import time
from decimal import Decimal

import pytest

from portal.ops import health
from portal.ops.db_timeouts import (
    TimeoutSettingInvalid,
    postgres_options,
    process_role,
    timeouts,
)
from portal.ops.env import production_problems
from tests.ops.conftest import production_env, run_python


@pytest.mark.parametrize(
    ("argv", "production", "role"),
    [
        (["/app/.venv/bin/gunicorn", "portal.wsgi:application"], True, "web"),
        (["/usr/lib/python3/site-packages/gunicorn/__main__.py"], False, "web"),
        (["manage.py", "runserver"], False, "web"),
        (["manage.py", "deliver_webhooks", "--loop"], True, "worker"),
        (["manage.py", "migrate", "--noinput"], True, "command"),
        (["manage.py", "wallets_reconcile"], True, "command"),
        (["/app/.venv/bin/django-admin", "shell"], False, "command"),
        (["/app/.venv/bin/pytest"], False, "command"),
        (["some-other-server"], True, "web"),  # unknown in production: the safe values
    ],
)
def test_each_process_gets_its_own_values(argv, production, role):
    assert process_role(argv, {}, production) == role


def test_the_role_can_be_named():
    assert process_role(["uwsgi-ish"], {"DB_TIMEOUT_ROLE": "worker"}, False) == "worker"
    with pytest.raises(TimeoutSettingInvalid, match="DB_TIMEOUT_ROLE"):
        process_role(["x"], {"DB_TIMEOUT_ROLE": "everything"}, False)


def test_defaults_end_every_web_wait_well_before_gunicorn_does():
    web = timeouts("web", {})
    assert max(web.values()) < 30
    assert web["LOCK_TIMEOUT"] < web["STATEMENT_TIMEOUT"]
    # Migrations may run long but must not queue behind a lock for long.
    command = timeouts("command", {})
    assert command["STATEMENT_TIMEOUT"] == 0 and 0 < command["LOCK_TIMEOUT"] <= 10
    assert timeouts("worker", {})["STATEMENT_TIMEOUT"] > web["STATEMENT_TIMEOUT"]


def test_each_role_reads_its_own_variables():
    env = {
        "DB_STATEMENT_TIMEOUT": "2.5",
        "DB_WORKER_LOCK_TIMEOUT": "0",
        "DB_COMMAND_LOCK_TIMEOUT": "7",
    }
    assert timeouts("web", env)["STATEMENT_TIMEOUT"] == Decimal("2.5")
    assert timeouts("worker", env)["LOCK_TIMEOUT"] == 0
    assert timeouts("command", env)["LOCK_TIMEOUT"] == 7
    assert timeouts("worker", env)["STATEMENT_TIMEOUT"] == 15


@pytest.mark.parametrize("value", ["soon", "-1", "NaN", "inf"])
def test_bad_values_are_refused_naming_the_variable(value):
    with pytest.raises(TimeoutSettingInvalid, match="DB_LOCK_TIMEOUT"):
        timeouts("web", {"DB_LOCK_TIMEOUT": value})
    base = {
        "SECRET_KEY": "k3y-Zq8!xW2@rT6#mN4$vB1%" * 3,
        "DATABASE_URL": "postgres://u@db:5432/wallets",
        "ALLOWED_HOSTS": "wallet.example.com",
        "CSRF_TRUSTED_ORIGINS": "https://wallet.example.com",
    }
    problems = production_problems({**base, "DB_WORKER_STATEMENT_TIMEOUT": value})
    assert [p.split()[0] for p in problems] == ["DB_WORKER_STATEMENT_TIMEOUT"]


def test_the_options_carry_every_timeout_to_postgresql():
    options = postgres_options(timeouts("web", {}), {"sslmode": "require"})
    assert options["sslmode"] == "require"
    assert options["connect_timeout"] == 3
    assert options["options"].split(" -c ") == [
        "-c statement_timeout=5000",
        "lock_timeout=3000",
        "idle_in_transaction_session_timeout=15000",
    ]
    assert options["tcp_user_timeout"] == 10000 and options["keepalives"] == 1


def test_zero_leaves_a_timeout_to_the_server_and_url_options_are_kept():
    values = {**timeouts("command", {}), "LOCK_TIMEOUT": Decimal(0), "CONNECT_TIMEOUT": Decimal(1)}
    options = postgres_options(values, {"options": "-c search_path=wallet"})
    assert (
        options["options"] == "-c search_path=wallet -c idle_in_transaction_session_timeout=60000"
    )
    assert "statement_timeout" not in options["options"]
    assert options["connect_timeout"] == 2  # libpq's minimum


def test_the_settings_apply_them_to_postgresql_only():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DB_TIMEOUT_ROLE, s.DATABASES['default']['OPTIONS'].get('options'), "
        "s.DATABASES['default']['OPTIONS'].get('connect_timeout'))"
    )
    result = run_python(code, production_env(DB_STATEMENT_TIMEOUT="4"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["web", "-c"]  # an unknown process in production
    assert "statement_timeout=4000" in result.stdout and result.stdout.split()[-1] == "3"
    sqlite = run_python(code, {**production_env(), "DJANGO_ENV": "", "DATABASE_URL": ""})
    assert sqlite.returncode == 0, sqlite.stderr
    assert sqlite.stdout.split()[1:] == ["None", "None"]


# /readyz asks PostgreSQL on a connection of its own and waits at most PROBE_SECONDS.


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def silent_server():
    """Accepts connections and never answers: a stalled database (or a stuck proxy)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def probe_params(port: int) -> dict:
    return health.probe_parameters(
        {"dbname": "wallets", "user": "postgres", "host": "127.0.0.1", "port": port}
    )


def wait_for_previous_probe():
    deadline = time.monotonic() + 5
    while health._probe_running.locked() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_the_probe_answers_at_once_when_the_database_refuses():
    wait_for_previous_probe()
    started = time.monotonic()
    assert health._probe_postgres(probe_params(closed_port())) is False
    assert time.monotonic() - started < 1


def test_the_probe_gives_up_within_its_deadline_when_the_database_stalls(silent_server):
    wait_for_previous_probe()
    started = time.monotonic()
    assert health._probe_postgres(probe_params(silent_server)) is False
    assert time.monotonic() - started < 2
    # Still stuck: the next probe answers "not ready" at once instead of piling up threads.
    started = time.monotonic()
    assert health._probe_postgres(probe_params(silent_server)) is False
    assert time.monotonic() - started < 0.1
    wait_for_previous_probe()


def test_the_probe_has_its_own_short_timeouts():
    params = health.probe_parameters(
        {"dbname": "w", "options": "-c statement_timeout=5000", "cursor_factory": object}
    )
    assert "cursor_factory" not in params
    assert params["connect_timeout"] == 2 and params["tcp_user_timeout"] == 1500
    assert params["options"].endswith("-c statement_timeout=1500")
