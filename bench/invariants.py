"""The invariants checked after every scenario, each printed PASS or FAIL."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.contender import Contender


@dataclass
class Check:
    contender: str
    name: str
    passed: bool
    detail: str = ""

    def as_dict(self) -> dict:
        return {
            "contender": self.contender,
            "check": self.name,
            "passed": self.passed,
            "detail": self.detail,
        }


def ledger(contender: Contender) -> Check:
    """Every stored balance equals the sum of its ledger (ours: ``reconcile_wallets()``)."""
    problems = contender.ledger_mismatches()
    detail = "; ".join(problems[:3]) + (
        f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
    )
    return Check(contender.name, "balance = ledger", not problems, detail)


def conservation(contender: Contender, wallets: list[Any], expected: Decimal) -> Check:
    """The scenario's wallets hold exactly what came in, no more, no less."""
    total = sum(contender.balances(wallets), start=Decimal(0))
    return Check(
        contender.name,
        "conservation",
        total == expected,
        "" if total == expected else f"total {total}, expected {expected}",
    )


def no_overdraft(contender: Contender, wallets: list[Any]) -> Check:
    negative = [b for b in contender.balances(wallets) if b < 0]
    return Check(
        contender.name,
        "no overdraft",
        not negative,
        "" if not negative else f"{len(negative)} wallet(s) below zero: {negative[:3]}",
    )


def exact_count(contender: Contender, name: str, got: Any, expected: Any) -> Check:
    return Check(
        contender.name,
        name,
        got == expected,
        "" if got == expected else f"got {got}, expected {expected}",
    )


def standard(contender: Contender, wallets: list[Any], expected_total: Decimal) -> list[Check]:
    return [
        ledger(contender),
        conservation(contender, wallets, expected_total),
        no_overdraft(contender, wallets),
    ]
