"""The benchmark's invariant checks pass on a correct ledger and fail on a broken one."""

from decimal import Decimal

import pytest

from bench import invariants
from bench.config import QUICK
from bench.runner import run_scenario
from bench.scenarios import ConcurrentTransfers, HotDeposits, HotTransfers, SequentialDeposits
from tests.bench.memory import MemoryContender


def verdicts(checks):
    return {check.name: check.passed for check in checks}


def run(scenario, contender):
    scenario.contenders = (contender.name,)
    return run_scenario(scenario, [contender], QUICK, log=lambda message: None)


@pytest.mark.parametrize(
    "scenario", [SequentialDeposits(), ConcurrentTransfers(4), HotDeposits(4), HotTransfers(4)]
)
def test_an_honest_ledger_passes_every_check(scenario):
    contender = MemoryContender()
    result = run(scenario, contender)
    assert result.checks and all(check.passed for check in result.checks), result.checks
    assert result.results["memory"].summary.ops > 0
    # Measured as a database in service: with statistics on the rows just written.
    assert contender.statistics_refreshed == 1


def test_overdrawing_the_hot_wallet_fails_the_exact_count_and_overdraft_checks():
    result = run(HotTransfers(4), MemoryContender(check_funds=False))
    found = verdicts(result.checks)
    assert found["exactly K transfers succeed per round"] is False
    assert found["no overdraft"] is False
    assert found["hot wallet at zero after each round"] is False


def test_lost_updates_on_the_hot_wallet_fail_conservation_and_the_ledger():
    result = run(HotDeposits(4), MemoryContender(lose_updates=True))
    found = verdicts(result.checks)
    assert found["conservation"] is False
    assert found["balance = ledger"] is False


def test_a_stored_balance_off_its_ledger_fails():
    contender = MemoryContender()
    (wallet,) = contender.open_wallets("w", 1, Decimal(10))
    assert invariants.ledger(contender).passed
    contender.stored[wallet] += Decimal("0.01")
    check = invariants.ledger(contender)
    assert not check.passed and "10.01" in check.detail
    assert not invariants.conservation(contender, [wallet], Decimal(10)).passed


def test_an_error_in_a_contender_is_a_failed_check():
    class Broken(MemoryContender):
        def deposit(self, wallet, amount):
            raise RuntimeError("the database went away")

    result = run(SequentialDeposits(), Broken())
    assert result.results["memory"].status == "error"
    assert any(c.name == "ran without errors" and not c.passed for c in result.checks)


def test_ratios_pair_the_contenders_round_by_round():
    from bench.runner import ContenderResult, ScenarioResult
    from bench.timing import Round, summarize

    def result(name, speeds):
        return ContenderResult(name, name, summary=summarize([Round(s, 1.0) for s in speeds]))

    # A slow third round (load on the machine) hits both alike: the ratio stays 2.
    scenario = ScenarioResult(
        "s",
        "s",
        "",
        1,
        "op",
        {"ours": result("ours", [200, 220, 40]), "peer": result("peer", [100, 110, 20])},
    )
    assert scenario.ratio("ours", "peer") == 2
    assert scenario.ops_per_second("ours") == 200
