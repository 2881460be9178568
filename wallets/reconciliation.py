"""Reconciling the ledger: every stored balance equals the sum of its transactions."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wallets.models import Wallet
from wallets.selectors import ledger_totals


@dataclass(frozen=True)
class Discrepancy:
    wallet: Wallet
    field: str
    stored: Decimal
    expected: Decimal

    def __str__(self) -> str:
        return (
            f"wallet {self.wallet.uuid} ({self.wallet.holder_type.model} "
            f"{self.wallet.holder_id}, '{self.wallet.slug}'): {self.field} is {self.stored}, "
            f"transactions say {self.expected}"
        )


def reconcile_wallets() -> list[Discrepancy]:
    totals = ledger_totals()
    problems = []
    for wallet in Wallet.objects.select_related("holder_type").order_by("pk").iterator():
        balance, held = totals.get(wallet.pk, (Decimal(0), Decimal(0)))
        if wallet.balance != balance:
            problems.append(Discrepancy(wallet, "balance", wallet.balance, balance))
        if wallet.held != held:
            problems.append(Discrepancy(wallet, "held", wallet.held, held))
    return problems
