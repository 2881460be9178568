"""Read replica routing for history and reports.

Only reads made inside ``replica_reads()`` (or a view decorated with
``@use_replica``) go to the ``replica`` database, and never inside a transaction
on the primary: money paths lock and read their rows on the primary, and a page
that just wrote must not read its own write back from a lagging replica.
Without ``DATABASE_REPLICA_URL`` everything stays on ``default``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, HttpResponse

REPLICA_ALIAS = "replica"

_prefer_replica: ContextVar[bool] = ContextVar("prefer_replica", default=False)


def replica_configured() -> bool:
    return REPLICA_ALIAS in settings.DATABASES


def read_alias() -> str:
    """The alias history reads should use right now."""
    if (
        _prefer_replica.get()
        and replica_configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA_ALIAS
    return DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[None]:
    """Send the reads made in this block to the replica, when there is one."""
    token = _prefer_replica.set(True)
    try:
        yield
    finally:
        _prefer_replica.reset(token)


def use_replica(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a read-only view (history, reports): its queries read from the replica.

    A ``TemplateResponse`` is rendered inside the block, so the lazy querysets it
    evaluates while rendering read from the replica too.
    """

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with replica_reads():
            response = view(request, *args, **kwargs)
            render = getattr(response, "render", None)
            if callable(render) and not getattr(response, "is_rendered", True):
                render()
        return response

    return wrapped


class ReplicaRouter:
    """Installed in ``DATABASE_ROUTERS`` only when ``DATABASE_REPLICA_URL`` is set."""

    def db_for_read(self, model: type, **hints: Any) -> str:
        return read_alias()

    def db_for_write(self, model: type, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
