"""Reading a long ordered queryset a chunk at a time, each chunk one short query.

``QuerySet.iterator()`` on PostgreSQL outside a transaction declares a ``WITH
HOLD`` cursor, and PostgreSQL copies every row of such a cursor before the
first one is read: a million-row history waits over a second for its first
row, and a longer one passes the statement timeout. Here each chunk is the
next ``size`` rows after the last one read, by a row comparison on the
queryset's own order (``(created_at, id) < (…, …)``), which the index serving
that order answers directly: the first row costs the same at any length,
and no transaction is held open while a slow client reads.

The caller names the order an index serves (for a history, ``("created_at",
"id")``, read either way). Another order must sort every row before its
first, so a chunk a query would sort them all again each time: it is read
with ``iterator()``, one query that sorts once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import F, Func, QuerySet, Value

Key = tuple[models.Field, bool]  # a field of the model, and whether it is descending


def _keys(rows: QuerySet, indexed: tuple[str, ...]) -> list[Key] | None:
    """The queryset's order as fields of its model, if it is the ``indexed``
    order (either way) and a keyset can follow it: every key in one
    direction, the primary key last."""
    meta = rows.model._meta
    order = [item for item in rows.query.order_by if isinstance(item, str)]
    if len(order) != len(rows.query.order_by) or [o.lstrip("-") for o in order] != list(indexed):
        return None
    keys: list[Key] = []
    for item in order:
        name = item.lstrip("-")
        try:
            field = meta.pk if name == "pk" else meta.get_field(name)
        except FieldDoesNotExist:
            return None
        if not field.concrete or field.is_relation:
            return None
        keys.append((field, item.startswith("-")))
    if not keys or keys[-1][0] != meta.pk or len({descending for _, descending in keys}) != 1:
        return None
    return keys


def _row(*values: Any) -> Func:
    """A row value, ``(a, b)``: compared element by element, as PostgreSQL and
    SQLite both do (and use an index for)."""
    return Func(*values, template="(%(expressions)s)", output_field=models.Field())


def _after(rows: QuerySet, keys: list[Key], last: models.Model) -> QuerySet:
    """The rows that come after ``last`` in the keys' order."""
    columns = _row(*(F(field.name) for field, _ in keys))
    bound = _row(*(Value(getattr(last, field.attname), output_field=field) for field, _ in keys))
    lookup = "lt" if keys[0][1] else "gt"
    return rows.alias(_keyset=columns).filter(**{f"_keyset__{lookup}": bound})


def in_chunks(rows: QuerySet, size: int, *, indexed: tuple[str, ...]) -> Iterator[models.Model]:
    """Every row of the ordered queryset, in its order, ``size`` rows a query
    (``prefetch_related`` runs once a chunk) when it is in the ``indexed``
    order; otherwise by ``iterator()``."""
    keys = _keys(rows, indexed)
    if keys is None:
        yield from rows.iterator(chunk_size=size)
        return
    last = None
    while True:
        chunk = list((rows if last is None else _after(rows, keys, last))[:size])
        yield from chunk
        if len(chunk) < size:
            return
        last = chunk[-1]
