"""Liveness and readiness probes.

``/healthz`` answers as long as the process can serve a request; ``/readyz`` also
needs the database to answer and every migration of this code to be applied, so
a rolling deploy sends no traffic to a pod whose schema is behind.
"""

from __future__ import annotations

import logging

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)

# Migrations only move forward for a given deployed code, so once they are all
# applied there is no need to load the migration graph on every probe again.
_migrations_applied = False


def database_reachable(alias: str = DEFAULT_DB_ALIAS) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("readiness: database %s unreachable", alias, exc_info=True)
        return False
    return True


def unapplied_migrations(alias: str = DEFAULT_DB_ALIAS) -> list[str]:
    executor = MigrationExecutor(connections[alias])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _ in plan]


def migrations_applied(alias: str = DEFAULT_DB_ALIAS) -> bool:
    global _migrations_applied
    if _migrations_applied:
        return True
    try:
        pending = unapplied_migrations(alias)
    except DatabaseError:
        logger.warning("readiness: could not read the migration state", exc_info=True)
        return False
    if pending:
        logger.warning("readiness: %d migrations not applied", len(pending))
        return False
    _migrations_applied = True
    return True


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": database_reachable()}
    checks["migrations"] = checks["database"] and migrations_applied()
    ready = all(checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
