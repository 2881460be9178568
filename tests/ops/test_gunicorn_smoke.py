"""A gunicorn with several workers, production settings and PostgreSQL serves the portal.

Runs migrate and collectstatic like a release would, starts gunicorn on a free
loopback port, then probes, fetches a hashed static file, logs in through the
allauth form, sends money through the transfer page and reads the metrics.
"""

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from decimal import Decimal
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from tests.html import hidden_value
from tests.ops.conftest import ROOT, production_env, run_manage

pytestmark = pytest.mark.postgres

PASSWORD = "smoke-Pass-w0rd-9481"
METRICS_TOKEN = "smoke-metrics-token-0123456789"
SETUP_USERS = f"""
import json
from allauth.account.models import EmailAddress
from portal.models import User

users = {{}}
for name in ("alice", "bob"):
    user = User.objects.create_user(
        username=f"smoke-{{name}}", email=f"{{name}}@smoke.example.com", password="{PASSWORD}"
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    users[name] = user
users["alice"].deposit("100.00")
print(json.dumps({{
    "alice_wallet": users["alice"].wallet.pk,
    "bob_wallet_uuid": str(users["bob"].get_wallet("default").uuid),
}}))
"""


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=2):
            return True
    except OSError:
        return False


def failed_login_limit() -> int:
    """allauth's per-account failed login limit, e.g. 5 in "5/300s/key"."""
    rules = settings.ACCOUNT_RATE_LIMITS["login_failed"].split(",")
    (per_key,) = [rule for rule in rules if rule.endswith("/key")]
    return int(per_key.split("/")[0])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def admin_connection() -> psycopg.Connection:
    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    return psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10)


