#!/usr/bin/env bash
# Runs the whole test suite on SQLite, then on PostgreSQL.
# Installs the project and its test dependencies into .venv, and Debian's
# Chromium for the browser tests when it is missing and we may install it.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = "0" ]; then "$@"; else sudo -n "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    echo "Installing Debian's chromium for the browser tests..."
    as_root apt-get update -qq || true
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
        || echo "Could not install chromium; browser tests will use Playwright's own browser."
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
# The bench extra brings the benchmark's peer: tests/bench runs the quick benchmark.
.venv/bin/python -m pip install -q -e ".[dev,bench]"
export PATH="$PWD/.venv/bin:$PATH"

ruff check .
python manage.py makemigrations --check --dry-run >/dev/null
DJANGO_SETTINGS_MODULE=tests.engine_settings python manage.py makemigrations --check --dry-run >/dev/null

echo "== The wallet engine alone: Django's apps only, no portal or shop (SQLite) =="
env -u DATABASE_URL pytest --ds=tests.engine_settings tests/wallets -q

echo "== SQLite =="
env -u DATABASE_URL pytest "$@"

POSTGRES_URL="${POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/wallets}"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && [ -d /etc/postgresql ]; then
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    echo "== PostgreSQL ($POSTGRES_URL) =="
    DATABASE_URL="$POSTGRES_URL" REQUIRE_POSTGRES=1 pytest "$@"
    echo "== The wallet engine alone, on its swapped ledger models (PostgreSQL) =="
    DATABASE_URL="$POSTGRES_URL" REQUIRE_POSTGRES=1 pytest --ds=tests.engine_settings tests/wallets -q
elif [ "${CI:-}" = "true" ]; then
    echo "PostgreSQL is not reachable on 127.0.0.1:5432; CI needs it." >&2
    exit 1
else
    echo "PostgreSQL is not reachable on 127.0.0.1:5432: skipped the PostgreSQL run." >&2
fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then echo "== Benchmark smoke test (PostgreSQL) ==" && python -m bench --db postgres --quick; fi
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then echo "== Chaos run, short (PostgreSQL) ==" && python scripts/chaos --short; fi
