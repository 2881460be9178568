"""A chaos run anyone can repeat: money through the real forms while things break.

    .venv/bin/python scripts/chaos            # 75 s, 24 users, 3 workers
    .venv/bin/python scripts/chaos --short    # about 20 s of load (CI)

It creates a fresh database on the local PostgreSQL server (``--server``, default
``postgres://postgres@127.0.0.1:5432/``), migrates it, seeds funded users,
starts gunicorn in production mode, logs every user in through the login
form, and has them send each other money (form, review, confirm) in parallel.
Meanwhile it kills a gunicorn worker with SIGKILL and terminates every
database connection, in turns. Confirmations whose outcome is unknown are
retried with the same form (its idempotency key). Then it prints requests/s,
latency percentiles, failures by status, the faults and the checks, drops the
database and exits non-zero if a check failed.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import threading
import time
from decimal import Decimal
from pathlib import Path

import checks
import report
import stack as stack_module
from browser import Browser, Outcome, Recorder, send_money
from faults import FaultInjector

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/"
# After the load stops, unknown confirmations keep being retried this long.
GRACE_SECONDS = 20.0


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="scripts/chaos", description=__doc__.split("\n")[0])
    parser.add_argument("--short", action="store_true", help="CI mode: 20 s, 12 users.")
    parser.add_argument("--duration", type=float, help="Seconds of load (default 75).")
    parser.add_argument("--users", type=int, help="Parallel users (default 24).")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (3).")
    parser.add_argument("--fault-every", type=float, help="Seconds between faults (default 5).")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL.")
    parser.add_argument("--keep", action="store_true", help="Keep the database and logs.")
    parser.add_argument("--seed", type=int, default=12, help="Random seed for amounts.")
    options = parser.parse_args(argv)
    options.duration = options.duration or (20.0 if options.short else 75.0)
    options.users = options.users or (12 if options.short else 24)
    options.fault_every = options.fault_every or (4.0 if options.short else 5.0)
    return options


def user_loop(
    browser: Browser,
    me: dict,
    everyone: list[dict],
    until: float,
    outcomes: list[Outcome],
    rng: random.Random,
) -> None:
    if not browser.log_in(me["email"], stack_module.PASSWORD, until):
        return
    while time.monotonic() < until:
        other = rng.choice([u for u in everyone if u is not me])
        amount = str(Decimal(rng.randint(1, 500)) / 100)
        outcome = send_money(browser, me["wallet"], other["email"], amount, until, GRACE_SECONDS)
        if outcome is None:
            # Lost the session (a killed worker mid-login, say): log in again.
            browser.log_in(me["email"], stack_module.PASSWORD, until)
            continue
        outcomes.append(outcome)


def run(options: argparse.Namespace, workdir: Path) -> int:
    stack = stack_module.create_database(options.server, workdir)
    try:
        stack_module.production_environment(stack, options.workers)
        print(f"database {stack.name}; preparing (migrate, collectstatic, seed)...", flush=True)
        users = stack_module.prepare(stack, options.users)
        stack_module.start_gunicorn(stack)
        print(f"gunicorn on port {stack.port}; load for {options.duration:.0f} s...", flush=True)
        recorder = Recorder()
        outcomes: list[Outcome] = []
        started = time.monotonic()
        until = started + options.duration
        injector = FaultInjector(stack, options.fault_every, started)
        threads = [
            threading.Thread(
                target=user_loop,
                args=(
                    Browser(stack.port, f"203.0.113.{index + 1}", recorder),
                    user,
                    users,
                    until,
                    outcomes,
                    random.Random(options.seed + index),
                ),
                daemon=True,
            )
            for index, user in enumerate(users)
        ]
        injector.start()
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, until - time.monotonic()))
        injector.stop()
        for thread in threads:
            thread.join(timeout=GRACE_SECONDS + 40)
        elapsed = time.monotonic() - started
        exit_code = stack_module.stop_gunicorn(stack)
        results = [
            checks.reconciliation(stack),
            checks.conservation(stack, options.users),
            checks.legs(stack),
            checks.duplicates(stack, list(outcomes)),
            checks.Check(
                "progress",
                any(o.result == "ok" for o in outcomes),
                f"gunicorn exited with {exit_code} after SIGTERM",
            ),
        ]
        settings = {
            "users": options.users,
            "workers": options.workers,
            "duration": f"{options.duration:.0f}s",
            "fault every": f"{options.fault_every:.0f}s",
            "database": stack.name,
        }
        print(report.render(recorder, elapsed, outcomes, injector.log, results, settings))
        return 0 if all(check.passed for check in results) else 1
    finally:
        stack_module.stop_gunicorn(stack)
        if options.keep:
            print(f"kept database {stack.name} and logs in {workdir}")
        else:
            stack_module.drop_database(stack)


def main(argv: list[str]) -> int:
    options = arguments(argv)
    workdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    try:
        return run(options, workdir)
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
