"""Database timeouts per kind of process, from the environment.

Without them a stalled or locked database holds a gunicorn worker until
gunicorn kills it (30 s), with the user left guessing. With them every wait on
PostgreSQL ends well before that: connecting (``connect_timeout``), a
statement (``statement_timeout``), a row lock (``lock_timeout``), a
transaction left open by a stuck process (``idle_in_transaction_session_timeout``)
and unacknowledged network writes (``tcp_user_timeout``; keepalives find a
dead idle connection). Each ends in an OperationalError, which the web
process answers with a 503 (``portal.ops.errors``).

Web requests, management commands and the webhook worker wait for different
things, so each has its own values: ``DB_<NAME>`` for the web,
``DB_COMMAND_<NAME>`` for commands (migrations wait on locks but may run
long), ``DB_WORKER_<NAME>`` for ``deliver_webhooks``. Seconds, decimals
allowed; 0 turns a timeout off (the server's or role's own setting applies).

Kept free of Django imports: ``portal.settings`` uses it while loading.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

ROLES = ("web", "command", "worker")
NAMES = (
    "CONNECT_TIMEOUT",
    "STATEMENT_TIMEOUT",
    "LOCK_TIMEOUT",
    "IDLE_IN_TRANSACTION_TIMEOUT",
    "TCP_USER_TIMEOUT",
)
# Seconds. A page waits at most a few seconds for anything, far under gunicorn's
# 30 s timeout; a lock wait ends before the statement's own limit would.
DEFAULTS: dict[str, dict[str, Decimal]] = {
    "web": {
        "CONNECT_TIMEOUT": Decimal(3),
        "STATEMENT_TIMEOUT": Decimal(5),
        "LOCK_TIMEOUT": Decimal(3),
        "IDLE_IN_TRANSACTION_TIMEOUT": Decimal(15),
        "TCP_USER_TIMEOUT": Decimal(10),
    },
    # Migrations and reports may run long, but must not queue behind a lock
    # while every web request queues behind them.
    "command": {
        "CONNECT_TIMEOUT": Decimal(10),
        "STATEMENT_TIMEOUT": Decimal(0),
        "LOCK_TIMEOUT": Decimal(10),
        "IDLE_IN_TRANSACTION_TIMEOUT": Decimal(60),
        "TCP_USER_TIMEOUT": Decimal(30),
    },
    "worker": {
        "CONNECT_TIMEOUT": Decimal(5),
        "STATEMENT_TIMEOUT": Decimal(15),
        "LOCK_TIMEOUT": Decimal(5),
        "IDLE_IN_TRANSACTION_TIMEOUT": Decimal(30),
        "TCP_USER_TIMEOUT": Decimal(15),
    },
}
PREFIXES = {"web": "DB_", "command": "DB_COMMAND_", "worker": "DB_WORKER_"}
SERVERS = ("gunicorn", "uwsgi", "waitress", "daphne", "uvicorn")
WORKER_COMMANDS = frozenset({"deliver_webhooks"})
SERVING_COMMANDS = frozenset({"runserver"})


class TimeoutSettingInvalid(ValueError):
    pass


def process_role(argv: Sequence[str], environ: Mapping[str, str], production: bool) -> str:
    """Which values this process uses: ``DB_TIMEOUT_ROLE``, else guessed from the command line.

    An unknown process (a script, the test runner) gets the web's values in
    production mode, where the safe choice matters, and the commands' elsewhere.
    """
    explicit = environ.get("DB_TIMEOUT_ROLE", "").strip().lower()
    if explicit:
        if explicit not in ROLES:
            raise TimeoutSettingInvalid(f"DB_TIMEOUT_ROLE must be one of {', '.join(ROLES)}.")
        return explicit
    program = os.path.basename(argv[0]) if argv else ""
    if program in ("manage.py", "django-admin") and len(argv) > 1:
        if argv[1] in WORKER_COMMANDS:
            return "worker"
        return "web" if argv[1] in SERVING_COMMANDS else "command"
    if any(server in (argv[0] if argv else "") for server in SERVERS):
        return "web"
    return "web" if production else "command"


def seconds(environ: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise TimeoutSettingInvalid(f"{name} must be a number of seconds.") from None
    if not value.is_finite() or value < 0:
        raise TimeoutSettingInvalid(f"{name} must be a number of seconds, 0 or more.")
    return value


def timeouts(role: str, environ: Mapping[str, str]) -> dict[str, Decimal]:
    """The role's timeouts in seconds: its environment variables over its defaults."""
    prefix = PREFIXES[role]
    return {name: seconds(environ, prefix + name, DEFAULTS[role][name]) for name in NAMES}


def invalid_settings(environ: Mapping[str, str]) -> list[str]:
    """Every malformed timeout variable, for the production start-up check."""
    problems = []
    for role in ROLES:
        try:
            timeouts(role, environ)
        except TimeoutSettingInvalid as error:
            problems.append(str(error))
    return problems


def _ms(value: Decimal) -> int:
    return int(value * 1000)


def postgres_options(values: Mapping[str, Decimal], existing: Mapping[str, Any]) -> dict[str, Any]:
    """Connection OPTIONS for psycopg carrying ``values`` (merged over ``existing``)."""
    options = dict(existing)
    settings = [
        ("statement_timeout", values["STATEMENT_TIMEOUT"]),
        ("lock_timeout", values["LOCK_TIMEOUT"]),
        ("idle_in_transaction_session_timeout", values["IDLE_IN_TRANSACTION_TIMEOUT"]),
    ]
    server = [f"-c {name}={_ms(value)}" for name, value in settings if value > 0]
    if server:
        # Appended, so anything the URL already sets in ``options`` still applies.
        options["options"] = " ".join(filter(None, [options.get("options", ""), *server]))
    if values["CONNECT_TIMEOUT"] > 0:
        # libpq counts whole seconds and treats anything under 2 as 2.
        options.setdefault("connect_timeout", max(2, int(values["CONNECT_TIMEOUT"])))
    if values["TCP_USER_TIMEOUT"] > 0:
        options.setdefault("tcp_user_timeout", _ms(values["TCP_USER_TIMEOUT"]))
        # A peer that vanished while the connection sat idle is noticed too.
        options.setdefault("keepalives", 1)
        options.setdefault("keepalives_idle", 10)
        options.setdefault("keepalives_interval", 5)
        options.setdefault("keepalives_count", 3)
    return options
