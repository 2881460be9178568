#!/usr/bin/env bash
# Runs the portal on SQLite with demo data, no configuration needed.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e .
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py seed_demo
.venv/bin/python manage.py seed_shop
exec .venv/bin/python manage.py runserver "${PORT:-8000}"
