"""Portal-level orchestration on top of the wallet engine's public API.

The engine owns every check that protects money (amounts, freezes, funds, units, risk
rules) and runs it again under its locks; the portal adds only its own rules on top:

- Opening a wallet refuses a taken slug (``WalletService.open_wallet``); the portal only
  words the refusal for the person asking.
- Transfers have a review step. ``route_transfer`` applies the portal's rules (the
  recipient is an account, not yourself, and which of the recipient's wallets takes the
  unit); ``plan_transfer`` adds the engine's ``preview`` (which never writes) to show the
  balance after, and whether the transfer will be held for review. ``execute_transfer``
  then calls the engine, which returns the transfer or, when a risk rule holds it, the
  ``TransferHold`` reserving the amount.
- Exchanges are quoted with ``ExchangeService.quote`` and confirmed at the quoted rate only.
- Top-up and payout requests are pending deposits and withdrawals; a holder may cancel a
  pending withdrawal (``reject_transaction`` with state ``canceled``), which also cancels
  the held transfer it reserves, if any.

A sender only ever learns about their own wallet's freeze, in the words meant for the
holder (``WalletFrozen`` names the frozen wallet, so no message text is compared).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.utils.text import slugify

from portal.models import User
from portal.ops.metrics import count_wallet_failures
from wallets import conf as wallets_conf
from wallets.amounts import exact
from wallets.exceptions import (
    SameWallet,
    UnitMismatch,
    WalletAlreadyExists,
    WalletError,
    WalletFrozen,
)
from wallets.models import TransferHold
from wallets.services import exchange_service, transfer_service, wallet_service
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()


def open_wallet(
    holder: Any,
    *,
    name: str,
    unit: str,
    slug: str | None = None,
    decimal_places: int | None = None,
) -> Wallet:
    """A new wallet for ``holder``. The engine's terms default from what people choose: the
    slug from the name (made unique among the holder's wallets), the decimal places from
    the unit. The engine refuses a slug the holder already uses (one typed by hand)."""
    from portal.selectors import unit_decimal_places

    chosen_slug = slug or _first_default(holder, unit) or unique_slug(holder, name)
    places = unit_decimal_places(unit) if decimal_places is None else decimal_places
    try:
        return wallet_service().open_wallet(
            holder, chosen_slug, name=name, unit=unit, decimal_places=places
        )
    except WalletAlreadyExists as error:
        # The engine names the holder by its model; the person asking is "you".
        who = "You already have" if isinstance(holder, User) else f"{holder} already has"
        raise WalletAlreadyExists(
            f"{who} a wallet with the short name '{chosen_slug}'. Choose another one."
        ) from error


def _first_default(holder: Any, unit: str) -> str | None:
    """A holder's first wallet in the default unit becomes their default wallet (the one
    transfers to them arrive in), whatever it is called."""
    default_slug = wallets_conf.get("DEFAULT_SLUG")
    if unit == wallets_conf.get("DEFAULT_UNIT") and not holder.has_wallet(default_slug):
        return default_slug
    return None


def unique_slug(holder: Any, name: str) -> str:
    """A slug for a new wallet made from its name: "Travel fund" → "travel-fund", then
    "travel-fund-2" if the holder already has that one."""
    base = slugify(name)[:56] or "wallet"
    taken = set(holder.get_wallets().values_list("slug", flat=True))
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


class RecipientNotFound(WalletError):
    default_message = "No account matches that email or username."
    code = "recipient_not_found"


class TransferToSelf(SameWallet):
    default_message = (
        "You cannot send money to yourself. Use Exchange to move between your wallets."
    )
    code = "transfer_to_self"


class RecipientUnavailable(WalletError):
    default_message = "The recipient cannot receive money right now."
    code = "recipient_unavailable"


@dataclass(frozen=True)
class TransferRoute:
    """Where a transfer goes, by the portal's rules; no engine check has run yet."""

    source: Wallet
    recipient: User
    destination: Wallet | None  # None: the recipient's default wallet opens on arrival

    @property
    def target(self) -> Wallet | User:
        """What the engine is given: the chosen wallet, or the recipient (default wallet)."""
        return self.destination or self.recipient


