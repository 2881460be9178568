"""The engine's writers. Import the classes from here; resolve the configured
ones (``WALLETS["..._SERVICE_CLASS"]``) with the ``*_service()`` functions."""

from wallets import conf
from wallets.services.exchange import ExchangeService
from wallets.services.purchase import PurchaseService
from wallets.services.transfer import TransferService
from wallets.services.wallet import WalletService

__all__ = [
    "ExchangeService",
    "PurchaseService",
    "TransferService",
    "WalletService",
    "exchange_service",
    "purchase_service",
    "transfer_service",
    "wallet_service",
]


def wallet_service() -> type[WalletService]:
    return conf.get_class("WALLET_SERVICE_CLASS")


def transfer_service() -> type[TransferService]:
    return conf.get_class("TRANSFER_SERVICE_CLASS")


def exchange_service() -> type[ExchangeService]:
    return conf.get_class("EXCHANGE_SERVICE_CLASS")


def purchase_service() -> type[PurchaseService]:
    return conf.get_class("PURCHASE_SERVICE_CLASS")
