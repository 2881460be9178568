"""Risk rules on outgoing transfers, and the hook point for projects' own rules.

Turn it on with ``WALLETS["TRANSFER_SERVICE_CLASS"] =
"wallets.risk.RiskCheckedTransferService"``. Before a transfer moves money,
the source wallet is locked and checked against the active :class:`RiskRule`
rows that match its holder and unit, then against every receiver of the
:data:`risk_check` signal. A breach either refuses the transfer
(:class:`RiskLimitExceeded`) or holds its amount as a pending withdrawal that
lands in the staff moderation queue (:class:`TransferHeldForReview`); when
staff confirm it, the hold is released and the transfer is sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction as db_transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone

from wallets.amounts import Amount, parse_amount
from wallets.exceptions import WalletError
from wallets.holders import resolve_wallet
from wallets.locking import lock_wallets
from wallets.models import RiskRule, Transaction, Transfer, Wallet
from wallets.selectors import sum_amounts
from wallets.services import TransferService, wallet_service

Kind = Transfer.Kind
REFUSE = RiskRule.OnBreach.REFUSE
HOLD = RiskRule.OnBreach.HOLD
# The key in a held withdrawal's meta that describes the transfer waiting for review.
HOLD_META_KEY = "risk_hold"

# Sent with source (locked Wallet), destination (Wallet), amount (Decimal) and
# meta before a transfer moves money. A receiver returns a RiskDecision to
# refuse or hold the transfer, or None to let it through.
risk_check = Signal()


@dataclass(frozen=True)
class RiskDecision:
    on_breach: str
    rule: str
    message: str


class RiskLimitExceeded(WalletError):
    default_message = "The transfer is over a limit of this wallet."


class TransferHeldForReview(WalletError):
    """Not a failure of the request: the amount is held until staff decide."""

    default_message = "The transfer is held for review by our staff."

    def __init__(self, message: str | None = None, transaction: Transaction | None = None):
        super().__init__(message)
        self.transaction = transaction


# Set while staff release a held transfer: the rules already had their say.
_released: ContextVar[bool] = ContextVar("wallets_risk_released", default=False)


@contextmanager
def _bypass() -> Iterator[None]:
    token = _released.set(True)
    try:
        yield
    finally:
        _released.reset(token)


def rules_for(wallet: Wallet) -> list[RiskRule]:
    """The active rules whose holder and unit scope match the wallet."""
    return list(
        RiskRule.objects.filter(is_active=True)
        .filter(Q(holder_type__isnull=True) | Q(holder_type_id=wallet.holder_type_id))
        .filter(Q(holder_id="") | Q(holder_id=wallet.holder_id))
        .filter(Q(unit="") | Q(unit=wallet.unit))
        .order_by("pk")
    )


def rule_breaches(rules: list[RiskRule], source: Wallet, amount: Decimal) -> list[RiskDecision]:
    if not rules:
        return []
    now = timezone.now()
    sent = Transfer.objects.filter(from_wallet=source).exclude(kind=Kind.REFUND)
    day_total: Decimal | None = None
    hour_count: int | None = None
    decisions = []
    for rule in rules:
        unit = source.unit
        if rule.max_single is not None and amount > rule.max_single:
            decisions.append(
                RiskDecision(
                    rule.on_breach,
                    rule.name,
                    f"A single transfer may be at most {rule.max_single} {unit}.",
                )
            )
            continue
        if rule.max_daily_total is not None:
            if day_total is None:
                day_total = sum_amounts(sent.filter(created_at__gte=now - timedelta(days=1)))
            if day_total + amount > rule.max_daily_total:
                decisions.append(
                    RiskDecision(
                        rule.on_breach,
                        rule.name,
                        f"Transfers may total at most {rule.max_daily_total} {unit} a day; "
                        f"{day_total} {unit} was sent in the last 24 hours.",
                    )
                )
                continue
        if rule.max_per_hour is not None:
            if hour_count is None:
                hour_count = sent.filter(created_at__gte=now - timedelta(hours=1)).count()
            if hour_count + 1 > rule.max_per_hour:
                decisions.append(
                    RiskDecision(
                        rule.on_breach,
                        rule.name,
                        f"At most {rule.max_per_hour} transfers may be sent an hour.",
                    )
                )
    return decisions


def evaluate(
    source: Wallet, destination: Wallet, amount: Decimal, meta: dict[str, Any]
) -> RiskDecision | None:
    """The decision for a transfer: a refusal wins over a hold; None lets it through."""
    return _verdict(
        rule_breaches(rules_for(source), source, amount), source, destination, amount, meta
    )


class RiskCheckedTransferService(TransferService):
    """The engine's TransferService with risk rules in front of plain transfers."""

    @classmethod
    def transfer(
        cls,
        from_wallet: Wallet | Any,
        to: Wallet | Any,
        amount: Amount,
        meta: dict | None = None,
        idempotency_key: str | None = None,
        kind: str = Kind.TRANSFER,
    ) -> Transfer:
        if kind != Kind.TRANSFER or _released.get():
            return super().transfer(from_wallet, to, amount, meta, idempotency_key, kind)
        source = resolve_wallet(from_wallet)
        destination = resolve_wallet(to)
        if source.pk == destination.pk or source.unit != destination.unit:
            # The engine refuses these with its own clear errors.
            return super().transfer(from_wallet, to, amount, meta, idempotency_key, kind)
        value = parse_amount(amount, min(source.decimal_places, destination.decimal_places))
        meta = dict(meta or {})
        rules = rules_for(source)
        if not rules and not risk_check.has_listeners(sender=Wallet):
            # Nothing to check: no extra lock or transaction on the common path.
            return super().transfer(from_wallet, to, amount, meta, idempotency_key, kind)
        with db_transaction.atomic():
            # Counting under the source's lock: parallel transfers cannot all slip under a limit.
            (locked,) = lock_wallets(source)
            decision = rule_breaches(rules, locked, value)
            verdict = _verdict(decision, locked, destination, value, meta)
            if verdict is None:
                return super().transfer(from_wallet, to, amount, meta, idempotency_key, kind)
            if verdict.on_breach == REFUSE:
                raise RiskLimitExceeded(f"Transfer refused: {verdict.message}")
            held = wallet_service().withdraw(
                locked,
                value,
                meta={
                    **meta,
                    "request": "transfer-review",
                    HOLD_META_KEY: {
                        "rule": verdict.rule,
                        "message": verdict.message,
                        "to_wallet": str(destination.uuid),
                        "amount": str(value),
                        "meta": meta,
                    },
                },
                confirmed=False,
                idempotency_key=idempotency_key,
            )
        # Raised after the commit: the hold stays while the caller hears why nothing was sent.
        raise TransferHeldForReview(
            f"The transfer of {value} {source.unit} is held for review ({verdict.message}). "
            "The amount is reserved until our staff decide.",
            transaction=held,
        )


