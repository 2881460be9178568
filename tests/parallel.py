"""Running jobs in real parallel threads for the PostgreSQL race tests: each
thread has its own database connection, and a barrier releases them together
so the operations really overlap."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from django.db import connection

WAIT_SECONDS = 30


def run_parallel(
    jobs: Sequence[Callable[[], Any]], expected: tuple[type[BaseException], ...] = ()
) -> tuple[list[Any], list[BaseException]]:
    """Run ``jobs`` together; return (results, unexpected errors).

    An ``expected`` exception counts as a result (a refusal the test counts);
    any other, a deadlock or a lost update surfacing as an error, is returned
    apart for the test to assert there is none."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(job: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=WAIT_SECONDS)
            outcome: Any = job()
        except expected as refused:
            outcome = refused
        except Exception as error:
            with lock:
                errors.append(error)
            return
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=worker, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return results, errors
