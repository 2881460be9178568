import os
import subprocess
import sys
from pathlib import Path

import pytest

# People, clients and a merchant from the portal's and shop's tests, for the
# error-page and proxy tests that drive those pages.
from tests.portal.conftest import alice, alice_client, bob  # noqa: F401
from tests.shop.conftest import (  # noqa: F401
    api,
    api_key,
    buyer,
    merchant,
    merchant_manager,
    session_body,
)

ROOT = Path(__file__).resolve().parents[2]
# 50+ characters with many distinct ones: what check --deploy accepts.
STRONG_SECRET = "prod-" + "k3y-Zq8!xW2@rT6#mN4$vB1%" * 3


def production_env(**overrides: str) -> dict[str, str]:
    """A complete, valid production environment on top of a clean one."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DATABASE_URL",
            "DEBUG",
            "DJANGO_ENV",
            "REDIS_URL",
            "METRICS_TOKEN",
            "TRUSTED_PROXY_COUNT",
            "WEBHOOK_ALLOW_LOCALHOST_HTTP",
            "DB_TIMEOUT_ROLE",
        }
        # The test session's own switch; production must never run with it.
        and key != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_ENV="production",
        SECRET_KEY=STRONG_SECRET,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/wallets_ops_unused",
        ALLOWED_HOSTS="wallet.example.com",
        CSRF_TRUSTED_ORIGINS="https://wallet.example.com",
        REDIS_URL="redis://127.0.0.1:6379/0",
        METRICS_TOKEN="metrics-token-0123456789abcdef",
        # Behind the documented load balancer.
        TRUSTED_PROXY_COUNT="1",
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_python(code: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_manage(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(autouse=True)
def _fresh_outbox_reading():
    """Each test scrapes its own outbox, not a reading cached by an earlier test."""
    from portal.ops.outbox import outbox_collector

    outbox_collector._cached = None
    outbox_collector._cached_at = float("-inf")
