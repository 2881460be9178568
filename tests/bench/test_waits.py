"""bench.waits: each connection filed under the right kind, and a real row-lock
queue on PostgreSQL seen as one."""

import threading
import time
import uuid
from collections import Counter

import psycopg
import pytest

from bench import waits
from bench.databases import django_conninfo
from bench.waits import CLIENT, KINDS, OTHER, ROW_LOCK, RUNNING, WAL, WaitSampler, kind, shares


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (("idle", "Client", "ClientRead"), CLIENT),
        (("idle in transaction", "Client", "ClientRead"), CLIENT),
        (("active", "Client", "ClientRead"), CLIENT),  # between two messages of one query
        (("active", None, None), RUNNING),
        (("active", "Lock", "transactionid"), ROW_LOCK),
        (("active", "Lock", "tuple"), ROW_LOCK),
        (("active", "IO", "WALSync"), WAL),
        (("active", "LWLock", "WALWrite"), WAL),
        (("active", "Lock", "relation"), OTHER),
        (("active", "Lock", "advisory"), OTHER),
        (("active", "LWLock", "LockManager"), OTHER),
    ],
)
def test_a_connection_is_filed_by_its_state_and_wait(row, expected):
    assert kind(*row) == expected


def test_shares_cover_every_kind_and_add_up_to_one():
    found = shares(Counter({ROW_LOCK: 3, CLIENT: 1}))
    assert list(found) == list(KINDS)
    assert found[ROW_LOCK] == 0.75 and found[CLIENT] == 0.25 and found[WAL] == 0
    assert sum(found.values()) == 1
    assert shares(Counter()) == dict.fromkeys(KINDS, 0.0)


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_connection_queued_on_a_locked_row_is_sampled_as_waiting_for_it():
    conninfo = django_conninfo()
    table = f"wait_probe_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(conninfo, autocommit=True) as setup:
        setup.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, n int)")
        setup.execute(f"INSERT INTO {table} VALUES (1, 0)")
    holder = psycopg.connect(conninfo)
    waiter = psycopg.connect(conninfo, autocommit=True)
    try:
        holder.execute(f"SELECT n FROM {table} WHERE id = 1 FOR UPDATE")
        queued = threading.Thread(
            target=waiter.execute, args=(f"UPDATE {table} SET n = n + 1 WHERE id = 1",)
        )
        with WaitSampler(conninfo, interval=0.001) as sampler:
            queued.start()
            time.sleep(0.3)
            holder.commit()  # the waiter gets the row and finishes
            queued.join(timeout=5)
        assert not queued.is_alive()
        assert sampler.samples > 10
        # The waiter, queued on the row for most of the block; the holder,
        # idle in its transaction meanwhile. The sampler never counts itself.
        assert sampler.counts[ROW_LOCK] >= sampler.samples // 2
        assert sampler.counts[CLIENT] >= sampler.samples // 2
        assert sampler.counts[ROW_LOCK] <= sampler.samples
        assert holder.execute(f"SELECT n FROM {table}").fetchone() == (1,)
    finally:
        holder.close()
        waiter.close()
        with psycopg.connect(conninfo, autocommit=True) as cleanup:
            cleanup.execute(f"DROP TABLE {table}")


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_failing_sample_fails_the_block(monkeypatch):
    monkeypatch.setattr(waits, "_ACTIVITY", "SELECT * FROM no_such_table")
    with pytest.raises(psycopg.errors.UndefinedTable):
        with WaitSampler(django_conninfo(), interval=0.001):
            time.sleep(0.05)