@pytest.fixture
def smoke_database():
    name = f"wallets_ops_smoke_{os.getpid()}"
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{os.environ['DATABASE_URL'].rsplit('/', 1)[0]}/{name}"
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Browser:
    """Just enough of a browser: keeps cookies itself, since they are Secure-only."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        all_headers = {"Host": f"127.0.0.1:{self.port}", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
            all_headers["Origin"] = self.origin
            all_headers["Referer"] = self.origin + path
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            content = response.read()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie(header)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response, content

    def get(self, path: str, headers=None):
        return self.request("GET", path, headers=headers)

    def post(self, path: str, form: dict, headers=None):
        return self.request("POST", path, form=form, headers=headers)



def wait_until_up(browser: Browser, process: subprocess.Popen, deadline: float) -> None:
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited while starting"
        try:
            response, _ = browser.get("/healthz")
            if response.status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("gunicorn did not answer /healthz in time")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def json_lines(path: Path) -> list[dict]:
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def test_gunicorn_serves_the_portal_with_several_workers(smoke_database, tmp_path):
    port = free_port()
    env = production_env(
        DATABASE_URL=smoke_database,
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{port}",
        # Plain HTTP on loopback: there is no TLS terminator in front here.
        SECURE_SSL_REDIRECT="false",
        STATIC_ROOT=str(tmp_path / "static"),
        # Without Redis each worker keeps its own cache; the rate-limit check needs it.
        REDIS_URL="redis://127.0.0.1:6379/0" if redis_reachable() else None,
        CACHE_KEY_PREFIX=f"smoke-{uuid.uuid4().hex}",
        METRICS_TOKEN=METRICS_TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        WEB_CONCURRENCY="3",
        HOST="127.0.0.1",
        PORT=str(port),
    )
    for command in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        result = run_manage(*command, env=env)
        assert result.returncode == 0, result.stderr
    result = run_manage("shell", "-c", SETUP_USERS, env=env)
    assert result.returncode == 0, result.stderr
    ids = json.loads(result.stdout.strip().splitlines()[-1])

    stdout, stderr = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    with stdout.open("w") as out, stderr.open("w") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=err,
        )
    try:
        browser = Browser(port)
        wait_until_up(browser, process, time.monotonic() + 60)

        response, body = browser.get("/readyz")
        assert response.status == 200, body

        # Behind the balancer (TRUSTED_PROXY_COUNT=1) the access log names the client.
        response, _ = browser.get(
            "/healthz", {"X-Forwarded-For": "6.6.6.6, 203.0.113.77", "X-Request-ID": "smoke-xff"}
        )
        assert response.status == 200

        # A hashed, compressed static file from collectstatic, through whitenoise.
        manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
        hashed = manifest["paths"]["admin/css/base.css"]
        assert hashed != "admin/css/base.css"
        response, body = browser.get(f"/static/{hashed}", {"Accept-Encoding": "gzip"})
        assert response.status == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert "immutable" in response.headers["Cache-Control"]

        # Log in through the allauth form.
        response, body = browser.get("/accounts/login/")
        assert response.status == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        response, body = browser.post(
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": hidden_value(body, "csrfmiddlewaretoken"),
                "login": "alice@smoke.example.com",
                "password": PASSWORD,
            },
        )
        assert response.status == 302, body[:2000]
        # The session works whichever worker answers.
        for _ in range(8):
            response, body = browser.get("/")
            assert response.status == 200
            assert b"smoke-alice" in body or b"alice@smoke.example.com" in body

        # Send money through the transfer page: form, then confirm.
        response, body = browser.get("/transfer/")
        assert response.status == 200
        form = {
            "csrfmiddlewaretoken": hidden_value(body, "csrfmiddlewaretoken"),
            "idempotency_key": hidden_value(body, "idempotency_key"),
            "source": str(ids["alice_wallet"]),
            "recipient": "bob@smoke.example.com",
            "amount": "12.50",
            "note": "smoke test",
        }
        response, body = browser.post(
            "/transfer/confirm/", form, {"X-Request-ID": "smoke-transfer-1"}
        )
        assert response.status == 302, body[:2000]
        receipt = response.headers["Location"]
        assert receipt.startswith("/transfers/")
        assert browser.get(receipt)[0].status == 200
        with psycopg.connect(smoke_database, connect_timeout=10) as conn:
            balance = conn.execute(
                "SELECT balance FROM wallets_wallet WHERE uuid = %s", [ids["bob_wallet_uuid"]]
            ).fetchone()[0]
        assert Decimal(balance) == Decimal("12.50")

        # Behind the TLS-terminating load balancer: HSTS, secure cookies.
        response, _ = Browser(port).get("/accounts/login/", {"X-Forwarded-Proto": "https"})
        assert response.status == 200
        assert response.headers.get_all("Set-Cookie")
        assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
        assert "includeSubDomains" in response.headers["Strict-Transport-Security"]
        assert all("Secure" in cookie for cookie in response.headers.get_all("Set-Cookie") or [])

        # Failed logins are counted in Redis, so the limit holds across workers.
        limit = failed_login_limit()
        stranger = Browser(port)
        for attempt in range(1, limit + 2 if env.get("REDIS_URL") else 1):
            _, body = stranger.get("/accounts/login/")
            _, body = stranger.post(
                "/accounts/login/",
                {
                    "csrfmiddlewaretoken": hidden_value(body, "csrfmiddlewaretoken"),
                    "login": "bob@smoke.example.com",
                    "password": f"wrong-{attempt}",
                },
            )
            blocked = b"Too many failed login attempts" in body
            assert blocked == (attempt > limit), attempt

        # Metrics summed over every worker, behind the token.
        assert browser.get("/metrics")[0].status == 403
        response, body = browser.get("/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status == 200
        text = body.decode()
        assert 'portal_wallet_operations_total{kind="transfer",outcome="completed"} 1.0' in text
        home = re.search(
            r'portal_http_requests_total\{method="GET",status="200",'
            r'view="portal:dashboard"\} (\S+)',
            text,
        )
        assert home and float(home.group(1)) >= 8
    finally:
        stop(process)

    assert process.returncode == 0, stderr.read_text()[-3000:]
    # JSON logs: the transfer's money line carries the request id we sent.
    app_lines = json_lines(stderr)
    transfer_lines = [line for line in app_lines if line.get("event") == "transfer_completed"]
    assert len(transfer_lines) == 1
    assert transfer_lines[0]["request_id"] == "smoke-transfer-1"
    assert transfer_lines[0]["to_wallet_uuid"] == ids["bob_wallet_uuid"]
    assert Decimal(transfer_lines[0]["amount"]) == Decimal("12.50")
    access = [line for line in json_lines(stdout) if line.get("logger") == "gunicorn.access"]
    assert any(
        line["request_id"] == "smoke-transfer-1" and line["status"] == "302" for line in access
    )
    assert all(line["request_id"] not in ("", None) for line in access)
    [forwarded] = [line for line in access if line["request_id"] == "smoke-xff"]
    assert forwarded["remote_addr"] == "203.0.113.77"
