"""Each WALLETS setting that names a class or a default really takes effect."""

from decimal import Decimal

import pytest

from wallets.mixins import WalletMixin, get_wallet_mixin
from wallets.services import (
    ExchangeService,
    PurchaseService,
    TransferService,
    WalletService,
    exchange_service,
    purchase_service,
    transfer_service,
    wallet_service,
)

pytestmark = pytest.mark.django_db
calls = []


class CountingWalletService(WalletService):
    @classmethod
    def deposit(cls, wallet, amount, **kwargs):
        calls.append(("deposit", amount))
        return super().deposit(wallet, amount, **kwargs)


class CountingTransferService(TransferService):
    @classmethod
    def transfer(cls, from_wallet, to, amount, **kwargs):
        calls.append(("transfer", amount))
        return super().transfer(from_wallet, to, amount, **kwargs)


class CountingExchangeService(ExchangeService):
    @classmethod
    def exchange(cls, holder, from_slug, to_slug, amount, **kwargs):
        calls.append(("exchange", amount))
        return super().exchange(holder, from_slug, to_slug, amount, **kwargs)


class CountingPurchaseService(PurchaseService):
    @classmethod
    def pay(cls, payer, product, **kwargs):
        calls.append(("pay", product))
        return super().pay(payer, product, **kwargs)


class LoudMixin(WalletMixin):
    pass


@pytest.fixture
def overridden(settings):
    calls.clear()
    settings.WALLETS = {
        **settings.WALLETS,
        "WALLET_SERVICE_CLASS": f"{__name__}.CountingWalletService",
        "TRANSFER_SERVICE_CLASS": f"{__name__}.CountingTransferService",
        "EXCHANGE_SERVICE_CLASS": f"{__name__}.CountingExchangeService",
        "PURCHASE_SERVICE_CLASS": CountingPurchaseService,
        "WALLET_MIXIN_CLASS": f"{__name__}.LoudMixin",
        "EXCHANGE_RATES": {"USD:EUR": "0.5"},
    }
    return calls


def test_service_classes_are_used_by_holder_and_wallet_methods(alice, bob, item, overridden):
    assert wallet_service() is CountingWalletService
    assert transfer_service() is CountingTransferService
    assert exchange_service() is CountingExchangeService
    assert purchase_service() is CountingPurchaseService
    alice.deposit(50)
    alice.wallet.deposit(50)
    alice.transfer(bob, 10)
    alice.get_wallet("eur", unit="EUR")
    alice.exchange("default", "eur", 10)
    alice.pay(item)
    assert [c[0] for c in overridden] == ["deposit", "deposit", "transfer", "exchange", "pay"]


def test_gift_goes_through_the_configured_purchase_service(alice, bob, item, overridden):
    alice.deposit(10)
    alice.gift(bob, item)
    assert ("pay", item) in overridden


def test_wallet_mixin_class(overridden):
    assert get_wallet_mixin() is LoudMixin


def test_default_mixin_class():
    assert get_wallet_mixin() is WalletMixin


def test_default_slug_unit_and_decimal_places(alice, settings):
    settings.WALLETS = {
        **settings.WALLETS,
        "DEFAULT_SLUG": "main",
        "DEFAULT_UNIT": "PTS",
        "DEFAULT_DECIMAL_PLACES": 0,
    }
    alice.deposit(7)
    wallet = alice.get_wallets().get()
    assert (wallet.slug, wallet.unit, wallet.decimal_places) == ("main", "PTS", 0)
    assert alice.balance == Decimal(7)


def test_decimal_places_are_bounded(alice):
    from wallets.exceptions import AmountInvalid

    with pytest.raises(AmountInvalid):
        alice.get_wallet("x", decimal_places=9)
    assert alice.get_wallet("y", decimal_places=8).decimal_places == 8
