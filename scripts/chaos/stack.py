"""The system under test: a fresh PostgreSQL database and gunicorn in production mode."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "chaos-Pass-w0rd-7351"
START_BALANCE = "1000.00"

SEED = """
import json
from allauth.account.models import EmailAddress
from django.contrib.auth.hashers import make_password
from portal.models import User

password = make_password({password!r})  # hashed once: seeding stays quick
users = []
for n in range({count}):
    user = User(username=f"chaos{{n:03d}}", email=f"chaos{{n:03d}}@chaos.example.com")
    user.password = password
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    user.deposit({balance!r})
    wallet = user.get_wallet("default")
    users.append({{"email": user.email, "wallet": wallet.pk, "wallet_uuid": str(wallet.uuid)}})
print(json.dumps(users))
"""


@dataclass
class Stack:
    server_url: str
    name: str
    workdir: Path
    port: int = 0
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def database_url(self) -> str:
        return f"{self.server_url.rstrip('/')}/{self.name}"

    @property
    def log_paths(self) -> tuple[Path, Path]:
        return self.workdir / "gunicorn.out", self.workdir / "gunicorn.err"


def admin_connection(server_url: str) -> psycopg.Connection:
    return psycopg.connect(f"{server_url.rstrip('/')}/postgres", autocommit=True, connect_timeout=5)


def create_database(server_url: str, workdir: Path) -> Stack:
    name = f"wallets_chaos_{os.getpid()}"
    with admin_connection(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return Stack(server_url=server_url, name=name, workdir=workdir)


def drop_database(stack: Stack) -> None:
    with admin_connection(stack.server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{stack.name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


def production_environment(stack: Stack, workers: int) -> dict[str, str]:
    """What a production pod gets, on loopback: plain HTTP, one proxy hop (us)."""
    stack.port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DB_", "DATABASE_", "GUNICORN_"))
        and key not in ("DEBUG", "REDIS_URL", "WEBHOOK_ALLOW_LOCALHOST_HTTP")
    }
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        DATABASE_URL=stack.database_url,
        ALLOWED_HOSTS="127.0.0.1",
        CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{stack.port}",
        SECURE_SSL_REDIRECT="false",
        # The load generator plays the load balancer: each user has its own
        # X-Forwarded-For address, so login rate limits are per user as in production.
        TRUSTED_PROXY_COUNT="1",
        STATIC_ROOT=str(stack.workdir / "static"),
        PROMETHEUS_MULTIPROC_DIR=str(stack.workdir / "prometheus"),
        WEB_CONCURRENCY=str(workers),
        HOST="127.0.0.1",
        PORT=str(stack.port),
        LOG_LEVEL="WARNING",
        CACHE_KEY_PREFIX=f"chaos-{uuid.uuid4().hex}",
    )
    if redis_reachable():
        env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    stack.env = env
    return env


def manage(stack: Stack, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def prepare(stack: Stack, users: int) -> list[dict]:
    """Migrate, collect static files and seed ``users`` funded users; their wallets."""
    for command in (("migrate", "--noinput"), ("collectstatic", "--noinput")):
        result = manage(stack, *command)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    code = SEED.format(password=PASSWORD, count=users, balance=START_BALANCE)
    result = manage(stack, "shell", "-c", code)
    if result.returncode != 0:
        raise RuntimeError(f"seeding failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def start_gunicorn(stack: Stack) -> subprocess.Popen:
    out_path, err_path = stack.log_paths
    with out_path.open("w") as out, err_path.open("w") as err:
        stack.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "portal.wsgi:application"],
            cwd=ROOT,
            env=stack.env,
            stdout=out,
            stderr=err,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{err_path.read_text()[-3000:]}")
        try:
            with socket.create_connection(("127.0.0.1", stack.port), timeout=1) as sock:
                sock.sendall(b"GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
                if b" 200 " in sock.recv(100):
                    return stack.process
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer /healthz within 60 s")


def stop_gunicorn(stack: Stack) -> int | None:
    process = stack.process
    if process is None:
        return None
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    return process.returncode


def worker_pids(master: int) -> list[int]:
    """gunicorn's worker processes: the master's children (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces, so split after ")".
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == master:
            pids.append(int(entry.name))
    return pids
