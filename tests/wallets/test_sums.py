"""Exact sums of amount columns: in SQL on both databases, equal to Python's sum."""

import random
from decimal import Context, Decimal, localcontext

import pytest

from wallets.selectors import sum_amounts, sum_amounts_by
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db
LARGEST = Decimal("99999999999999999999.999999999999999999")  # what a column holds


def make_rows(wallet, amounts):
    Transaction.objects.bulk_create(
        Transaction(wallet=wallet, type="deposit", amount=a, state="confirmed", balance_after=a)
        for a in amounts
    )


@pytest.mark.parametrize("seed", range(5))
def test_sums_are_exact_for_any_mix_of_signs_and_sizes(alice, bob, seed):
    rng = random.Random(seed)
    edges = [
        Decimal("0.000000000000000001"),
        Decimal("-0.000000000000000001"),
        LARGEST,
        Decimal("-99999999999999999999.999999999999999999"),
        Decimal("-7.25"),
    ]
    amounts = edges + [
        Decimal(rng.randint(-(10**12), 10**12)).scaleb(-rng.randint(0, 18)) for _ in range(300)
    ]
    other = [Decimal(rng.randint(-999, 999)) for _ in range(50)]
    make_rows(alice.wallet, amounts)
    make_rows(bob.wallet, other)
    with localcontext(Context(prec=80)):
        expected = sum(amounts)
    assert sum_amounts(Transaction.objects.filter(wallet=alice.wallet)) == expected
    by_wallet = sum_amounts_by(Transaction.objects.all(), "wallet_id")
    assert by_wallet == {alice.wallet.pk: expected, bob.wallet.pk: sum(other)}
    assert sum_amounts(Transaction.objects.none()) == 0


def test_a_sum_is_one_query_and_no_row_comes_into_python(alice, django_assert_num_queries):
    make_rows(alice.wallet, [Decimal("1.5")] * 100)
    rows = Transaction.objects.filter(wallet=alice.wallet)
    with django_assert_num_queries(1):
        assert sum_amounts(rows) == 150
    assert sum_amounts(Wallet.objects.all(), "balance") == 0


def test_a_sum_too_large_for_the_fast_chunks_is_still_exact(alice, monkeypatch):
    """Chunks that overflow SQLite's integers fall back to smaller ones."""
    from wallets import sums

    # 18-digit chunks: one row fits a 64-bit integer, ten rows of nines do not.
    monkeypatch.setattr(sums, "CHUNKS", [(1, 18), (19, 18), (37, 2)])
    amounts = [Decimal("-1.5")] * 12  # complemented: 999...98.5
    make_rows(alice.wallet, amounts)
    with localcontext(Context(prec=80)):
        expected = sum(amounts)
    assert sum_amounts(Transaction.objects.filter(wallet=alice.wallet)) == expected
