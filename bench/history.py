"""History figures at 20k and 1M rows: the portal's wallet page, the staff
dashboard, the start of the CSV export, and the last 50 transactions.

The history is written straight into the engine's tables in one statement
(PostgreSQL ``generate_series``, a recursive CTE on SQLite): row ``i`` is a
deposit of 1.25, or a withdrawal of 0.50 when ``i`` is a multiple of 5, so
the running balance after row ``i`` is ``1.25 (i - i//5) - 0.50 (i//5)``,
which the rows carry in ``balance_after``. The rows are spread evenly over
the last 365 days; the wallet's stored balance is set to the last running
balance, then the tables are analyzed. Every row is confirmed, so the
ledger must reconcile, and the benchmark checks that it does.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench import pages
from bench.counting import QueryTimer
from bench.floor import Floor
from bench.invariants import Check
from bench.pages import PageFigures

SPAN = timedelta(days=365)
PAGE = 50


def running_cents(i: int) -> int:
    """The balance after row ``i``, in cents (the closed form of the rows' amounts)."""
    return 125 * (i - i // 5) - 50 * (i // 5)


@dataclass
class SizeFigures:
    rows: int
    build_seconds: float
    page: PageFigures = field(default_factory=PageFigures)
    dashboard: PageFigures = field(default_factory=PageFigures)
    export: PageFigures = field(default_factory=PageFigures)
    export_rows: int = 0
    last50_ms: float | None = None
    last50_db_ms: float | None = None

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "build_seconds": round(self.build_seconds, 3),
            "wallet_page": self.page.as_dict(),
            "staff_dashboard": self.dashboard.as_dict(),
            "export_first_rows": {**self.export.as_dict(), "rows": self.export_rows},
            "last50_ms": None if self.last50_ms is None else round(self.last50_ms, 3),
            "last50_db_ms": None if self.last50_db_ms is None else round(self.last50_db_ms, 3),
        }


@dataclass
class SumFigures:
    rows: int
    engine_ms: float
    floor_ms: float
    vendor: str

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "sum_amounts_ms": round(self.engine_ms, 3),
            "floor_sql_sum_ms": round(self.floor_ms, 3),
            "vendor": self.vendor,
        }


@dataclass
class HistoryResult:
    sizes: list[SizeFigures] = field(default_factory=list)
    ledger_sum: SumFigures | None = None
    checks: list[Check] = field(default_factory=list)

    def ratio(self, page: str, figure: str = "db_ms") -> float | None:
        """A page's figure at the largest size over the smallest (``page``: an
        attribute of :class:`SizeFigures` holding :class:`PageFigures`)."""
        if len(self.sizes) < 2:
            return None
        small = getattr(getattr(self.sizes[0], page), figure)
        large = getattr(getattr(self.sizes[-1], page), figure)
        return None if not small or large is None else large / small

    def as_dict(self) -> dict:
        return {
            "sizes": [s.as_dict() for s in self.sizes],
            "page_db_ratio_large_over_small": self.ratio("page"),
            "ledger_sum": self.ledger_sum.as_dict() if self.ledger_sum else None,
            "invariants": [c.as_dict() for c in self.checks],
        }


# Writing the rows


def _prep(field_name: str, value: Any) -> Any:
    from wallets.swappable import get_transaction_model

    Transaction = get_transaction_model()

    return Transaction._meta.get_field(field_name).get_db_prep_save(value, connection)


def _sqlite_encoded(cents: str) -> str:
    """The text SQLite stores for an amount column, built in SQL from a count of cents
    (checked against the field's own encoding before use)."""
    return (
        f"('P' || printf('%%020d', ({cents}) / 100) || printf('%%02d', ({cents}) %% 100)"
        " || '0000000000000000')"
    )


def _sqlite_encoding_matches() -> bool:
    with connection.cursor() as cursor:
        for cents in (0, 5, 125, 99_999, 123_456_789_012):
            cursor.execute("SELECT " + _sqlite_encoded(str(cents)), [])
            if cursor.fetchone()[0] != _prep("balance_after", Decimal(cents) / 100):
                return False
    return True