@dataclass(frozen=True)
class TransferPlan:
    """What a transfer would do, shown on the review step before any money moves."""

    route: TransferRoute
    amount: Decimal
    available_after: Decimal
    balance_after: Decimal
    needs_reauthentication: bool
    # A risk rule will hold it: the amount is reserved until staff decide.
    held_for_review: bool
    # A fee policy's fee (wallets.fees): on top of the amount, or deducted from
    # what the recipient gets; ``total`` is what leaves the source.
    fee: Decimal = Decimal(0)
    fee_deducted: bool = False
    total: Decimal | None = None
    received: Decimal | None = None

    @property
    def source(self) -> Wallet:
        return self.route.source

    @property
    def recipient(self) -> User:
        return self.route.recipient


# Each lookup answers "does this address have an account?"; cap how fast anyone can ask.
RECIPIENT_LOOKUPS_PER_MINUTE = 30


def recipient_lookup_allowed(user: User) -> bool:
    key = f"portal:recipient-lookups:{user.pk}"
    cache.add(key, 0, timeout=60)
    try:
        return cache.incr(key) <= RECIPIENT_LOOKUPS_PER_MINUTE
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        return True


def recipient_wallet(recipient: User, unit: str) -> Wallet | None:
    """The recipient's wallet for ``unit``: the default one if it matches, else the oldest."""
    candidates = recipient.get_wallets().filter(unit=unit)
    default_slug = wallets_conf.get("DEFAULT_SLUG")
    return candidates.filter(slug=default_slug).first() or candidates.first()


def needs_reauthentication(unit: str, amount: Decimal) -> bool:
    """Large transfers ask for the password again (``PORTAL_REAUTH_THRESHOLD``, per unit)."""
    thresholds = getattr(settings, "PORTAL_REAUTH_THRESHOLD", {}) or {}
    limit = thresholds.get(unit, thresholds.get("*"))
    return limit is not None and amount >= Decimal(str(limit))


def route_transfer(source: Wallet, sender: User, recipient: User | None) -> TransferRoute:
    """The portal's own rules: a known recipient, not yourself, a wallet in the unit."""
    if recipient is None:
        raise RecipientNotFound()
    own_wallet = source.holder_type_id == _user_type_id() and source.holder_id == str(sender.pk)
    if recipient.pk == sender.pk and own_wallet:
        raise TransferToSelf()
    destination = recipient_wallet(recipient, source.unit)
    if destination is None and (
        source.unit != wallets_conf.get("DEFAULT_UNIT")
        or recipient.has_wallet(wallets_conf.get("DEFAULT_SLUG"))
    ):
        # Say which unit is missing, never which units the recipient does hold.
        raise UnitMismatch(f"The recipient has no {source.unit} wallet.")
    if destination is not None and destination.pk == source.pk:
        raise TransferToSelf()
    return TransferRoute(source=source, recipient=recipient, destination=destination)


@exact
def plan_transfer(
    source: Wallet, sender: User, recipient: User | None, amount: Any
) -> TransferPlan:
    """Check a transfer without moving money: the portal's rules, then the engine's preview.

    Raises what the transfer would raise now; the transfer checks again under its locks.
    """
    route = route_transfer(source, sender, recipient)
    with _as_sender(source):
        quote = transfer_service().preview(source, route.target, amount)
    return TransferPlan(
        route=route,
        amount=quote.amount,
        available_after=quote.available_after,
        balance_after=quote.balance_after,
        needs_reauthentication=needs_reauthentication(source.unit, quote.amount),
        held_for_review=quote.review is not None,
        fee=quote.fee,
        fee_deducted=quote.fee_deducted,
        total=quote.total,
        received=quote.received,
    )


