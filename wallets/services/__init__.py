"""The engine's operations. Import the classes from here; resolve the configured
ones (``WALLETS["..._SERVICE_CLASS"]``) with the ``*_service()`` functions.

Every method that changes money or wallet state is one operation of
:mod:`wallets.operations`: it owns its transaction, locks, idempotency key,
audit entry (when given a ``StaffActor``) and after-commit signals."""

from wallets import conf
from wallets.services.exchange import ExchangeService
from wallets.services.purchase import PurchaseService
from wallets.services.transfer import TransferQuote, TransferService
from wallets.services.wallet import WalletService

__all__ = [
    "ExchangeService",
    "PurchaseService",
    "TransferQuote",
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
