"""Readers of the ledger: what the portal, the shop and the admin display."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db import connections
from django.db.models import QuerySet, Sum
from django.utils import timezone

from wallets.amounts import exact
from wallets.holders import wallets_of
from wallets.models import Transaction, Wallet


def wallet_list_for_holder(holder: Any) -> QuerySet[Wallet]:
    return wallets_of(holder).order_by("created_at", "pk")


def transaction_history(wallet: Wallet) -> QuerySet[Transaction]:
    """A wallet's transactions, newest first, served by the history index."""
    return (
        Transaction.objects.filter(wallet=wallet)
        .select_related("wallet")
        .order_by("-created_at", "-id")
    )


@exact
def sum_amounts(queryset: QuerySet, field: str = "amount") -> Decimal:
    """Exact sum of an amount column: in SQL on PostgreSQL, in Python on SQLite."""
    if connections[queryset.db].vendor == "postgresql":
        total = queryset.aggregate(total=Sum(field))["total"]
        return total if total is not None else Decimal(0)
    return sum(queryset.values_list(field, flat=True).iterator(), start=Decimal(0))


@exact
def sum_amounts_by(queryset: QuerySet, key: str, field: str = "amount") -> dict[Any, Decimal]:
    """Exact sums of an amount column grouped by ``key``."""
    if connections[queryset.db].vendor == "postgresql":
        rows = queryset.order_by().values(key).annotate(total=Sum(field))
        return {row[key]: row["total"] for row in rows}
    totals: dict[Any, Decimal] = defaultdict(Decimal)
    for group, value in queryset.values_list(key, field).iterator():
        totals[group] += value
    return dict(totals)


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
