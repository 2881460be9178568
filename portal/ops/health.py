"""Liveness and readiness probes.

``/healthz`` answers as long as the process can serve a request and never
touches the database; ``/readyz`` also needs the database to answer and every
migration of this code to be applied, so a rolling deploy sends no traffic to a
pod whose schema is behind.

``/readyz`` must answer quickly even when the database stalls, or the load
balancer cannot take the pod out: on PostgreSQL it asks over a connection of
its own with short timeouts, in a thread it waits on for at most
``PROBE_SECONDS``. A probe still stuck from before makes the next one answer
"not ready" at once rather than pile up threads.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

logger = logging.getLogger(__name__)

# Migrations only move forward for a given deployed code, so once they are all
# applied there is no need to load the migration graph on every probe again.
_migrations_applied = False


PROBE_SECONDS = 1.5
_probe_running = threading.Lock()


def database_reachable(alias: str = DEFAULT_DB_ALIAS) -> bool:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        # A local file: nothing on the way can stall.
        return _select_one(alias)
    return _probe_postgres(probe_parameters(connection.get_connection_params()))


def _select_one(alias: str) -> bool:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("readiness: database %s unreachable", alias, exc_info=True)
        return False
    return True


def probe_parameters(params: dict[str, Any]) -> dict[str, Any]:
    """psycopg.connect() arguments for the probe: the site's, with short timeouts."""
    probe = {
        key: value
        for key, value in params.items()
        if key not in ("cursor_factory", "context", "prepare_threshold")
    }
    probe["connect_timeout"] = 2  # libpq's minimum
    probe["tcp_user_timeout"] = int(PROBE_SECONDS * 1000)
    limit = f"-c statement_timeout={int(PROBE_SECONDS * 1000)}"
    probe["options"] = " ".join(filter(None, [params.get("options", ""), limit]))
    probe["application_name"] = "portal-readyz"
    return probe


def _probe_postgres(params: dict[str, Any]) -> bool:
    import psycopg

    if not _probe_running.acquire(blocking=False):
        logger.warning("readiness: the previous database probe has not returned yet")
        return False
    done = threading.Event()
    answer: list[bool] = []

    def probe() -> None:
        try:
            with psycopg.connect(autocommit=True, **params) as conn:
                conn.execute("SELECT 1").fetchone()
            answer.append(True)
        except Exception:  # any failure means "not ready"; never kill the thread noisily
            logger.warning("readiness: database unreachable", exc_info=True)
        finally:
            _probe_running.release()
            done.set()

    # The thread may outlive this request if the database hangs; it ends with
    # its own timeouts and lets the next probe run.
    threading.Thread(target=probe, name="readyz-probe", daemon=True).start()
    if not done.wait(PROBE_SECONDS):
        logger.warning("readiness: database did not answer within %.1f s", PROBE_SECONDS)
        return False
    return bool(answer)


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
