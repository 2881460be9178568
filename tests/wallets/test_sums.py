"""Exact sums of amount columns: in SQL on both databases, equal to Python's sum."""

import random
from decimal import Context, Decimal, localcontext

import pytest
from django.db import connection

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


def test_a_sum_reads_no_row_into_python(alice, django_assert_num_queries):
    """PostgreSQL sums in one query. SQLite first probes the smallest and the
    largest amount (one row each), counts the negative rows if the smallest is
    negative, then sums the digits the bounds leave variable."""
    sqlite = connection.vendor == "sqlite"
    make_rows(alice.wallet, [Decimal("1.5")] * 100)
    rows = Transaction.objects.filter(wallet=alice.wallet)
    with django_assert_num_queries(3 if sqlite else 1) as queries:
        assert sum_amounts(rows) == 150
    if sqlite:
        assert all("LIMIT 1" in q["sql"] for q in queries.captured_queries[:2])
    make_rows(alice.wallet, [Decimal("-0.5")] * 10)
    with django_assert_num_queries(4 if sqlite else 1) as queries:
        assert sum_amounts(rows) == 145
    if sqlite:
        assert "COUNT(*)" in queries.captured_queries[2]["sql"]
    assert sum_amounts(Wallet.objects.all(), "balance") == 0


@pytest.mark.parametrize(
    "amounts",
    [
        [Decimal("-7.25"), Decimal("3"), Decimal("0.01"), Decimal("-0.01")],
        [Decimal("-7.25"), Decimal("-1000000"), Decimal("-0.5")],
        [Decimal("0"), Decimal("0")],
        [Decimal("12345678.123456789012345678"), Decimal("-1")],
        [Decimal("1.5")] * 3 + [LARGEST],
    ],
)
def test_sums_of_small_amounts_are_exact_with_fewer_digits_summed(alice, amounts):
    make_rows(alice.wallet, amounts)
    with localcontext(Context(prec=80)):
        expected = sum(amounts)
    assert sum_amounts(Transaction.objects.filter(wallet=alice.wallet)) == expected


def test_only_the_digits_the_largest_magnitude_needs_are_summed():
    from wallets import sums

    # All 38 digits: the chunks the sum always used before it read the bounds.
    assert sums.chunks(38, 13) == [(1, 12), (13, 13), (26, 13)]
    assert sums.chunks(38, 7) == [(1, 3), (4, 7), (11, 7), (18, 7), (25, 7), (32, 7)]
    # Under a million units with 18 decimals: 24 digits, two chunks.
    assert sums.significant_digits(Decimal("-999999.5"), Decimal("12.25")) == 24
    assert sums.chunks(24, 13) == [(15, 11), (26, 13)]
    assert sums.significant_digits(Decimal(0), Decimal(0)) == 1
    assert sums.chunks(1, 13) == [(38, 1)]


def test_a_sum_too_large_for_the_fast_chunks_is_still_exact(alice, monkeypatch):
    """Chunks that overflow SQLite's integers fall back to smaller ones."""
    from wallets import sums

    # 18-digit chunks: one row fits a 64-bit integer, twelve such rows do not.
    monkeypatch.setattr(sums, "CHUNK_WIDTH", 18)
    widths = []
    real_chunks = sums.chunks
    monkeypatch.setattr(sums, "chunks", lambda s, w: widths.append(w) or real_chunks(s, w))
    amounts = [Decimal("-0.1")] * 12  # each row's 18 summed digits: 899…9, complemented
    make_rows(alice.wallet, amounts)
    with localcontext(Context(prec=80)):
        expected = sum(amounts)
    assert sum_amounts(Transaction.objects.filter(wallet=alice.wallet)) == expected
    if connection.vendor == "sqlite":
        assert widths == [18, sums.SMALL_CHUNK_WIDTH]
