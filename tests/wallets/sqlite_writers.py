"""Parallel writers on one SQLite file, each thread with its own connection.

Run by test_sqlite_writers.py in a subprocess (it needs a database file, not
the test run's in-memory database). Prints a JSON summary."""

import contextlib
import json
import os
import sys
import threading

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.engine_settings")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from wallets.exceptions import InsufficientFunds  # noqa: E402
from wallets.reconciliation import reconcile_wallets  # noqa: E402
from wallets.services import TransferService  # noqa: E402
from wallets.swappable import get_wallet_model  # noqa: E402

Wallet = get_wallet_model()

THREADS, ROUNDS = 6, 15


def main() -> None:
    call_command("migrate", verbosity=0)
    User = get_user_model()
    alice = User.objects.create_user(username="alice")
    bob = User.objects.create_user(username="bob")
    alice.deposit(1000)
    bob.deposit(1000)
    a, b = alice.wallet.pk, bob.wallet.pk
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def worker(index: int) -> None:
        try:
            barrier.wait()
            source, target = (a, b) if index % 2 else (b, a)
            for _ in range(ROUNDS):
                wallet = Wallet.objects.get(pk=source)
                wallet.deposit("0.01")
                with contextlib.suppress(InsufficientFunds):
                    TransferService.transfer(wallet, Wallet.objects.get(pk=target), "1.00")
        except Exception as exc:  # "database is locked" would land here
            errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = Wallet.objects.get(pk=a).balance + Wallet.objects.get(pk=b).balance
    print(
        json.dumps(
            {
                "errors": errors,
                "total": str(total),
                "audit": [str(p) for p in reconcile_wallets()],
                "transaction_mode": connection.settings_dict["OPTIONS"].get("transaction_mode"),
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
