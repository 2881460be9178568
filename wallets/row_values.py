"""A new row's column values, read off it as a statement's parameters.

:func:`row_reader` works out once, for a list of fields, which values go to
the database as they are and which its field converts first; every money path
reads its new rows through it, a bulk operation thousands at a time.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from typing import Any

from django.db import models
from django.utils import timezone

Reader = Callable[[models.Model], list[Any]]

# Columns whose Python values psycopg sends as they are: the ORM's conversion
# would hand them back unchanged, one call per cell.
PLAIN_ON_POSTGRES = frozenset(
    {
        "AmountField",
        "BigAutoField",
        "CharField",
        "DateTimeField",
        "DecimalField",
        "ForeignKey",
        "OneToOneField",
        "PositiveIntegerField",
        "TextField",
        "UUIDField",
    }
)


class _JsonText:
    """The text of a batch's JSON values, as the ORM's ``json.dumps`` makes
    it, once for each object: the rows of one bulk item (a transfer and its
    two legs) share their ``meta``, and most are empty."""

    def __init__(self) -> None:
        self.dumped: dict[int, tuple[Any, str | None]] = {}

    def __call__(self, value: Any) -> str | None:
        if value is None:
            return None
        if type(value) is dict and not value:
            return "{}"
        known = self.dumped.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        text = json.dumps(value)
        # The value is kept with its text, so its id cannot be reused meanwhile.
        self.dumped[id(value)] = (value, text)
        return text


def row_reader(fields: Sequence[models.Field], connection: Any, *, copy: bool = False) -> Reader:
    """How a new row's column values are read off it, as query parameters.

    One ``attrgetter`` reads every column; only the columns the database needs
    converted go through their field. ``auto_now``/``auto_now_add`` columns get
    the same moment for every row of the statement, as one ``save()`` would.
    ``copy``: the values go to a PostgreSQL COPY, which takes a JSON column's
    text, so plain JSON fields are dumped once for each object (:class:`_JsonText`)."""
    key = (tuple(map(id, fields)), connection.vendor, copy)
    plan = _reader_plans.get(key)
    if plan is None:
        plan = _reader_plans[key] = _reader_plan(fields, connection.vendor, copy)
    _, read_all, automatic, automatic_at, converted, json_text = plan
    single = len(fields) == 1
    now = timezone.now()
    dumped = _JsonText() if json_text else None
    # psycopg would format the same datetime again for every row of a COPY:
    # half the cost of sending a ledger row.
    now_text = now.isoformat() if automatic_at else None

    def read(row: models.Model) -> list[Any]:
        for attname in automatic:
            setattr(row, attname, now)
        values = [read_all(row)] if single else list(read_all(row))
        for index in automatic_at:
            values[index] = now_text
        for index, field in converted:
            value = values[index]
            # Most optional columns of a new ledger row are empty: nothing to convert.
            if value is not None:
                values[index] = field.get_db_prep_save(value, connection)
        if dumped is not None:
            for index in json_text:
                values[index] = dumped(values[index])
        return values

    return read


# row_reader's plans, by the identity of the fields and the database vendor.
# Each plan holds its fields, so no other object can take their ids.
_reader_plans: dict[tuple, tuple] = {}


def _reader_plan(fields: Sequence[models.Field], vendor: str, copy: bool) -> tuple:
    """What :func:`row_reader` works out once for a list of fields."""
    read_all = operator.attrgetter(*(f.attname for f in fields))
    automatic = tuple(
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    )
    postgres = vendor == "postgresql"
    # Timestamps a COPY takes as the statement's moment, written once as text.
    automatic_at = tuple(
        index
        for index, f in enumerate(fields)
        if copy and postgres and f.attname in automatic and type(f) is models.DateTimeField
    )
    # Plain JSON fields: what the ORM sends is json.dumps of the value.
    json_text = tuple(
        index
        for index, field in enumerate(fields)
        if copy and postgres and type(field) is models.JSONField and field.encoder is None
    )
    converted = tuple(
        (index, field)
        for index, field in enumerate(fields)
        if not (postgres and field.get_internal_type() in PLAIN_ON_POSTGRES)
        and index not in json_text
    )
    return tuple(fields), read_all, automatic, automatic_at, converted, json_text