def _columns(wallet_id: int, start: Any, step: float) -> tuple[list[str], list[str], list[Any]]:
    """Columns, SQL expressions of ``i`` and their parameters for one history row."""
    from wallets.swappable import get_transaction_model

    Transaction = get_transaction_model()

    sqlite = connection.vendor == "sqlite"
    cents = "(125 * (i - i / 5) - 50 * (i / 5))"
    numeric = "" if sqlite else "::numeric"
    known: dict[str, tuple[str, list[Any]]] = {
        "uuid": ("lower(hex(randomblob(16)))" if sqlite else "gen_random_uuid()", []),
        "wallet": ("%s", [wallet_id]),
        "type": (
            "CASE WHEN i %% 5 = 0 THEN %s ELSE %s END",
            [Transaction.Type.WITHDRAW.value, Transaction.Type.DEPOSIT.value],
        ),
        "amount": (
            f"CASE WHEN i %% 5 = 0 THEN %s{numeric} ELSE %s{numeric} END",
            [_prep("amount", Decimal("-0.50")), _prep("amount", Decimal("1.25"))],
        ),
        "state": ("%s", [Transaction.State.CONFIRMED.value]),
        "balance_after": (
            _sqlite_encoded(cents) if sqlite else f"({cents}::numeric / 100)",
            [],
        ),
        "meta": ("'{}'" if sqlite else "'{}'::jsonb", []),
        "created_at": (
            "strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, '+' || (i * %s) || ' seconds')"
            if sqlite
            else "%s::timestamptz + i * %s * interval '1 second'",
            [start, step],
        ),
    }
    columns, expressions, params = [], [], []
    for model_field in Transaction._meta.concrete_fields:
        if model_field.primary_key:
            continue
        columns.append(connection.ops.quote_name(model_field.column))
        if model_field.name in known:
            expression, values = known[model_field.name]
        elif model_field.null:
            expression, values = "NULL", []
        else:  # a column this builder does not know: its default, or a loud failure
            expression, values = (
                "%s",
                [model_field.get_db_prep_save(model_field.get_default(), connection)],
            )
        expressions.append(expression)
        params.extend(values)
    return columns, expressions, params


