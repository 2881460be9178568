"""A wallet's newest ledger rows, read without the ORM's per-call costs.

Every wallet page, the admin and API clients read a wallet's newest rows. For
fifty rows, compiling the ORM query costs more than PostgreSQL takes to run it,
and ``Model.__init__`` costs more per row than the database does. So the
statement is compiled once per model, page size and connection, and each row
is filled in directly, as ``Model.from_db`` would make it. A model that hooks
its construction (``from_db`` or ``__init__`` overridden, ``pre_init`` or
``post_init`` receivers) is built by ``from_db``, so the hooks still run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import connections, models, router
from django.db.models.base import ModelState

from wallets.prepared import statement_cursor
from wallets.rows import loaded_directly

M = TypeVar("M", bound=models.Model)

# Stands for the wallet's id while the statement is compiled; never sent.
_ANY_WALLET = -1
# Each page size compiles a statement of its own, kept with the connection:
# the sizes are bounded so the kept statements are too. Longer reads page
# through ``transaction_history``.
MAX_NEWEST_ROWS = 1000


@dataclass(frozen=True)
class _Statement:
    sql: str
    attnames: tuple[str, ...]
    compiler: Any  # applies the backend's and the fields' converters
    converters: dict


def _statement(model: type[models.Model], connection: Any, count: int) -> _Statement:
    """The compiled statement, kept on the connection it was compiled for: it
    holds that connection's converters (as ``wallets.operations`` keeps its
    bookkeeping there)."""
    compiled = connection.__dict__.setdefault("_wallets_newest_rows", {})
    statement = compiled.get((model, count))
    if statement is None:
        rows = model._default_manager.db_manager(connection.alias).filter(wallet_id=_ANY_WALLET)
        query = rows.order_by("-created_at", "-id")[:count].query
        compiler = query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        if list(params) != [_ANY_WALLET]:
            raise ValueError(f"Unexpected parameters compiling {model.__name__}'s history.")
        columns = [column for column, _, _ in compiler.select]
        statement = _Statement(
            sql,
            tuple(column.target.attname for column in columns),
            compiler,
            compiler.get_converters(columns),
        )
        compiled[(model, count)] = statement
    return statement


def newest_rows(model: type[M], wallet: models.Model, count: int) -> list[M]:
    """``wallet``'s newest ``count`` rows of ``model`` (a ledger model with a
    ``wallet`` foreign key and the history index), newest first, each with
    ``wallet`` as its wallet: what ``wallet.<rows>.order_by("-created_at",
    "-id")[:count]`` returns, in one statement compiled once."""
    if isinstance(count, bool) or not isinstance(count, int) or count > MAX_NEWEST_ROWS:
        raise ValueError(f"Read 0 to {MAX_NEWEST_ROWS} of a wallet's newest rows, not {count!r}.")
    if count < 1:
        return []
    using = router.db_for_read(model, instance=wallet)
    connection = connections[using]
    statement = _statement(model, connection, count)
    with statement_cursor(connection) as cursor:
        cursor.execute(statement.sql, [wallet.pk])
        rows = cursor.fetchall()
    if statement.converters:
        rows = statement.compiler.apply_converters(rows, statement.converters)
    attnames = statement.attnames
    if not loaded_directly(model):
        built = [model.from_db(using, attnames, row) for row in rows]
        for row in built:
            row._state.fields_cache["wallet"] = wallet
        return built
    built = []
    new = model.__new__
    for values in rows:
        row = new(model)
        attributes = row.__dict__
        attributes.update(zip(attnames, values, strict=True))
        state = attributes["_state"] = ModelState()
        state.adding, state.db = False, using
        state.fields_cache = {"wallet": wallet}
        built.append(row)
    return built
