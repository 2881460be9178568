"""``python -m bench --quick`` on SQLite: every scenario once, every invariant checked."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("dj_wallet", reason='the benchmark\'s peer: pip install -e ".[bench]"')

ROOT = Path(__file__).resolve().parents[2]


def test_the_quick_run_passes_its_invariants_and_writes_json(tmp_path):
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--db", "sqlite", "--quick", "--json", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Invariants:" in done.stdout and " 0 FAIL" in done.stdout
    report = json.loads(out.read_text())
    names = [s["name"] for s in report["scenarios"]]
    assert names[:2] == ["deposit_seq", "transfer_seq"] and "hot_receiver_p8" in names
    assert report["invariants"]["failed"] == 0 and report["invariants"]["passed"] > 100
    transfer = next(s for s in report["scenarios"] if s["name"] == "transfer_seq")
    assert set(transfer["contenders"]) == {"ours", "peer", "floor"}
    assert transfer["contenders"]["ours"]["statements_per_op"] >= 4
    assert transfer["ratios"]["ours_over_peer"] > 0
    assert [s["rows"] for s in report["history"]["sizes"]] == [1_000, 5_000]
