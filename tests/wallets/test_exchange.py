from decimal import Decimal

import pytest

from wallets.exceptions import (
    AmountInvalid,
    ExchangeRateUnavailable,
    InsufficientFunds,
    SameWallet,
    WalletNotFound,
)
from wallets.rates import RateProvider
from wallets.services import ExchangeService
from wallets.swappable import get_transaction_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db


@pytest.fixture
def wallets(alice, settings):
    settings.WALLETS = {
        **settings.WALLETS,
        "EXCHANGE_RATES": {("USD", "EUR"): "0.92", "USD:PTS": "100"},
    }
    alice.deposit(100)
    return alice.get_wallet("eur", unit="EUR"), alice.get_wallet(
        "points", unit="PTS", decimal_places=0
    )


def test_exchange_at_the_configured_rate(alice, wallets):
    euros, points = wallets
    transfer = alice.exchange("default", "eur", "10.00")
    assert transfer.rate == Decimal("0.92") and transfer.received == Decimal("9.20")
    assert alice.balance == 90
    assert Wallet.objects.get(pk=euros.pk).balance == Decimal("9.2")
    alice.exchange("default", "points", "1.23")
    assert Wallet.objects.get(pk=points.pk).balance == 123


def test_the_inverse_rate_is_used_when_only_one_direction_is_set(alice, wallets):
    alice.exchange("default", "points", 1)
    transfer = alice.exchange("points", "default", 50)
    assert transfer.received == Decimal("0.50")


def test_results_round_down_so_no_value_is_created(alice, wallets):
    transfer = alice.exchange("default", "eur", "0.99")  # 0.9108 EUR
    assert transfer.received == Decimal("0.91")
    with pytest.raises(AmountInvalid, match="too small"):
        alice.exchange("default", "eur", "0.01")  # 0.0092 EUR buys no cent


def test_refusals(alice, wallets):
    with pytest.raises(SameWallet):
        alice.exchange("eur", "eur", 1)
    with pytest.raises(WalletNotFound):
        alice.exchange("nope", "default", 1)
    with pytest.raises(ExchangeRateUnavailable):  # no USD -> NOPE rate: nothing opens
        alice.exchange("default", "nope", 1)
    assert not alice.has_wallet("nope")
    with pytest.raises(InsufficientFunds):
        alice.exchange("default", "eur", "100.01")
    alice.get_wallet("gems", unit="GEM")
    with pytest.raises(ExchangeRateUnavailable):
        alice.exchange("default", "gems", 1)
    with pytest.raises(AmountInvalid, match="decimal places"):
        alice.exchange("default", "points", "0.001")
    assert alice.balance == 100
    assert Transaction.objects.count() == 1


def test_quote_moves_nothing(alice, wallets):
    euros, _ = wallets
    amount, rate, received = ExchangeService.quote(alice.wallet, euros, "3.33")
    assert (amount, rate, received) == (Decimal("3.33"), Decimal("0.92"), Decimal("3.06"))
    assert Transaction.objects.count() == 1


class FixedRates(RateProvider):
    def get_rate(self, from_unit, to_unit):
        return Decimal("2")


def test_a_rate_provider_class_replaces_the_table(alice, wallets, settings):
    settings.WALLETS = {**settings.WALLETS, "RATE_PROVIDER_CLASS": FixedRates}
    transfer = alice.exchange("default", "eur", 5)
    assert transfer.received == 10


def test_a_quoted_rate_is_checked_under_the_lock_and_a_retry_replays(alice, wallets, settings):
    from wallets.exceptions import ExchangeRateChanged

    first = ExchangeService.exchange(
        alice, "default", "eur", 5, idempotency_key="x-1", expected_rate=Decimal("0.92")
    )
    # The funds are spent and the rate moves: the same request still gets its first result.
    alice.withdraw(alice.balance)
    settings.WALLETS = {**settings.WALLETS, "EXCHANGE_RATES": {("USD", "EUR"): "0.95"}}
    again = ExchangeService.exchange(
        alice, "default", "eur", 5, idempotency_key="x-1", expected_rate=Decimal("0.92")
    )
    assert again.pk == first.pk
    before = alice.balance
    with pytest.raises(ExchangeRateChanged):
        ExchangeService.exchange(alice, "default", "eur", 5, expected_rate=Decimal("0.92"))
    assert alice.balance == before


def test_exchange_opens_a_missing_destination_in_the_slugs_unit(alice, wallets):
    transfer = alice.exchange("default", "pts", "1.50")
    points = alice.get_wallet("pts")
    assert (points.unit, points.decimal_places) == ("PTS", 2)
    assert transfer.to_wallet == points and transfer.received == Decimal("150.00")


def test_exchange_opens_the_destination_with_the_fields_given(alice, wallets):
    transfer = alice.exchange("default", "savings", 3, unit="eur", name="Euro savings")
    savings = alice.get_wallet("savings")
    assert (savings.unit, savings.name) == ("EUR", "Euro savings")
    assert transfer.received == Decimal("2.76")


def test_a_refused_exchange_opens_nothing(alice, wallets):
    with pytest.raises(InsufficientFunds):
        alice.exchange("default", "pts", "1000")
    with pytest.raises(AmountInvalid):
        alice.exchange("default", "pts", "0.001")
    assert not alice.has_wallet("pts")
