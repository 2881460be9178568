"""Portal-level orchestration on top of the wallet engine's public API.

- The engine's ``get_wallet`` is get-or-create; the portal needs "open a new wallet, and
  refuse if that slug is taken", so that refusal lives here.
- Transfers have a review step: ``plan_transfer`` runs the checks the engine will run
  (amount, frozen, funds, units, self) without moving money, so the review can show the
  balance after; ``execute_transfer`` then calls the engine, which checks again under lock.
  The engine has no dry-run call, so the plan reuses its amount parser and its frozen and
  funds checks (``wallets.amounts``, ``wallets.ledger``) to give the same messages.
- Exchanges are quoted with ``ExchangeService.quote`` and confirmed at the quoted rate only.
- Top-up and payout requests are pending deposits and withdrawals; a holder may cancel a
  pending withdrawal (``reject_transaction`` with state ``canceled``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache

from portal.models import User
from portal.ops.metrics import count_wallet_failures
from wallets import conf as wallets_conf
from wallets.amounts import exact, parse_amount
from wallets.exceptions import SameWallet, UnitMismatch, WalletError, WalletFrozen
from wallets.ledger import ensure_active, ensure_available
from wallets.models import Transaction, Transfer, Wallet
from wallets.services import exchange_service, transfer_service, wallet_service


class WalletAlreadyExists(WalletError):
    default_message = "A wallet with that slug already exists."


def open_wallet(holder: Any, *, slug: str, name: str, unit: str, decimal_places: int) -> Wallet:
    if holder.has_wallet(slug):
        raise WalletAlreadyExists(f"You already have a wallet with the slug '{slug}'.")
    return holder.get_wallet(slug, name=name, unit=unit, decimal_places=decimal_places)


@dataclass(frozen=True)
class TransferPlan:
    """What a transfer would do, shown on the review step before any money moves."""

    source: Wallet
    recipient: User
    destination: Wallet | None  # None: the recipient's default wallet opens on arrival
    amount: Decimal
    available_after: Decimal
    balance_after: Decimal
    needs_reauthentication: bool


class RecipientNotFound(WalletError):
    default_message = "No account matches that email or username."


class TransferToSelf(SameWallet):
    default_message = (
        "You cannot send money to yourself. Use Exchange to move between your wallets."
    )


class RecipientUnavailable(WalletError):
    default_message = "The recipient cannot receive money right now."


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


@exact
def plan_transfer(
    source: Wallet,
    sender: User,
    recipient: User | None,
    amount: Any,
    *,
    check_balance: bool = True,
) -> TransferPlan:
    """Check a transfer as far as possible without moving money; raise the engine's errors.

    On confirmation ``check_balance`` is off: a resubmitted form must reach the engine,
    which answers a repeated idempotency key with the first transfer before it looks at
    funds or freezes (which the first transfer changed).
    """
    if recipient is None:
        raise RecipientNotFound()
    if (
        recipient.pk == sender.pk
        and source.holder_type_id == _user_type_id()
        and (source.holder_id == str(sender.pk))
    ):
        raise TransferToSelf()
    destination = recipient_wallet(recipient, source.unit)
    if destination is None and source.unit != wallets_conf.get("DEFAULT_UNIT"):
        raise UnitMismatch(f"The recipient has no {source.unit} wallet.")
    if destination is not None and destination.pk == source.pk:
        raise TransferToSelf()
    places = (
        source.decimal_places
        if destination is None
        else min(source.decimal_places, destination.decimal_places)
    )
    value = parse_amount(amount, places)
    if check_balance:
        ensure_active(source)
        if destination is not None and destination.is_frozen:
            raise RecipientUnavailable()
        ensure_available(source, value)
    return TransferPlan(
        source=source,
        recipient=recipient,
        destination=destination,
        amount=value,
        available_after=source.available - value,
        balance_after=source.balance - value,
        needs_reauthentication=needs_reauthentication(source.unit, value),
    )


def execute_transfer(
    plan: TransferPlan, *, note: str, initiated_by: User, idempotency_key: str
) -> Transfer:
    """Move the money through the engine's transfer service (once per idempotency key)."""
    meta = {"note": note} if note else {}
    if plan.source.holder_type_id != _user_type_id():
        meta["initiated_by"] = initiated_by.username
    try:
        with count_wallet_failures("transfer"):
            return transfer_service().transfer(
                plan.source,
                plan.destination or plan.recipient,
                plan.amount,
                meta=meta,
                idempotency_key=idempotency_key,
            )
    except WalletFrozen:
        # The engine names the frozen wallet and why; the sender may only learn about theirs.
        plan.source.refresh_from_db(fields=["is_frozen", "frozen_reason"])
        if plan.source.is_frozen:
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


def cancel_pending_withdrawal(tx: Transaction, *, canceled_by: User) -> Transaction:
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


class RateChanged(WalletError):
    default_message = "The exchange rate changed since you reviewed it. Check the new quote."


def quote_exchange(source: Wallet, destination: Wallet, amount: Any) -> ExchangeQuote:
    """The engine's quote, plus the funds and freeze checks the exchange itself will make."""
    value, rate, received = exchange_service().quote(source, destination, amount)
    ensure_active(source, destination)
    ensure_available(source, value)
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
        _, rate, _ = exchange_service().quote(source, destination, amount)
        if quoted_rate is not None and rate != quoted_rate:
            raise RateChanged()
        return exchange_service().exchange(
            source.holder,
            source.slug,
            destination.slug,
            amount,
            idempotency_key=idempotency_key,
        )
