"""Exact sums of amount columns, in the database on every backend.

PostgreSQL sums ``numeric`` exactly. SQLite stores an amount as a fixed-width
text (``wallets.fields``): a sign letter, then 38 digits (20 whole, 18 of
fraction), the digits of a negative amount complemented (``9 - d``) so that
the text sorts in numeric order. Summing such text in SQL would go through
floats, so here the 38 digits are cut into chunks of at most 10, SQLite sums
each chunk as an integer (exact: a chunk is below 10**10, so its sum stays far
from 2**63 for any table a wallet engine will hold), and Python recombines the
few sums. A complemented negative amount is ``10**38 - 1 - |amount|``, so the
sum of every row's digits, less ``10**38 - 1`` per negative row, is the sum
of the amounts. One query; no row comes into Python.
"""

from __future__ import annotations

from decimal import Decimal, localcontext
from typing import Any

from django.db import connections
from django.db.models import Case, CharField, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Cast, Substr

from wallets.fields import FRACTION_DIGITS, MAX_DIGITS, MONEY_CONTEXT, tidy

# (start, length) of each chunk of the 38 digits, 1-based after the sign letter.
CHUNKS = [(1, 8), (9, 10), (19, 10), (29, 10)]
ALL_NINES = 10**MAX_DIGITS - 1


def _chunk_sums(field: str) -> dict[str, Any]:
    sums: dict[str, Any] = {
        f"chunk{i}": Sum(
            Cast(Substr(field, start + 1, length, output_field=CharField()), IntegerField())
        )
        for i, (start, length) in enumerate(CHUNKS)
    }
    sums["negatives"] = Sum(
        Case(When(**{f"{field}__startswith": "N"}, then=Value(1)), default=Value(0)),
        output_field=IntegerField(),
    )
    return sums


def _combine(row: dict[str, Any]) -> Decimal:
    digits = sum(
        (row[f"chunk{i}"] or 0) * 10 ** (MAX_DIGITS - (start - 1) - length)
        for i, (start, length) in enumerate(CHUNKS)
    )
    scaled = digits - (row["negatives"] or 0) * ALL_NINES
    with localcontext(MONEY_CONTEXT):
        return tidy(Decimal(scaled).scaleb(-FRACTION_DIGITS))


def uses_text_amounts(queryset: QuerySet) -> bool:
    return connections[queryset.db].vendor == "sqlite"


def text_sum(queryset: QuerySet, field: str) -> Decimal:
    """The exact sum of an amount column stored as text (SQLite)."""
    return _combine(queryset.order_by().aggregate(**_chunk_sums(field)))


def text_sums_by(queryset: QuerySet, key: str, field: str) -> dict[Any, Decimal]:
    """Exact sums of an amount column grouped by ``key`` (SQLite)."""
    rows = queryset.order_by().values(key).annotate(**_chunk_sums(field))
    return {row[key]: _combine(row) for row in rows}
