"""Where a contender's connections spend a PostgreSQL round: ``pg_stat_activity``, sampled.

While a round runs, a thread with a connection of its own reads
``pg_stat_activity`` every :data:`INTERVAL` seconds and files each of the
database's other client connections under one of :data:`KINDS`. The shares
say why a scenario runs at the speed it does: connections queued on one row
lock, waiting for the WAL to reach the disk, or idle while Python prepares
the next statement.
"""

from __future__ import annotations

import threading
from collections import Counter
from types import TracebackType

INTERVAL = 0.002

# Waiting for a row lock; writing or flushing the WAL (or waiting for another's
# flush); running; any other wait; idle, with the client (Python) to act next.
ROW_LOCK, WAL, RUNNING, OTHER, CLIENT = ("row lock", "WAL", "running", "other waits", "client")
KINDS = (ROW_LOCK, WAL, RUNNING, OTHER, CLIENT)

# A row lock held by another transaction: its heavyweight tuple lock (the queue)
# and its transaction id (the holder, until it commits).
_ROW_LOCK_EVENTS = frozenset({"tuple", "transactionid"})
# IO WALSync/WALWrite (this backend writes or flushes), LWLock WALWrite (it
# waits for another's flush, which may carry its commit), LWLock WALInsert.
_WAL_EVENTS = frozenset({"WALSync", "WALWrite", "WALInsert"})

_ACTIVITY = (
    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
    "AND backend_type = 'client backend'"
)


def kind(state: str | None, wait_type: str | None, wait_event: str | None) -> str:
    """Which of :data:`KINDS` a connection is in, from its ``pg_stat_activity`` row."""
    if state != "active" or wait_type == "Client":
        # Idle (in a transaction or not), or waiting for the client's next message.
        return CLIENT
    if wait_type is None:
        return RUNNING
    if wait_type == "Lock" and wait_event in _ROW_LOCK_EVENTS:
        return ROW_LOCK
    if wait_event in _WAL_EVENTS:
        return WAL
    return OTHER


def shares(counts: Counter[str]) -> dict[str, float]:
    """Each kind's share of all the connections sampled, 0 to 1, in :data:`KINDS` order."""
    total = sum(counts.values())
    return {name: counts[name] / total if total else 0.0 for name in KINDS}


class WaitSampler:
    """``with WaitSampler(conninfo) as sampler:`` samples the activity of the
    database ``conninfo`` connects to (a libpq connection string or URL) while
    the block runs; then ``sampler.shares()``."""

    def __init__(self, conninfo: str, interval: float = INTERVAL) -> None:
        self.conninfo = conninfo
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> WaitSampler:
        import psycopg

        # Connected here, so a bad conninfo fails the block before it starts.
        self._conn = psycopg.connect(self.conninfo, autocommit=True)
        self._thread = threading.Thread(target=self._sample, name="wait-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self._conn.close()
        if self._error is not None and exc is None:
            raise self._error

    def shares(self) -> dict[str, float]:
        return shares(self.counts)

    def _sample(self) -> None:
        try:
            while not self._stop.wait(self.interval):
                rows = self._conn.execute(_ACTIVITY).fetchall()
                self.counts.update(kind(*row) for row in rows)
                self.samples += 1
        except BaseException as error:  # reported by __exit__
            self._error = error