def execute_transfer(
    source: Wallet,
    sender: User,
    recipient: User | None,
    amount: Decimal,
    *,
    note: str,
    idempotency_key: str,
) -> Transfer | TransferHold:
    """Move the money through the engine (once per idempotency key).

    Returns the transfer, or the hold when a risk rule keeps it for review. No preview
    runs first: a resubmitted form must reach the engine, which answers a repeated key
    with the first result before it looks at funds or freezes (which that result changed).
    """
    route = route_transfer(source, sender, recipient)
    meta = {"note": note} if note else {}
    if source.holder_type_id != _user_type_id():
        meta["initiated_by"] = sender.username
    with count_wallet_failures("transfer"), _as_sender(route.source):
        return transfer_service().transfer(
            route.source, route.target, amount, meta=meta, idempotency_key=idempotency_key
        )


@contextmanager
def _as_sender(source: Wallet) -> Iterator[None]:
    """A freeze of the sender's own wallet is theirs to read; any other one is not."""
    try:
        yield
    except WalletFrozen as error:
        frozen = error.wallet
        if frozen is not None and frozen.pk == source.pk:
            raise
        raise RecipientUnavailable() from None


def _user_type_id() -> int:
    return ContentType.objects.get_for_model(User).pk


def request_top_up(
    wallet: Wallet, amount: Any, *, reference: str, requested_by: User, idempotency_key: str
) -> Transaction:
    """A pending deposit: nothing is credited until staff confirm the payment arrived."""
    meta = {"reference": reference, "request": "top-up", "requested_by": requested_by.username}
    with count_wallet_failures("top-up"):
        return wallet_service().deposit(
            wallet, amount, meta=meta, confirmed=False, idempotency_key=idempotency_key
        )


def request_payout(
    wallet: Wallet, amount: Any, *, reference: str, requested_by: User, idempotency_key: str
) -> Transaction:
    """A pending withdrawal: the amount is held at once and leaves when staff pay it out."""
    meta = {"reference": reference, "request": "payout", "requested_by": requested_by.username}
    with count_wallet_failures("payout"):
        return wallet_service().withdraw(
            wallet, amount, meta=meta, confirmed=False, idempotency_key=idempotency_key
        )


class NotCancelable(WalletError):
    default_message = "Only a pending withdrawal can be canceled."
    code = "not_cancelable"


def cancel_pending_withdrawal(tx: Transaction, *, canceled_by: User) -> Transaction:
    """Release a pending withdrawal's hold; a held transfer it reserves is canceled with it."""
    if tx.type != Transaction.Type.WITHDRAW or not tx.is_pending:
        raise NotCancelable()
    return wallet_service().reject_transaction(
        tx, reason=f"Canceled by {canceled_by.username}", state=Transaction.State.CANCELED
    )


@dataclass(frozen=True)
class ExchangeQuote:
    source: Wallet
    destination: Wallet
    amount: Decimal
    rate: Decimal
    received: Decimal

    @property
    def available_after(self) -> Decimal:
        """What the source could still spend once exchanged (its credit included)."""
        return self.source.available - self.amount


def quote_exchange(source: Wallet, destination: Wallet, amount: Any) -> ExchangeQuote:
    """The engine's quote: rate, result, and the freeze and funds checks of the exchange."""
    value, rate, received = exchange_service().quote(source, destination, amount)
    return ExchangeQuote(source, destination, value, rate, received)


def execute_exchange(
    source: Wallet,
    destination: Wallet,
    amount: Decimal,
    *,
    quoted_rate: Decimal | None,
    idempotency_key: str,
) -> Transfer:
    with count_wallet_failures("exchange"):
        # The engine compares the rate under its locks, after the key: a
        # resubmitted form gets its first exchange back even if the rate moved.
        return exchange_service().exchange(
            source.holder,
            source.slug,
            destination.slug,
            amount,
            idempotency_key=idempotency_key,
            expected_rate=quoted_rate,
        )
