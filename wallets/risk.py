"""Risk policy on outgoing transfers: a hook the transfer operation calls under its locks.

``WALLETS["TRANSFER_POLICY_CLASS"]`` names the policy (default:
:class:`RiskRulePolicy`; ``None`` turns checks off). The transfer operation
locks both wallets, checks funds, then asks the policy about plain transfers
(not payments, gifts, exchanges or refunds). A refusal raises
:class:`~wallets.exceptions.RiskLimitExceeded` and writes nothing; a hold
returns a :class:`~wallets.models.TransferHold` that reserves the amount until
staff decide. Because the source is locked while the policy counts what it
sent, parallel transfers cannot all slip under a limit.

Projects add rules of their own through the :data:`risk_check` signal.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.dispatch import Signal
from django.utils import timezone

from wallets import conf
from wallets.active_rows import ActiveRows
from wallets.models import RiskRule, TransferHold
from wallets.selectors import sum_amounts
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()

Kind = Transfer.Kind
REFUSE = RiskRule.OnBreach.REFUSE
HOLD = RiskRule.OnBreach.HOLD

# Sent with source (locked Wallet), destination (Wallet), amount (Decimal) and
# meta before a transfer moves money. A receiver returns a RiskDecision to
# refuse or hold the transfer, or None to let it through.
risk_check = Signal()


@dataclass(frozen=True)
class RiskDecision:
    on_breach: str
    rule: str
    message: str
    rule_id: int | None = None


class TransferPolicy:
    """Base class of transfer policies: ``None`` lets a transfer through."""

    def judges(self, source: Wallet) -> bool:
        """Whether transfers from ``source`` must be evaluated under its lock.
        A policy that cannot tell says yes; ``False`` lets a transfer run as
        one statement that locks, checks and writes together."""
        return True

    def evaluate(
        self, source: Wallet, destination: Wallet, amount: Decimal, meta: dict[str, Any]
    ) -> RiskDecision | None:
        return None


class RiskRulePolicy(TransferPolicy):
    """The staff's :class:`RiskRule` rows, then every ``risk_check`` receiver.

    A refusal wins over a hold; among equals, the first rule (by name) wins.
    """

    def judges(self, source: Wallet) -> bool:
        return bool(rules_for(source)) or risk_check.has_listeners(sender=Wallet)

    def evaluate(
        self, source: Wallet, destination: Wallet, amount: Decimal, meta: dict[str, Any]
    ) -> RiskDecision | None:
        decisions = rule_breaches(rules_for(source), source, amount)
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


def transfer_policy() -> TransferPolicy | None:
    policy_class = conf.get_class("TRANSFER_POLICY_CLASS")
    return policy_class() if policy_class is not None else None


def judged(sources: Iterable[Wallet], kind: str) -> bool:
    """Whether the configured policy evaluates ``kind`` transfers from any of
    ``sources`` under their locks (``TransferPolicy.judges``)."""
    policy = transfer_policy() if applies_to(kind) else None
    return policy is not None and any(policy.judges(source) for source in sources)


def applies_to(kind: str) -> bool:
    """Only plain transfers between holders pass the policy."""
    return kind == Kind.TRANSFER


# Every transfer asks for them (see wallets.active_rows).
active_rules = ActiveRows(
    RiskRule,
    "RISK_RULES_CACHE_SECONDS",
    lambda: RiskRule.objects.filter(is_active=True).order_by("name", "pk"),
)


def rules_for(wallet: Wallet) -> list[RiskRule]:
    """The active rules whose holder and unit scope match the wallet."""
    return [
        rule
        for rule in active_rules.get()
        if rule.holder_type_id in (None, wallet.holder_type_id)
        and rule.holder_id in ("", wallet.holder_id)
        and rule.unit in ("", wallet.unit)
    ]


def rule_breaches(rules: list[RiskRule], source: Wallet, amount: Decimal) -> list[RiskDecision]:
    """Every rule the transfer would break, counting what the source sent recently."""
    if not rules:
        return []
    now = timezone.now()
    sent = Transfer.objects.filter(from_wallet=source).exclude(kind=Kind.REFUND)
    # Transfers waiting on review count too: releasing them must not break a limit.
    waiting = TransferHold.objects.filter(from_wallet=source, state=TransferHold.State.HELD)
    day_total: Decimal | None = None
    hour_count: int | None = None
    decisions = []
    unit = source.unit
    for rule in rules:
        message = None
        if rule.max_single is not None and amount > rule.max_single:
            message = f"A single transfer may be at most {rule.max_single} {unit}."
        if message is None and rule.max_daily_total is not None:
            if day_total is None:
                since = now - timedelta(days=1)
                day_total = sum_amounts(sent.filter(created_at__gte=since)) + sum_amounts(
                    waiting.filter(created_at__gte=since)
                )
            if day_total + amount > rule.max_daily_total:
                message = (
                    f"Transfers may total at most {rule.max_daily_total} {unit} a day; "
                    f"{day_total} {unit} was sent in the last 24 hours."
                )
        if message is None and rule.max_per_hour is not None:
            if hour_count is None:
                since = now - timedelta(hours=1)
                hour_count = (
                    sent.filter(created_at__gte=since).count()
                    + waiting.filter(created_at__gte=since).count()
                )
            if hour_count + 1 > rule.max_per_hour:
                message = f"At most {rule.max_per_hour} transfers may be sent an hour."
        if message is not None:
            decisions.append(RiskDecision(rule.on_breach, rule.name, message, rule.pk))
    return decisions
