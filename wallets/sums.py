"""Exact sums of amount columns, in the database on every backend.

PostgreSQL sums ``numeric`` exactly. SQLite stores an amount as a fixed-width
text (``wallets.fields``): a sign letter, then 38 digits (20 whole, 18 of
fraction), the digits of a negative amount complemented (``9 - d``) so that
the text sorts in numeric order. Summing such text in SQL would go through
floats, so here the 38 digits are cut into chunks, SQLite sums each chunk as
an integer (exact, or an "integer overflow" error, never a rounded value) and
Python recombines the few sums. A complemented negative amount is ``10**38 - 1 - |amount|``, so the
sum of every row's digits, less ``10**38 - 1`` per negative row, is the sum
of the amounts. One query; no row comes into Python.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import Any, TypeVar

from django.db import OperationalError, connections
from django.db.models import Case, CharField, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Substr

from wallets.fields import FRACTION_DIGITS, MAX_DIGITS, MONEY_CONTEXT, tidy

# (start, length) of each chunk of the 38 digits, 1-based after the sign letter.
# Chunks of 13 digits keep a sum exact for some 900,000 rows of the largest
# amounts; past that SQLite reports an integer overflow, and the sum is taken
# again in chunks of 7 digits (exact for about 10**12 rows).
CHUNKS = [(1, 12), (13, 13), (26, 13)]
SMALL_CHUNKS = [(1, 3), (4, 7), (11, 7), (18, 7), (25, 7), (32, 7)]
ALL_NINES = 10**MAX_DIGITS - 1
T = TypeVar("T")


def _chunk_sums(field: str, chunks: list[tuple[int, int]]) -> dict[str, Any]:
    sums: dict[str, Any] = {
        f"chunk{i}": Sum(
            Cast(Substr(field, start + 1, length, output_field=CharField()), IntegerField())
        )
        for i, (start, length) in enumerate(chunks)
    }
    sums["negatives"] = Sum(
        Case(When(**{f"{field}__lt": 0}, then=Value(1)), default=Value(0)),
        output_field=IntegerField(),
    )
    return sums


def _combine(row: dict[str, Any], chunks: list[tuple[int, int]]) -> Decimal:
    digits = sum(
        (row[f"chunk{i}"] or 0) * 10 ** (MAX_DIGITS - (start - 1) - length)
        for i, (start, length) in enumerate(chunks)
    )
    scaled = digits - (row["negatives"] or 0) * ALL_NINES
    with localcontext(MONEY_CONTEXT):
        return tidy(Decimal(scaled).scaleb(-FRACTION_DIGITS))


def uses_text_amounts(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "sqlite"


def _exactly(compute: Callable[[list[tuple[int, int]]], T]) -> T:
    try:
        return compute(CHUNKS)
    except OperationalError as error:
        # SQLite's only word for it: its sum() refuses to wrap around.
        if "integer overflow" not in str(error):
            raise
        return compute(SMALL_CHUNKS)


def text_sum(queryset: QuerySet, field: str) -> Decimal:
    """The exact sum of an amount column stored as text (SQLite)."""

    def compute(chunks: list[tuple[int, int]]) -> Decimal:
        return _combine(queryset.order_by().aggregate(**_chunk_sums(field, chunks)), chunks)

    return _exactly(compute)


def text_sums_by(queryset: QuerySet, key: str, field: str) -> dict[Any, Decimal]:
    """Exact sums of an amount column grouped by ``key`` (SQLite)."""

    def compute(chunks: list[tuple[int, int]]) -> dict[Any, Decimal]:
        rows = queryset.order_by().values(key).annotate(**_chunk_sums(field, chunks))
        return {row[key]: _combine(row, chunks) for row in rows}

    return _exactly(compute)
