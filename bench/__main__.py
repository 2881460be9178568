"""``python -m bench``: run the benchmark (``--help`` for the options).

It installs nothing: ``pip install -e ".[bench]"`` brings the peer (dj-wallet).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import sys
import time
import traceback
import warnings
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata

from bench import databases
from bench.config import FULL, QUICK, Sizes
from bench.report import as_json, render
from bench.runner import RunReport

NOTES = [
    "Ours: the engine's services as the portal calls them (wallet_service().deposit(wallet, "
    "amount), transfer_service().transfer(wallet, wallet, amount), purchase_service().pay("
    "wallet, product, customer=holder), holder.balance, selectors.transaction_history), with "
    "the portal's WALLETS settings: risk policy on (RiskRulePolicy), no RiskRule rows, no "
    "idempotency keys (dj-wallet has none), and the portal's database settings: its hot "
    "statements prepared once per connection (wallets/prepared.py).",
    "Peer: dj-wallet 0.1.0 through its README: WalletService.deposit(wallet, amount), "
    "holder.transfer(holder, amount), holder.pay(product), holder.balance; same Django, "
    "same database and settings (on SQLite also BEGIN IMMEDIATE); its queries go through "
    "Django's cursors, which bind on the client and never prepare.",
    "Floor: psycopg's defaults (a statement is prepared once it has run five times).",
    "Payments: in pay_p4 the product has no wallet and names no recipient, so all three "
    "charge the buyer (ours also records the purchase naming the product, under the "
    "product's lock for can_buy); in the hot-receiver scenario every payment goes into one "
    "receiving wallet (ours and the floor: the merchant's; dj-wallet: the product's own).",
    "Hot wallet transfers: ops/s counts attempts; one in five is refused for insufficient "
    "funds by design (K succeed out of 1.25 K).",
]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Our wallet engine against dj-wallet 0.1.0 and a plain-SQL floor.",
    )
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--quick", action="store_true", help="smoke test: small counts")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    parser.add_argument(
        "--only", metavar="NAMES", help="comma-separated scenario names (and/or 'history')"
    )
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument(
        "--profile",
        type=int,
        metavar="N",
        help="only profile N sequential operations of our engine with cProfile",
    )
    parser.add_argument(
        "--profile-op",
        choices=("transfer", "deposit", "pay", "bulk_deposit", "bulk_transfer", "last_50"),
        default="transfer",
        help="the operation --profile runs (default: transfer)",
    )
    return parser.parse_args(argv)


def _log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _start_django(dbs: databases.BenchDatabases) -> None:
    os.environ["BENCH_DJANGO_DATABASE_URL"] = dbs.django_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    # The portal's settings refuse production mode without its secrets, and would
    # reach for a replica or Redis; bench.settings turns DEBUG off by itself.
    for name in ("DJANGO_ENV", "DATABASE_REPLICA_URL", "REDIS_URL"):
        os.environ.pop(name, None)
    os.environ["DEBUG"] = "1"
    import django
    from django.core.management import call_command

    # whitenoise looks for STATIC_ROOT, which only exists after collectstatic.
    warnings.filterwarnings("ignore", "No directory at", UserWarning)
    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)
    # As a portal worker does once its application is built (portal/wsgi.py);
    # every contender runs in this process, so all run alike.
    from portal.ops.heap import freeze_startup_objects

    freeze_startup_objects()


def _meta(dbs: databases.BenchDatabases, sizes: Sizes, quick: bool) -> dict:
    import django

    return {
        "database": dbs.description,
        "vendor": dbs.vendor,
        "mode": "quick" if quick else "full",
        "rounds": sizes.rounds,
        "sizes": asdict(sizes),
        "python": platform.python_version(),
        "django": django.get_version(),
        "peer_version": metadata.version("dj-wallet"),
        "cpus": os.cpu_count(),
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "notes": NOTES,
    }


def _run(dbs: databases.BenchDatabases, sizes: Sizes, args: argparse.Namespace) -> RunReport:
    from bench.floor import Floor
    from bench.history import run_history
    from bench.invariants import Check, ledger
    from bench.ours import Ours
    from bench.peer import Peer
    from bench.runner import run_scenario
    from bench.scenarios import all_scenarios

    wanted = set(args.only.split(",")) if args.only else None
    floor = Floor(dbs.vendor, dbs.floor_target)
    contenders = [Ours(), Peer(), floor]
    report = RunReport(meta=_meta(dbs, sizes, args.quick))
    try:
        for scenario in all_scenarios():
            if wanted is not None and scenario.name not in wanted:
                continue
            _log(f"{scenario.name}: {scenario.title}")
            report.scenarios.append(run_scenario(scenario, contenders, sizes, _log))
        if wanted is None or "history" in wanted:
            try:
                report.history = run_history(
                    sizes.history_sizes, sizes.history_repeats, floor, _log
                )
            except Exception as error:
                _log(traceback.format_exc())
                report.extra_checks.append(Check("ours", "history ran", False, repr(error)))
        _log("end of run: reconciling every wallet")
        report.extra_checks += [ledger(contender) for contender in contenders]
    finally:
        floor.close()
    return report


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if args.list:
        from bench.scenarios import all_scenarios

        for scenario in all_scenarios():
            print(f"{scenario.name:<16} {scenario.title}")
        print(f"{'history':<16} the wallet page and the last 50 rows at 20k and 1M rows")
        return 0
    try:
        metadata.version("dj-wallet")
    except metadata.PackageNotFoundError:
        print('dj-wallet is not installed: pip install -e ".[bench]"', file=sys.stderr)
        return 2
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    # A plain kill still drops the databases: SIGTERM unwinds through the finally below.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    dbs = databases.create("sqlite" if args.db == "sqlite" else "postgresql")
    _log(f"databases: {dbs.description}")
    try:
        _start_django(dbs)
        if args.profile:
            from bench.profiling import profile

            print(profile(args.profile_op, args.profile))
            return 0
        report = _run(dbs, sizes, args)
    finally:
        from django.db import connections

        connections.close_all()
        dbs.drop()
    report.elapsed_seconds = time.perf_counter() - started
    print(render(report))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(as_json(report), out, indent=2, default=str)
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
