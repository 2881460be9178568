"""Readers of the ledger: what the portal, the shop and the admin display."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, router
from django.db.models import Max, QuerySet, Sum
from django.utils import timezone

from wallets.amounts import exact
from wallets.holders import holder_filter, wallets_of
from wallets.models import TransferHold
from wallets.prepared import statement_cursor
from wallets.row_reads import newest_rows
from wallets.sums import text_sum, text_sums_by, uses_text_amounts
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()


def stored_balance(holder: Any, slug: str) -> Decimal:
    """The stored balance of ``holder``'s wallet ``slug`` (0 if it was never opened).

    Plain SQL over the holder-and-slug unique index, prepared once per
    connection (``wallets.prepared``): ``holder.balance`` runs on every page,
    and building the ORM query costs more than running it."""
    key = holder_filter(holder)
    using = router.db_for_read(Wallet)
    connection = connections[using]
    with statement_cursor(connection) as cursor:
        cursor.execute(
            f"SELECT balance FROM {Wallet._meta.db_table} "
            "WHERE holder_type_id = %s AND holder_id = %s AND slug = %s",
            [key["holder_type"].pk, key["holder_id"], slug],
        )
        row = cursor.fetchone()
    if row is None:
        return Decimal(0)
    return Wallet._meta.get_field("balance").from_db_value(row[0], None, connection)


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
    """A wallet's transactions, newest first, served by the history index.

    Read through the wallet's related manager, each row's ``wallet`` is ``wallet``
    itself: no join, and no copy of the wallet built for every row."""
    return wallet.transactions.order_by("-created_at", "-id")


def last_transactions(wallet: Wallet, count: int = 50) -> list[Transaction]:
    """A wallet's newest ``count`` transactions (up to 1,000), newest first:
    what ``transaction_history(wallet)[:count]`` returns, in one statement
    compiled once and rows built without ``Model.__init__`` (see
    ``wallets.row_reads``). A count out of bounds raises ``ValueError``."""
    return newest_rows(Transaction, wallet, count)


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


# The ranges the balance chart offers; any whole number of days up to a year works.
SERIES_DAYS = (7, 30, 90)
MAX_SERIES_DAYS = 366


@exact
def balance_series(wallet: Wallet, days: int = 30) -> list[tuple[date, Decimal]]:
    """End-of-day confirmed balance for each of the last ``days`` days (7, 30, 90…).

    Each day's figure is the ``balance_after`` of the last balance change before
    that day ended, found by index probes: the page costs the same at a hundred
    rows or a million, and the last day equals the stored balance."""
    if not 1 <= days <= MAX_SERIES_DAYS:
        raise ValueError(f"A balance series covers 1 to {MAX_SERIES_DAYS} days, not {days}.")
    first = timezone.localdate() - timedelta(days=days - 1)
    dates = [first + timedelta(days=offset) for offset in range(days)]
    ends = [timezone.make_aware(datetime.combine(d + timedelta(days=1), time.min)) for d in dates]
    return list(zip(dates, balances_before(wallet, ends), strict=True))


@exact
def balances_before(wallet: Wallet, moments: list[datetime]) -> list[Decimal]:
    """The wallet's confirmed balance just before each of ``moments``.

    The balance changes in the order rows were confirmed: a row confirmed when it
    was written changed it at ``created_at`` (and has no ``resolved_at``); a pending
    row confirmed later changed it at ``resolved_at``, when it got its
    ``balance_after``. So each moment takes two probes, each one row long: the last
    row confirmed on creation (the ``tx_history`` index) and the last one confirmed
    later (the small ``tx_resolved`` index); the later of the two holds the balance
    (ties go to the higher id, the later insert). Two queries whatever the history's
    size: the probes, then the rows they found by primary key."""
    if not moments:
        return []
    alias = router.db_for_read(Transaction)
    probes = _probe_rows(alias, wallet, moments)
    found = {
        pk: (resolved or created, pk, balance)
        for pk, created, resolved, balance in Transaction.objects.using(alias)
        .filter(pk__in={pk for pair in probes for pk in pair if pk is not None})
        .values_list("pk", "created_at", "resolved_at", "balance_after")
    }
    balances = []
    for pair in probes:
        candidates = [found[pk] for pk in pair if pk is not None]
        balances.append(max(candidates)[2] if candidates else Decimal(0))
    return balances


def _probe_rows(alias: str, wallet: Wallet, moments: list[datetime]) -> list[tuple[Any, Any]]:
    """Per moment, the ids of the last row confirmed on creation and of the last row
    confirmed later, before that moment (``None`` when there is none)."""
    connection = connections[alias]
    meta = Transaction._meta
    quote = connection.ops.quote_name

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    created, resolved = column("created_at"), column("resolved_at")

    def last_before(changed_at: str, only: str = "") -> str:
        # A literal state, not a parameter: PostgreSQL matches a partial index's
        # predicate only against constants it can see when planning.
        return (
            f"(SELECT {column('id')} FROM {quote(meta.db_table)}"
            f" WHERE {column('wallet')} = %s"
            f" AND {column('state')} = '{Transaction.State.CONFIRMED.value}'"
            f" {only} AND {changed_at} < moments.moment"
            f" ORDER BY {changed_at} DESC, {column('id')} DESC LIMIT 1)"
        )

    # Scalar subqueries only, no joins: each is an index probe the planner cannot turn
    # into a scan of the table, whatever it guesses about the rows. The second one
    # says no "resolved_at IS NOT NULL": "resolved_at < moment" implies it (and so the
    # partial index's predicate), and spelling it out makes PostgreSQL expect a single
    # row, plan a bitmap scan and a sort per probe, and compile the query with JIT.
    sql = (
        f"WITH moments (moment) AS (VALUES {', '.join(['(%s)'] * len(moments))}) "
        f"SELECT {last_before(created, f'AND {resolved} IS NULL')}, {last_before(resolved)} "
        "FROM moments ORDER BY moment"
    )
    params = [connection.ops.adapt_datetimefield_value(moment) for moment in moments]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, wallet.pk, wallet.pk])
        return cursor.fetchall()


def recent_transactions(wallets: Iterable[Wallet], limit: int = 10) -> list[Transaction]:
    """The newest ``limit`` transactions across ``wallets``, newest first.

    ``wallet IN (…) ORDER BY created_at DESC LIMIT n`` would read and sort every
    row of every wallet; instead each wallet gives its newest ``limit`` rows from
    the history index, and only those are merged."""
    by_id = {wallet.pk: wallet for wallet in wallets}
    newest = [
        Transaction.objects.filter(wallet_id=pk).order_by("-created_at", "-id")[:limit]
        for pk in by_id
    ]
    if not newest:
        return []
    first, *others = newest
    if others and connections[first.db].features.supports_slicing_ordering_in_compound:
        union = first.union(*others, all=True).order_by("-created_at", "-id")
        rows = list(union[:limit])
    else:
        # SQLite cannot LIMIT the parts of a UNION: one short query a wallet.
        merged = (tx for part in newest for tx in part)
        rows = sorted(merged, key=lambda tx: (tx.created_at, tx.pk), reverse=True)[:limit]
    for tx in rows:
        tx.wallet = by_id[tx.wallet_id]
    return rows


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
