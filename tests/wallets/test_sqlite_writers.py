import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_parallel_writers_on_sqlite_queue_instead_of_failing(tmp_path):
    # Always SQLite, whatever database the rest of this run uses.
    env = {
        **{name: value for name, value in os.environ.items() if name != "DATABASE_URL"},
        "DJANGO_SETTINGS_MODULE": "tests.engine_settings",
        "ENGINE_SQLITE_PATH": str(tmp_path / "writers.sqlite3"),
    }
    result = subprocess.run(
        [sys.executable, "-m", "tests.wallets.sqlite_writers"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["transaction_mode"] == "IMMEDIATE"
    assert summary["errors"] == []
    # 2000 deposited up front, plus 6 threads x 15 deposits of 0.01; transfers move value.
    assert Decimal(summary["total"]) == Decimal("2000.90")
    assert summary["audit"] == []
