"""The engine's errors. Every one is a :class:`WalletError` with a clear message."""

from __future__ import annotations


class WalletError(Exception):
    """Base class of every error the wallet engine raises on purpose."""

    default_message = "The wallet operation failed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self)


class AmountInvalid(WalletError, ValueError):
    default_message = "The amount is not valid."


class InsufficientFunds(WalletError):
    default_message = "Insufficient funds."


class WalletFrozen(WalletError):
    default_message = "The wallet is frozen."


class WalletNotFound(WalletError, LookupError):
    default_message = "No such wallet."


class ProductNotAvailable(WalletError):
    default_message = "The product is not available."


class UnitMismatch(WalletError):
    default_message = "The wallets hold different units."


class SameWallet(WalletError):
    default_message = "The source and the destination are the same wallet."


class ExchangeRateUnavailable(WalletError):
    default_message = "No exchange rate is configured between these units."


class IdempotencyConflict(WalletError):
    default_message = "This idempotency key was already used with different arguments."


class TransactionNotPending(WalletError):
    default_message = "The transaction is not pending."


class TransactionExpired(TransactionNotPending):
    default_message = "The pending transaction has expired."


class TransactionNotReversible(WalletError):
    default_message = "The transaction cannot be reversed."


class AlreadyReversed(TransactionNotReversible):
    default_message = "The transaction has already been reversed."


class TransferNotRefundable(WalletError):
    default_message = "The transfer cannot be refunded."


class AlreadyRefunded(TransferNotRefundable):
    default_message = "The transfer has already been refunded in full."


class RefundExceedsTransfer(TransferNotRefundable):
    default_message = "The refund is larger than what is left of the transfer."
