"""New ledger rows, built and inserted without the ORM's per-row overhead.

Every money path builds its transactions and transfers with :func:`build` and
inserts them with :func:`insert_rows`. A bulk operation builds and inserts
thousands at once, so both work from a per-model plan made once: which fields
take a value, which a default, which convert before they are sent.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.models.base import ModelState
from django.db.models.signals import ModelSignal, post_init, pre_init
from django.dispatch.dispatcher import NO_RECEIVERS

from wallets.row_values import row_reader
from wallets.uuids import random_uuid

M = TypeVar("M", bound=models.Model)

INSERT_CHUNK = 1000
# From this many rows on, PostgreSQL gets the rows by COPY, with ids drawn from
# the table's sequence first: no statement text grows with the batch.
COPY_FROM = 20


@dataclass(frozen=True)
class _Plan:
    """How a model's new rows are filled in, worked out once per model."""

    names: frozenset[str]
    # Relations by field name: their column, and the column of the related
    # row they hold (a plain field's column is its name).
    relations: tuple[tuple[str, str, str], ...]
    # Defaults every row shares (by column), and those made afresh for each row.
    shared: dict[str, Any]
    made: tuple[tuple[str, str, Callable[[], Any]], ...]


@functools.cache
def _plan(model: type[models.Model]) -> _Plan:
    names, relations, shared, made = set(), [], {}, []
    for field in model._meta.concrete_fields:
        names.add(field.name)
        if field.is_relation:
            relations.append((field.name, field.attname, field.target_field.attname))
        if field.has_default() and callable(field.default):
            make = random_uuid if field.default is uuid.uuid4 else field.default
            made.append((field.name, field.attname, make))
        else:
            shared[field.attname] = field.get_default()
    return _Plan(frozenset(names), tuple(relations), shared, tuple(made))


def built_directly(model: type[models.Model]) -> bool:
    """Whether rows of ``model`` may be filled in without ``Model.__init__``:
    the model keeps Django's, and no ``pre_init`` or ``post_init`` receiver
    expects it to run."""
    return (
        model.__init__ is models.Model.__init__
        and _no_receivers(pre_init, model)
        and _no_receivers(post_init, model)
    )


def _no_receivers(signal: ModelSignal, model: type[models.Model]) -> bool:
    # Django's own fast paths in Signal.send(): no receivers at all, or the
    # per-sender cache (a WeakKeyDictionary, cleared by every connect() and
    # disconnect()) holding NO_RECEIVERS. A bulk operation asks this for
    # every row it builds.
    if not signal.receivers or signal.sender_receivers_cache.get(model) is NO_RECEIVERS:
        return True
    return not signal.has_listeners(model)


def loaded_directly(model: type[models.Model]) -> bool:
    """Whether rows of ``model`` read from the database may be filled in
    without ``from_db``: :func:`built_directly`, and ``from_db`` is Django's."""
    return built_directly(model) and model.from_db.__func__ is models.Model.from_db.__func__


def loaded(model: type[M], using: str, attnames: tuple[str, ...], values: Any) -> M:
    """A row of ``model`` read from database ``using``: what
    ``model.from_db(using, attnames, values)`` makes, filled in directly when
    :func:`loaded_directly` allows (half the cost for a wallet)."""
    if not loaded_directly(model):
        return model.from_db(using, list(attnames), values)
    row = model.__new__(model)
    attributes = row.__dict__
    attributes.update(zip(attnames, values, strict=True))
    state = attributes["_state"] = ModelState()
    state.adding, state.db = False, using
    return row


@functools.cache
def _many_to_one(model: type[models.Model], name: str) -> tuple[str, str] | None:
    field = model._meta.get_field(name)
    if not field.many_to_one or field.one_to_one or len(field.foreign_related_fields) != 1:
        return None
    return field.attname, field.target_field.attname


def relate(row: models.Model, name: str, value: models.Model) -> None:
    """``setattr(row, name, value)`` for a foreign key to a row the engine has
    just read or written on the same database: the id and the cached object
    are set directly, without the descriptor's checks of type and database.
    Other relations (one-to-one, which also caches the reverse side) go
    through the descriptor."""
    plan = _many_to_one(type(row), name)
    if plan is None:
        setattr(row, name, value)
        return
    attname, target = plan
    row.__dict__[attname] = getattr(value, target)
    row._state.fields_cache[name] = value


