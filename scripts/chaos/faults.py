"""Faults injected while the load runs: killed workers, terminated database connections."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from dataclasses import dataclass, field

from stack import Stack, admin_connection, worker_pids


@dataclass
class FaultLog:
    events: list[tuple[float, str]] = field(default_factory=list)

    def add(self, started: float, text: str) -> None:
        self.events.append((time.monotonic() - started, text))


def kill_a_worker(stack: Stack) -> str:
    """SIGKILL one gunicorn worker in the middle of whatever it serves."""
    assert stack.process is not None
    pids = worker_pids(stack.process.pid)
    if not pids:
        return "no worker to kill"
    pid = random.choice(pids)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return f"worker {pid} already gone"
    return f"SIGKILL worker {pid}"


def terminate_connections(stack: Stack) -> str:
    """pg_terminate_backend on every connection to the database: mid-query, mid-commit."""
    with admin_connection(stack.server_url) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [stack.name],
        ).fetchall()
    return f"terminated {sum(1 for (done,) in rows if done)} database connections"


class FaultInjector(threading.Thread):
    """Alternates the two faults every ``every`` seconds until stopped."""

    def __init__(self, stack: Stack, every: float, started: float) -> None:
        super().__init__(name="faults", daemon=True)
        self.stack = stack
        self.every = every
        self.started = started
        self.log = FaultLog()
        self.stopped = threading.Event()

    def run(self) -> None:
        faults = [kill_a_worker, terminate_connections]
        turn = 0
        while not self.stopped.wait(self.every):
            fault = faults[turn % len(faults)]
            turn += 1
            try:
                self.log.add(self.started, fault(self.stack))
            except Exception as error:  # a fault that fails is reported, not fatal
                self.log.add(self.started, f"{fault.__name__} failed: {error!r}")

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)
