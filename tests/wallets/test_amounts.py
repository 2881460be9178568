from decimal import Context, Decimal, getcontext, localcontext

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallets.amounts import exact
from wallets.exceptions import AmountInvalid
from wallets.fields import MONEY_CONTEXT, decode_sortable, encode_sortable
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

BAD_AMOUNTS = [
    0,
    "0",
    -1,
    "-0.01",
    Decimal("NaN"),
    float("nan"),
    float("inf"),
    Decimal("-Infinity"),
    "abc",
    "",
    None,
    True,
    [1],
    "1e400000",
]


@pytest.mark.django_db
def test_float_goes_through_its_decimal_string(alice):
    for _ in range(3):
        alice.deposit(0.1)
    assert alice.balance == Decimal("0.3")
    assert str(alice.balance) == "0.3"


@pytest.mark.django_db
@pytest.mark.parametrize("amount", BAD_AMOUNTS)
def test_bad_amounts_raise_and_write_nothing(alice, amount):
    wallet = alice.wallet
    with pytest.raises(AmountInvalid):
        alice.deposit(amount)
    with pytest.raises(AmountInvalid):
        alice.withdraw(amount)
    assert Transaction.objects.count() == 0
    wallet.refresh_from_db()
    assert wallet.balance == 0


@pytest.mark.django_db
def test_more_decimal_places_than_the_wallet_allows(alice):
    with pytest.raises(AmountInvalid, match="decimal places"):
        alice.deposit("1.005")
    points = alice.get_wallet("points", unit="PTS", decimal_places=0)
    with pytest.raises(AmountInvalid):
        points.deposit("1.5")
    points.deposit("2.0")  # trailing zeros are not extra precision
    assert points.balance == 2
    assert Transaction.objects.count() == 1


@pytest.mark.django_db
def test_balances_above_ten_to_the_fifteen_stay_exact(alice, bob):
    alice.deposit("12345678901234567.89")
    alice.deposit("0.01")
    alice.transfer(bob, "2345678901234567.85")
    assert alice.balance == Decimal("10000000000000000.05")
    assert bob.balance == Decimal("2345678901234567.85")
    fresh = Wallet.objects.get(pk=alice.wallet.pk)
    assert fresh.balance == Decimal("10000000000000000.05")


@pytest.mark.django_db
def test_amount_columns_filter_and_sort_numerically(alice):
    for amount in ["9", "10", "100.5", "0.75", "99999999999999999.99"]:
        alice.deposit(amount)
    alice.force_withdraw("200000000000000000")
    amounts = list(Transaction.objects.order_by("amount").values_list("amount", flat=True))
    assert amounts == sorted(amounts)
    assert amounts[0] == Decimal("-200000000000000000")
    big = Transaction.objects.filter(amount__gte=Decimal("10")).values_list("amount", flat=True)
    assert sorted(big) == [Decimal("10"), Decimal("100.5"), Decimal("99999999999999999.99")]
    assert Transaction.objects.filter(amount__lt=0).count() == 1


@given(st.decimals(min_value=Decimal("-1e19"), max_value=Decimal("1e19"), places=8))
def test_sortable_encoding_round_trips(value):
    assert decode_sortable(encode_sortable(value)) == value


@given(
    st.decimals(min_value=Decimal("-1e19"), max_value=Decimal("1e19"), places=8),
    st.decimals(min_value=Decimal("-1e19"), max_value=Decimal("1e19"), places=8),
)
def test_sortable_encoding_preserves_order(a, b):
    assert (encode_sortable(a) < encode_sortable(b)) == (a < b)


def test_exact_arithmetic_whatever_context_the_caller_runs_in():
    @exact
    def total(a, b):
        return a + b, getcontext()

    big, cent = Decimal("12345678901234567890123456789"), Decimal("0.01")
    with localcontext(Context(prec=6)):  # the caller's narrow context is widened
        result, inside = total(big, cent)
        assert result == Decimal("12345678901234567890123456789.01")
        assert inside.prec == MONEY_CONTEXT.prec and getcontext().prec == 6
    with localcontext(MONEY_CONTEXT) as outer:  # an outer exact call's context is kept
        assert total(big, cent)[1] is outer