def build(model: type[M], **values: Any) -> M:
    """A new, unsaved row of ``model``, as ``model(**values)`` would make it.

    ``values`` are by field name; fields left out get their defaults, and
    related objects are cached on the row. The row is filled in directly:
    Django's keyword construction costs several times as much per row, and a
    bulk operation builds thousands. A model that overrides ``__init__`` or
    has ``pre_init``/``post_init`` receivers is built the ordinary way, so
    they still run (:func:`built_directly`)."""
    if not built_directly(model):
        return model(**values)
    plan = _plan(model)
    if not plan.names.issuperset(values):
        raise TypeError(f"{model.__name__} has no fields {sorted(values.keys() - plan.names)}")
    row = model.__new__(model)
    attributes = row.__dict__
    attributes.update(plan.shared)
    # Plain fields land under their own names; relations are moved below.
    attributes.update(values)
    state = attributes["_state"] = ModelState()
    cache = state.fields_cache = {}
    for name, attname, target in plan.relations:
        if name in values:
            related = attributes.pop(name)
            attributes[attname] = None if related is None else getattr(related, target)
            if related is not None:
                cache[name] = related
    for name, attname, make in plan.made:
        if name not in values:
            attributes[attname] = make()
    return row


def insert_rows(rows: list[M]) -> list[M]:
    """Insert new rows of one model and set their ids.

    What ``bulk_create`` does, without rebuilding the ORM's statement each time:
    every money path inserts its ledger rows here. ``INSERT … RETURNING id``,
    1,000 rows a statement; on PostgreSQL a large batch is one COPY
    (:func:`row_stream`). No ``save()`` signals, as with ``bulk_create``;
    ledger rows have none."""
    if not rows:
        return rows
    model = type(rows[0])
    if streams(model, len(rows)):
        with row_stream(model, len(rows)) as add:
            for row in rows:
                add(row)
        return rows
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    read = row_reader(fields, connection)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_CHUNK):
            chunk = rows[start : start + INSERT_CHUNK]
            params = [value for row in chunk for value in read(row)]
            cursor.execute(
                f"INSERT INTO {meta.db_table} ({columns}) VALUES "
                f"{', '.join([one_row] * len(chunk))} RETURNING {meta.pk.column}",
                params,
            )
            for row, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                row.pk = pk
                row._state.adding, row._state.db = False, using
    return rows


def streams(model: type[models.Model], count: int) -> bool:
    """Whether ``count`` new rows of ``model`` go to the database by
    :func:`row_stream`: on PostgreSQL, from :data:`COPY_FROM` rows on."""
    connection = connections[router.db_for_write(model)]
    return connection.vendor == "postgresql" and count >= COPY_FROM


@contextmanager
def row_stream(model: type[M], count: int) -> Iterator[Callable[[M], M]]:
    """PostgreSQL: one COPY into ``model``'s table, open while the caller makes
    up to ``count`` new rows. ``add(row)`` gives the row its id and sends it.

    The ids are drawn from the table's sequence before the COPY starts. The
    database takes the rows in as they arrive, while Python makes the next
    ones. No statement can run inside the block: one raises RuntimeError.
    An exception inside the block cancels the COPY, which fails the
    transaction; ids left over are gaps in the sequence, as a rollback
    leaves."""
    using = router.db_for_write(model)
    connection = connections[using]
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    read = row_reader(fields, connection, copy=True)
    pk = meta.pk.column
    pk_attname = meta.pk.attname  # set directly: the ``pk`` property costs 3 calls a row
    columns = ", ".join(connection.ops.quote_name(c) for c in [pk, *(f.column for f in fields)])
    with connection.cursor() as cursor:
        # The sequence is looked up once, in a materialized CTE: as nextval()'s
        # argument, or in a subquery the planner pulls up, the lookup of a
        # parameter's sequence runs again for every row, at 5 to 10 times the cost.
        cursor.execute(
            "WITH serial AS MATERIALIZED "
            "(SELECT pg_get_serial_sequence(%s, %s)::regclass AS sequence) "
            "SELECT nextval(sequence) FROM serial, generate_series(1, %s)",
            [meta.db_table, pk, count],
        )
        ids = iter([new_id for (new_id,) in cursor.fetchall()])
        with cursor.copy(f"COPY {meta.db_table} ({columns}) FROM STDIN") as copy:

            def add(row: M) -> M:
                new_id = next(ids, None)
                if new_id is None:
                    raise ValueError(f"The stream was opened for {count} rows.")
                setattr(row, pk_attname, new_id)
                copy.write_row([new_id, *read(row)])
                row._state.adding, row._state.db = False, using
                return row

            # A query here would wait forever on the connection the COPY holds.
            with connection.execute_wrapper(_no_statement_mid_copy):
                yield add


def _no_statement_mid_copy(*args: Any) -> None:
    raise RuntimeError("No statement can run while new rows are streamed into a table.")
