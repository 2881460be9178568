"""Exact sums of amount columns, in the database on every backend.

PostgreSQL sums ``numeric`` exactly. SQLite stores an amount as a fixed-width
text (``wallets.fields``): a sign letter, then 38 digits (20 whole, 18 of
fraction), the digits of a negative amount complemented (``9 - d``) so that
the text sorts in numeric order. Summing such text in SQL would go through
floats, so here the 38 digits are cut into chunks, SQLite sums each chunk as
an integer (exact, or an "integer overflow" error, never a rounded value) and
Python recombines the few sums. A complemented negative amount is ``10**38 - 1 - |amount|``, so the
sum of every row's digits, less ``10**38 - 1`` per negative row, is the sum
of the amounts. No row comes into Python.

The text sorts in numeric order, so the smallest and the largest amount are
two probes of an index that leads with the query's filter (the ledger index
does for a wallet's confirmed rows). Every row's magnitude is at most theirs:
the leading digits beyond it are zeros (nines, complemented) on every row, and
only the digits that can vary are summed. A row that broke the bound would
itself be the smallest or the largest, so nothing is assumed that was not read.
The negative rows are counted over a range of the same index.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import Any, TypeVar

from django.db import OperationalError, connections
from django.db.models import Case, CharField, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Substr

from wallets.fields import FRACTION_DIGITS, MAX_DIGITS, MONEY_CONTEXT, tidy

# Chunks of 13 digits keep a sum exact for some 900,000 rows of the largest
# amounts; past that SQLite reports an integer overflow, and the sum is taken
# again in chunks of 7 digits (exact for about 10**12 rows).
CHUNK_WIDTH = 13
SMALL_CHUNK_WIDTH = 7
T = TypeVar("T")
Chunks = list[tuple[int, int]]


def chunks(significant: int, width: int) -> Chunks:
    """(start, length) of each chunk of the last ``significant`` of the 38 digits,
    1-based after the sign letter, cut ``width`` digits at a time from the right."""
    cut = []
    end, first = MAX_DIGITS, MAX_DIGITS - significant + 1
    while end >= first:
        start = max(first, end - width + 1)
        cut.append((start, end - start + 1))
        end = start - 1
    return cut[::-1]


def significant_digits(*amounts: Decimal) -> int:
    """How many of the 38 stored digits the largest magnitude among ``amounts`` needs."""
    largest = max(abs(amount) for amount in amounts)
    return len(str(int(largest.scaleb(FRACTION_DIGITS, MONEY_CONTEXT))))


def _chunk_sums(field: str, cut: Chunks, *, count_negatives: bool = True) -> dict[str, Any]:
    sums: dict[str, Any] = {
        f"chunk{i}": Sum(
            Cast(Substr(field, start + 1, length, output_field=CharField()), IntegerField())
        )
        for i, (start, length) in enumerate(cut)
    }
    if count_negatives:
        sums["negatives"] = Sum(
            Case(When(**{f"{field}__lt": 0}, then=Value(1)), default=Value(0)),
            output_field=IntegerField(),
        )
    return sums


def _combine(row: dict[str, Any], cut: Chunks) -> Decimal:
    digits = sum(
        (row[f"chunk{i}"] or 0) * 10 ** (MAX_DIGITS - (start - 1) - length)
        for i, (start, length) in enumerate(cut)
    )
    # A negative row's summed digits are 10**significant - 1 - |amount|.
    significant = MAX_DIGITS - cut[0][0] + 1
    scaled = digits - (row["negatives"] or 0) * (10**significant - 1)
    with localcontext(MONEY_CONTEXT):
        return tidy(Decimal(scaled).scaleb(-FRACTION_DIGITS))


def uses_text_amounts(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "sqlite"


def _exactly(compute: Callable[[Chunks], T], significant: int = MAX_DIGITS) -> T:
    try:
        return compute(chunks(significant, CHUNK_WIDTH))
    except OperationalError as error:
        # SQLite's only word for it: its sum() refuses to wrap around.
        if "integer overflow" not in str(error):
            raise
        return compute(chunks(significant, SMALL_CHUNK_WIDTH))


def _extreme(queryset: QuerySet, order: str) -> Decimal | None:
    return queryset.order_by(order).values_list(order.lstrip("-"), flat=True).first()


def text_sum(queryset: QuerySet, field: str) -> Decimal:
    """The exact sum of an amount column stored as text (SQLite).

    Besides the two probes, the negative rows are counted apart: a range of the
    same index, cheaper than testing every row inside the sum."""
    smallest = _extreme(queryset, field)
    if smallest is None:
        return Decimal(0)
    largest = _extreme(queryset, f"-{field}")
    significant = significant_digits(smallest, largest)
    negatives = queryset.filter(**{f"{field}__lt": 0}).count() if smallest < 0 else 0

    def compute(cut: Chunks) -> Decimal:
        row = queryset.order_by().aggregate(**_chunk_sums(field, cut, count_negatives=False))
        return _combine({**row, "negatives": negatives}, cut)

    return _exactly(compute, significant)


def text_sums_by(queryset: QuerySet, key: str, field: str) -> dict[Any, Decimal]:
    """Exact sums of an amount column grouped by ``key`` (SQLite)."""

    def compute(cut: Chunks) -> dict[Any, Decimal]:
        rows = queryset.order_by().values(key).annotate(**_chunk_sums(field, cut))
        return {row[key]: _combine(row, cut) for row in rows}

    return _exactly(compute)
