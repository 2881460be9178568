"""The staff console under real concurrency (PostgreSQL): one console form POSTed twice at
the same moment, from two browser sessions of the same staff member, moves money once and
writes one audit entry. Each thread has its own client and database connection; a barrier
releases them together so the requests really overlap."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from shop.models import Order
from tests.staff.conftest import fresh_key
from wallets.models import AuditEntry, IdempotencyRecord
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def post_in_parallel(user, url: str, *forms: dict) -> list[int]:
    """POST each form from a client of its own, all at once; their status codes."""
    clients = []
    for _ in forms:
        client = Client()
        client.force_login(user)
        clients.append(client)
    barrier = threading.Barrier(len(forms))
    statuses: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(client: Client, data: dict) -> None:
        try:
            barrier.wait(timeout=30)
            status = client.post(url, data).status_code
            with lock:
                statuses.append(status)
        except BaseException as exc:  # deadlocks and lost updates surface here
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(client, data))
        for client, data in zip(clients, forms, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert errors == []
    return statuses


def assert_reconciled() -> None:
    call_command("wallets_reconcile")  # raises CommandError on any mismatch


def balance(wallet: Wallet) -> Decimal:
    return Wallet.objects.get(pk=wallet.pk).balance


def test_we_really_are_on_postgresql():
    assert connection.vendor == "postgresql"


def test_the_same_top_up_confirmation_posted_twice_at_once(moderator, holder):
    tx = holder.wallet.deposit("30.00", meta={"request": "top-up"}, confirmed=False)
    url = reverse("staff:decide", args=[tx.uuid, "confirm"])
    data = {f"{tx.uuid}-reason": "card paid", f"{tx.uuid}-idempotency_key": fresh_key()}
    statuses = post_in_parallel(moderator, url, data, data)
    # Both answer "confirmed" (the second replays the first); it happened once.
    assert statuses == [302, 302]
    assert Transaction.objects.get(pk=tx.pk).state == Transaction.State.CONFIRMED
    assert balance(holder.wallet) == Decimal("130.00")
    assert AuditEntry.objects.filter(action="confirm").count() == 1
    assert IdempotencyRecord.objects.count() == 1
    assert_reconciled()


def test_the_same_transfer_refund_posted_twice_at_once(moderator, holder, other):
    transfer = holder.transfer(other, "20.00")
    url = reverse("staff:refund_transfer", args=[transfer.uuid])
    data = {"reason": "dispute", "amount": "5.00", "idempotency_key": fresh_key()}
    assert post_in_parallel(moderator, url, data, data) == [302, 302]
    assert Transfer.objects.filter(refund_of=transfer).count() == 1
    assert balance(holder.wallet) == Decimal("85.00")
    assert balance(other.wallet) == Decimal("35.00")
    assert AuditEntry.objects.filter(action="refund_transfer").count() == 1
    assert_reconciled()


def test_the_same_order_refund_posted_twice_at_once(moderator, holder, order):
    url = reverse("staff:refund_order", args=[order.number])
    data = {"reason": "damaged", "idempotency_key": fresh_key()}
    assert post_in_parallel(moderator, url, data, data) == [302, 302]
    assert Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED
    assert balance(holder.wallet) == Decimal("100.00")
    assert AuditEntry.objects.filter(action="refund_order").count() == 1
    assert_reconciled()


def test_two_staff_forms_for_one_refund_never_refund_more_than_was_paid(moderator, holder, other):
    """Two different forms (two keys) asking for the whole transfer: one wins, one is refused."""
    transfer = holder.transfer(other, "20.00")
    url = reverse("staff:refund_transfer", args=[transfer.uuid])
    forms = [{"reason": "dispute", "amount": "", "idempotency_key": fresh_key()} for _ in "ab"]
    statuses = post_in_parallel(moderator, url, *forms)
    assert sorted(statuses) == [302, 422]  # the second is told it was refunded in full
    assert balance(holder.wallet) == Decimal("100.00")
    assert Transfer.objects.filter(refund_of=transfer).count() == 1
    assert AuditEntry.objects.filter(action="refund_transfer").count() == 1
    assert_reconciled()