def _insert_rows(wallet_id: int, rows: int) -> None:
    from wallets.swappable import get_transaction_model, get_wallet_model

    Transaction = get_transaction_model()
    Wallet = get_wallet_model()

    sqlite = connection.vendor == "sqlite"
    if sqlite and not _sqlite_encoding_matches():
        raise RuntimeError("The amount column's SQLite encoding changed: update bench/history.py")
    first = timezone.now() - SPAN - timedelta(minutes=1)
    step = SPAN.total_seconds() / rows
    # Django keeps naive UTC text on SQLite.
    start = first.strftime("%Y-%m-%d %H:%M:%S") if sqlite else first
    columns, expressions, params = _columns(wallet_id, start, step)
    table = connection.ops.quote_name(Transaction._meta.db_table)
    head = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(expressions)}"
    if sqlite:
        sql = (
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < %s) "
            f"{head} FROM seq"
        )
        params = [rows, *params]
    else:
        sql = f"{head} FROM generate_series(1, %s) AS i"
        params = [*params, rows]
    balance = Decimal(running_cents(rows)) / 100
    wallet_table = connection.ops.quote_name(Wallet._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        cursor.execute(
            f"UPDATE {wallet_table} SET balance = %s WHERE id = %s",
            [_prep_wallet_balance(balance), wallet_id],
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def _prep_wallet_balance(value: Decimal) -> Any:
    from wallets.swappable import get_wallet_model

    Wallet = get_wallet_model()

    return Wallet._meta.get_field("balance").get_db_prep_save(value, connection)


def build_wallet(user: Any, rows: int) -> tuple[Any, float]:
    from wallets.swappable import get_wallet_model

    Wallet = get_wallet_model()
    from wallets.services import wallet_service

    started = time.perf_counter()
    wallet = wallet_service().open_wallet(user, f"history-{rows}", name=f"History {rows:,}")
    _insert_rows(wallet.pk, rows)
    return Wallet.objects.get(pk=wallet.pk), time.perf_counter() - started


# Measuring


def _median_ms(values: list[float]) -> float:
    return statistics.median(values) * 1000


def measure_last50(wallet: Any, repeats: int, figures: SizeFigures) -> int:
    from wallets.selectors import last_transactions

    db, wall = [], []
    got = 0
    last_transactions(wallet, PAGE)  # warm
    for _ in range(max(repeats, 5) * 4):
        with QueryTimer(connection) as timer:
            started = time.perf_counter()
            got = len(last_transactions(wallet, PAGE))
            wall.append(time.perf_counter() - started)
        db.append(timer.seconds)
    figures.last50_ms = _median_ms(wall)
    figures.last50_db_ms = _median_ms(db)
    return got


def measure_sum(wallet: Any, floor: Floor, repeats: int) -> tuple[SumFigures, Decimal]:
    """The exact ledger sum of the small wallet (``wallets.selectors.sum_amounts``), and
    the floor's SQL ``SUM`` over as many rows of its own."""
    from wallets.swappable import get_transaction_model

    Transaction = get_transaction_model()
    from wallets.selectors import sum_amounts

    rows = Transaction.objects.filter(wallet=wallet, state=Transaction.State.CONFIRMED)
    count = rows.count()
    total = sum_amounts(rows)
    engine = []
    for _ in range(repeats):
        started = time.perf_counter()
        total = sum_amounts(rows)
        engine.append(time.perf_counter() - started)
    floor_wallet = floor.fill_history(count)
    floor.sum_amounts(floor_wallet)
    floor_times = []
    for _ in range(repeats):
        started = time.perf_counter()
        floor.sum_amounts(floor_wallet)
        floor_times.append(time.perf_counter() - started)
    figures = SumFigures(count, _median_ms(engine), _median_ms(floor_times), connection.vendor)
    return figures, total


def run_history(sizes: tuple[int, ...], repeats: int, floor: Floor, log: Any) -> HistoryResult:
    from django.contrib.auth import get_user_model

    from wallets.selectors import sum_amounts

    result = HistoryResult()
    users = get_user_model().objects
    user = users.create_user(
        username="history-holder", email="history@example.com", password="bench-only"
    )
    staff = users.create_superuser(
        username="history-staff", email="staff@example.com", password="bench-only"
    )
    for index, rows in enumerate(sizes):
        log(f"history: writing {rows:,} transactions")
        wallet, seconds = build_wallet(user, rows)
        figures = SizeFigures(rows=rows, build_seconds=seconds)
        expected = Decimal(running_cents(rows)) / 100
        ledger = sum_amounts(wallet.transactions.all())
        result.checks.append(
            Check(
                "ours",
                f"{rows:,}-row wallet: balance = ledger",
                wallet.balance == ledger == expected,
                f"stored {wallet.balance}, ledger {ledger}, expected {expected}",
            )
        )
        log(f"history: measuring {rows:,}")
        figures.page = pages.wallet_page(user, wallet, repeats)
        figures.dashboard = pages.staff_dashboard(staff, repeats)
        figures.export, figures.export_rows = pages.export_start(user, wallet, repeats)
        got = measure_last50(wallet, repeats, figures)
        result.checks.append(
            Check("ours", f"{rows:,}-row wallet: last 50 rows read", got == PAGE, f"got {got}")
        )
        for name, page in (
            ("page", figures.page),
            ("staff dashboard", figures.dashboard),
            ("export", figures.export),
        ):
            result.checks.append(
                Check(
                    "ours",
                    f"{rows:,}-row wallet: {name} answered 200",
                    page.status == "200",
                    page.status,
                )
            )
        wanted = min(rows, pages.EXPORT_ROWS)
        result.checks.append(
            Check(
                "ours",
                f"{rows:,}-row wallet: export streamed its first {wanted:,} rows",
                figures.export_rows == wanted,
                f"got {figures.export_rows}",
            )
        )
        result.sizes.append(figures)
        if index == 0:
            result.ledger_sum, total = measure_sum(wallet, floor, repeats)
            result.checks.append(
                Check(
                    "ours",
                    f"exact sum of {rows:,} rows",
                    total == expected,
                    f"sum_amounts gave {total}, expected {expected}",
                )
            )
    return result
