"""The engine's errors.

An exception means "nothing happened": the operation that raised it wrote
nothing. Every one is a :class:`WalletError` with a clear message and a
:class:`ErrorCode`, so callers branch on ``error.code`` and never on the text.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    WALLET_ERROR = "wallet_error"
    AMOUNT_INVALID = "amount_invalid"
    INSUFFICIENT_FUNDS = "insufficient_funds"
    WALLET_FROZEN = "wallet_frozen"
    WALLET_NOT_FOUND = "wallet_not_found"
    WALLET_EXISTS = "wallet_exists"
    WALLET_INVALID = "wallet_invalid"
    ALREADY_FROZEN = "already_frozen"
    NOT_FROZEN = "not_frozen"
    PRODUCT_NOT_AVAILABLE = "product_not_available"
    UNIT_MISMATCH = "unit_mismatch"
    SAME_WALLET = "same_wallet"
    EXCHANGE_RATE_UNAVAILABLE = "exchange_rate_unavailable"
    EXCHANGE_RATE_CHANGED = "exchange_rate_changed"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    TRANSACTION_NOT_PENDING = "transaction_not_pending"
    TRANSACTION_EXPIRED = "transaction_expired"
    TRANSACTION_HELD = "transaction_held"
    TRANSACTION_NOT_REVERSIBLE = "transaction_not_reversible"
    ALREADY_REVERSED = "already_reversed"
    TRANSFER_NOT_REFUNDABLE = "transfer_not_refundable"
    ALREADY_REFUNDED = "already_refunded"
    REFUND_EXCEEDS_TRANSFER = "refund_exceeds_transfer"
    RISK_LIMIT_EXCEEDED = "risk_limit_exceeded"
    HOLD_NOT_OPEN = "hold_not_open"
    REASON_REQUIRED = "reason_required"
    TEXT_INVALID = "text_invalid"
    FEE_CONFIGURATION = "fee_configuration"
    FEE_NOT_SUPPORTED = "fee_not_supported"


class WalletError(Exception):
    """Base class of every error the wallet engine raises on purpose."""

    default_message = "The wallet operation failed."
    # An ErrorCode for the engine's errors; layers above may use codes of their own.
    code: str = ErrorCode.WALLET_ERROR

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message or self.default_message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class AmountInvalid(WalletError, ValueError):
    default_message = "The amount is not valid."
    code = ErrorCode.AMOUNT_INVALID


class TextInvalid(WalletError, ValueError):
    default_message = "The text cannot be stored."
    code = ErrorCode.TEXT_INVALID


class InsufficientFunds(WalletError):
    default_message = "Insufficient funds."
    code = ErrorCode.INSUFFICIENT_FUNDS


class WalletFrozen(WalletError):
    """Names the frozen wallet (``wallet``), so a caller can tell whose it is."""

    default_message = "The wallet is frozen."
    code = ErrorCode.WALLET_FROZEN

    def __init__(self, message: str | None = None, *, wallet: Any = None) -> None:
        super().__init__(message)
        self.wallet = wallet


class WalletNotFound(WalletError, LookupError):
    default_message = "No such wallet."
    code = ErrorCode.WALLET_NOT_FOUND


class WalletInvalid(WalletError, ValueError):
    """A wallet's slug, unit, name or places that cannot be used."""

    default_message = "The wallet's details are not valid."
    code = ErrorCode.WALLET_INVALID


class WalletAlreadyExists(WalletError):
    default_message = "A wallet with that slug already exists."
    code = ErrorCode.WALLET_EXISTS


class WalletAlreadyFrozen(WalletError):
    default_message = "The wallet is already frozen."
    code = ErrorCode.ALREADY_FROZEN


class WalletNotFrozen(WalletError):
    default_message = "The wallet is not frozen."
    code = ErrorCode.NOT_FROZEN


class ProductNotAvailable(WalletError):
    """``product`` is the product refused, when there is one."""

    default_message = "The product is not available."
    code = ErrorCode.PRODUCT_NOT_AVAILABLE

    def __init__(self, message: str | None = None, *, product: Any = None) -> None:
        super().__init__(message)
        self.product = product


class UnitMismatch(WalletError):
    default_message = "The wallets hold different units."
    code = ErrorCode.UNIT_MISMATCH


class SameWallet(WalletError):
    default_message = "The source and the destination are the same wallet."
    code = ErrorCode.SAME_WALLET


class ExchangeRateUnavailable(WalletError):
    default_message = "No exchange rate is configured between these units."
    code = ErrorCode.EXCHANGE_RATE_UNAVAILABLE


class ExchangeRateChanged(WalletError):
    default_message = "The exchange rate changed since it was quoted."
    code = ErrorCode.EXCHANGE_RATE_CHANGED


class IdempotencyConflict(WalletError):
    default_message = "This idempotency key was already used with different arguments."
    code = ErrorCode.IDEMPOTENCY_CONFLICT


class TransactionNotPending(WalletError):
    default_message = "The transaction is not pending."
    code = ErrorCode.TRANSACTION_NOT_PENDING


class TransactionExpired(TransactionNotPending):
    default_message = "The pending transaction has expired."
    code = ErrorCode.TRANSACTION_EXPIRED


class TransactionHeld(WalletError):
    """The pending withdrawal reserves a transfer held for review: resolve the hold."""

    default_message = "The transaction reserves a transfer held for review; decide the hold."
    code = ErrorCode.TRANSACTION_HELD


class TransactionNotReversible(WalletError):
    default_message = "The transaction cannot be reversed."
    code = ErrorCode.TRANSACTION_NOT_REVERSIBLE


class AlreadyReversed(TransactionNotReversible):
    default_message = "The transaction has already been reversed."
    code = ErrorCode.ALREADY_REVERSED


class TransferNotRefundable(WalletError):
    default_message = "The transfer cannot be refunded."
    code = ErrorCode.TRANSFER_NOT_REFUNDABLE


class AlreadyRefunded(TransferNotRefundable):
    default_message = "The transfer has already been refunded in full."
    code = ErrorCode.ALREADY_REFUNDED


class RefundExceedsTransfer(TransferNotRefundable):
    default_message = "The refund is larger than what is left of the transfer."
    code = ErrorCode.REFUND_EXCEEDS_TRANSFER


class RiskLimitExceeded(WalletError):
    default_message = "The transfer is over a limit of this wallet."
    code = ErrorCode.RISK_LIMIT_EXCEEDED


class HoldNotOpen(WalletError):
    default_message = "The held transfer has already been decided."
    code = ErrorCode.HOLD_NOT_OPEN


class ReasonRequired(WalletError):
    default_message = "Give a reason: it is recorded in the audit log."
    code = ErrorCode.REASON_REQUIRED


class FeeConfigurationError(WalletError):
    """A fee policy applies but its fee wallet is missing or holds another unit."""

    default_message = "The fee policy is not configured correctly."
    code = ErrorCode.FEE_CONFIGURATION


class FeeNotSupported(WalletError):
    """A fee policy applies to an operation that cannot charge fees (bulk, pending)."""

    default_message = "A fee applies to this operation, which cannot charge fees."
    code = ErrorCode.FEE_NOT_SUPPORTED


class BulkItemFailed(WalletError):
    """One item of a bulk operation was refused, so nothing of it was done.

    ``index`` is the item's position (from 0), ``error`` its own error; the
    code is that error's code."""

    default_message = "An item of the bulk operation was refused."

    def __init__(self, index: int, error: WalletError) -> None:
        super().__init__(f"Item {index}: {error.message}", code=error.code)
        self.index = index
        self.error = error
