"""Readers of the ledger: what the portal, the shop and the admin display."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from wallets.amounts import exact
from wallets.holders import wallets_of
from wallets.models import Transaction, Transfer, TransferHold, Wallet
from wallets.sums import text_sum, text_sums_by, uses_text_amounts


def wallet_list_for_holder(holder: Any) -> QuerySet[Wallet]:
    return wallets_of(holder).order_by("created_at", "pk")


def pending_for_review() -> QuerySet[Transaction]:
    """Pending top-ups and payouts staff decide, oldest first.

    Withdrawals that reserve a held transfer are left out: staff decide the
    hold (:func:`open_transfer_holds`), which resolves its reservation."""
    return (
        Transaction.objects.filter(state=Transaction.State.PENDING, transfer_hold__isnull=True)
        .select_related("wallet", "wallet__holder_type")
        .order_by("created_at", "id")
    )


def open_transfer_holds() -> QuerySet[TransferHold]:
    """Transfers held by the risk policy and waiting on staff, oldest first."""
    return (
        TransferHold.objects.filter(state=TransferHold.State.HELD)
        .select_related("from_wallet", "to_wallet", "reservation")
        .order_by("created_at", "id")
    )


def transaction_history(wallet: Wallet) -> QuerySet[Transaction]:
    """A wallet's transactions, newest first, served by the history index."""
    return (
        Transaction.objects.filter(wallet=wallet)
        .select_related("wallet")
        .order_by("-created_at", "-id")
    )


@exact
def sum_amounts(queryset: QuerySet, field: str = "amount") -> Decimal:
    """Exact sum of an amount column, in one query (see ``wallets.sums`` for SQLite)."""
    if uses_text_amounts(queryset):
        return text_sum(queryset, field)
    total = queryset.aggregate(total=Sum(field))["total"]
    return total if total is not None else Decimal(0)


@exact
def sum_amounts_by(queryset: QuerySet, key: str, field: str = "amount") -> dict[Any, Decimal]:
    """Exact sums of an amount column grouped by ``key``, in one query."""
    if uses_text_amounts(queryset):
        return text_sums_by(queryset, key, field)
    rows = queryset.order_by().values(key).annotate(total=Sum(field))
    return {row[key]: row["total"] for row in rows}


@exact
def balance_series(wallet: Wallet, days: int = 30) -> list[tuple[date, Decimal]]:
    """End-of-day confirmed balance for each of the last ``days`` days."""
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    start_dt = timezone.make_aware(datetime.combine(start, time.min))
    confirmed = Transaction.objects.filter(wallet=wallet, state=Transaction.State.CONFIRMED)
    opening = sum_amounts(confirmed.filter(resolved_at__lt=start_dt)) + sum_amounts(
        confirmed.filter(resolved_at__isnull=True, created_at__lt=start_dt)
    )
    changes: dict[date, Decimal] = defaultdict(Decimal)
    recent = confirmed.exclude(resolved_at__lt=start_dt).exclude(
        resolved_at__isnull=True, created_at__lt=start_dt
    )
    for amount, created, resolved in recent.values_list("amount", "created_at", "resolved_at"):
        changes[timezone.localdate(resolved or created)] += amount
    series, running = [], opening
    for offset in range(days):
        day = start + timedelta(days=offset)
        running += changes.get(day, Decimal(0))
        series.append((day, running))
    return series


@exact
def ledger_totals(wallet_ids: Iterable[int] | None = None) -> dict[int, tuple[Decimal, Decimal]]:
    """Per wallet: (sum of confirmed amounts, sum held by pending withdrawals)."""
    txs = Transaction.objects.all()
    if wallet_ids is not None:
        txs = txs.filter(wallet_id__in=list(wallet_ids))
    confirmed = sum_amounts_by(txs.filter(state=Transaction.State.CONFIRMED), "wallet_id")
    held = sum_amounts_by(
        txs.filter(state=Transaction.State.PENDING, type=Transaction.Type.WITHDRAW), "wallet_id"
    )
    ids = set(confirmed) | set(held)
    return {
        wallet_id: (confirmed.get(wallet_id, Decimal(0)), -held.get(wallet_id, Decimal(0)))
        for wallet_id in ids
    }


def holder_types_with_wallets() -> QuerySet[ContentType]:
    """The kinds of holder that own at least one wallet (the admin's holder filter)."""
    used = Wallet.objects.order_by().values("holder_type").distinct()
    return ContentType.objects.filter(pk__in=used).order_by("app_label", "model")


@dataclass(frozen=True)
class UnitTotals:
    """One unit's line on the staff dashboard."""

    unit: str
    # The most decimal places any wallet of the unit uses: totals show at that precision.
    decimal_places: int
    balance: Decimal
    held: Decimal
    sent_last_day: Decimal


@dataclass(frozen=True)
class DashboardStats:
    units: list[UnitTotals]
    pending_count: int
    open_hold_count: int
    frozen_count: int
    transfer_count: int


@exact
def dashboard_stats(now: datetime | None = None) -> DashboardStats:
    """Totals per unit, the staff's queues, frozen wallets and the last day's transfers."""
    since = (now or timezone.now()) - timedelta(days=1)
    wallets = Wallet.objects.all()
    balances = sum_amounts_by(wallets, "unit", "balance")
    held = sum_amounts_by(wallets, "unit", "held")
    recent = Transfer.objects.filter(created_at__gte=since)
    sent = sum_amounts_by(recent.exclude(kind=Transfer.Kind.REFUND), "from_wallet__unit", "amount")
    places = dict(
        wallets.order_by()
        .values("unit")
        .annotate(places=Max("decimal_places"))
        .values_list("unit", "places")
    )
    units = sorted(set(balances) | set(held) | set(sent))
    return DashboardStats(
        units=[
            UnitTotals(
                unit=unit,
                decimal_places=places.get(unit, 0),
                balance=balances.get(unit, Decimal(0)),
                held=held.get(unit, Decimal(0)),
                sent_last_day=sent.get(unit, Decimal(0)),
            )
            for unit in units
        ],
        pending_count=pending_for_review().count(),
        open_hold_count=open_transfer_holds().count(),
        frozen_count=wallets.filter(is_frozen=True).count(),
        transfer_count=recent.count(),
    )
