"""New rows' ids: random for wallets, time-ordered for the ledger's rows."""

import os
import pickle
import threading
import time
import uuid
from decimal import Decimal

import pytest

from wallets import uuids
from wallets.models import AuditEntry, FeeCharge, Purchase, TransferHold
from wallets.services import TransferService
from wallets.uuids import random_uuid, time_ordered_uuid


def milliseconds_of(made: uuid.UUID) -> int:
    return made.int >> 80


def assert_behaves_as_a_uuid(made: uuid.UUID) -> None:
    # The UUID its text, its bytes and a pickle make: equal, same hash.
    pickled = pickle.loads(pickle.dumps(made))
    for again in (uuid.UUID(str(made)), uuid.UUID(bytes=made.bytes), pickled):
        assert again == made and hash(again) == hash(made) and again.int == made.int
    assert made.is_safe is uuid.SafeUUID.unknown


def test_random_uuids_are_version_4_and_never_repeat():
    drawn = [random_uuid() for _ in range(5000)]
    assert len(set(drawn)) == 5000
    assert {u.version for u in drawn} == {4}
    assert {u.variant for u in drawn} == {uuid.RFC_4122}
    for made in drawn[:200]:
        assert_behaves_as_a_uuid(made)


def test_time_ordered_uuids_are_version_7_carry_the_time_and_never_repeat():
    before = time.time_ns() // 1_000_000
    drawn = [time_ordered_uuid() for _ in range(5000)]
    after = time.time_ns() // 1_000_000
    assert len(set(drawn)) == 5000
    assert {u.version for u in drawn} == {7}
    assert {u.variant for u in drawn} == {uuid.RFC_4122}
    assert all(before <= milliseconds_of(u) <= after for u in drawn)
    # The 74 bits after the time are random: in 5,000 ids each of them varies.
    random_part = ((1 << 80) - 1) & ~((0xF << 76) | (0x3 << 62))
    varying = 0
    for made in drawn[1:]:
        varying |= (made.int ^ drawn[0].int) & random_part
    assert varying == random_part
    for made in drawn[:200]:
        assert_behaves_as_a_uuid(made)


def test_ids_of_a_later_millisecond_sort_after_the_earlier_ones():
    earlier = [time_ordered_uuid() for _ in range(50)]
    start = time.time_ns() // 1_000_000
    while time.time_ns() // 1_000_000 <= start + 1:
        pass
    later = [time_ordered_uuid() for _ in range(50)]
    assert max(earlier) < min(later)
    assert max(map(str, earlier)) < min(map(str, later))  # as text, too


def test_threads_drawing_at_once_never_get_the_same_id():
    drawn: list[list[uuid.UUID]] = [[] for _ in range(8)]

    def draw(into: list[uuid.UUID]) -> None:
        for _ in range(3000):  # each thread empties the pool several times
            into.append(time_ordered_uuid())
            into.append(random_uuid())

    threads = [threading.Thread(target=draw, args=(into,)) for into in drawn]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [made for into in drawn for made in into]
    assert len(every) == 8 * 6000
    # The random bits, not only the ids: a number handed out twice would repeat them.
    assert len({made.int & uuids._KEEP_7 for made in every}) == len(every)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_draws_bits_of_its_own():
    random_uuid()  # the parent now holds unused random bits
    parent_next = list(uuids._pool)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report the id it draws, then leave at once
        os.write(write, random_uuid().bytes)
        os._exit(0)
    os.waitpid(pid, 0)
    child_id = uuid.UUID(bytes=os.read(read, 16))
    os.close(read), os.close(write)
    assert child_id.int & uuids._KEEP_4 not in {bits & uuids._KEEP_4 for bits in parent_next}


@pytest.mark.django_db
def test_ledger_rows_take_time_ordered_ids_and_wallets_random_ones(alice, bob):
    alice.deposit(100)
    transfer = alice.transfer(bob, 10)
    (batched,) = TransferService.bulk_transfer([(alice.wallet, bob.wallet, Decimal(1))])
    transactions = [transfer.withdraw, transfer.deposit, batched.withdraw, batched.deposit]
    assert {tx.uuid.version for tx in transactions} == {7}
    assert transfer.uuid.version == batched.uuid.version == 7
    assert alice.wallet.uuid.version == 4
    for model in (AuditEntry, FeeCharge, Purchase, TransferHold):
        assert model._meta.get_field("uuid").default is time_ordered_uuid
    # As stored: what the database holds is the id the row was given.
    stored = type(transfer).objects.get(pk=batched.pk)
    assert stored.uuid == batched.uuid