def _verdict(
    rule_decisions: list[RiskDecision],
    source: Wallet,
    destination: Wallet,
    amount: Decimal,
    meta: dict[str, Any],
) -> RiskDecision | None:
    decisions = list(rule_decisions)
    for _receiver, response in risk_check.send(
        sender=Wallet, source=source, destination=destination, amount=amount, meta=meta
    ):
        if isinstance(response, RiskDecision):
            decisions.append(response)
    for wanted in (REFUSE, HOLD):
        for decision in decisions:
            if decision.on_breach == wanted:
                return decision
    return None


def is_held_transfer(tx: Transaction) -> bool:
    return tx.state == Transaction.State.PENDING and HOLD_META_KEY in (tx.meta or {})


def held_transfer_details(tx: Transaction) -> dict[str, Any]:
    return dict((tx.meta or {}).get(HOLD_META_KEY) or {})


def release_held_transfer(tx: Transaction, note: str = "") -> Transfer:
    """Send a transfer that a rule held: cancel the hold, then transfer, atomically."""
    details = held_transfer_details(tx)
    destination = Wallet.objects.get(uuid=details["to_wallet"])
    with db_transaction.atomic():
        wallet_service().reject_transaction(
            tx, reason=f"Released for transfer: {note}"[:500], state=Transaction.State.CANCELED
        )
        with _bypass():
            from wallets.services import transfer_service

            return transfer_service().transfer(
                tx.wallet,
                destination,
                details["amount"],
                meta={**details.get("meta", {}), "released_from": str(tx.uuid)},
            )
