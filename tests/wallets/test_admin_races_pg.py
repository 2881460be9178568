"""The admin under real concurrency on PostgreSQL: each thread is its own request on
its own database connection, signed in as the same staff member.

A confirmation page sent twice at once (a double click, a proxy retrying) moves
money once and writes one audit entry; a rename on the wallet's page keeps a
deposit that commits between the page reading the wallet and saving it."""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from tests.parallel import run_parallel
from tests.wallets.admin_pages.support import (
    TRANSFERS_URL,
    TX_URL,
    WALLETS_URL,
    action_page,
    confirm_action,
    page_key,
    rename,
)
from wallets.admin.wallet_admin import WalletAdmin
from wallets.models import AuditEntry
from wallets.reconciliation import reconcile_wallets
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
WAIT = 30


def signed_in(user) -> Client:
    """A browser of its own (its own cookies), signed in as ``user``."""
    client = Client(raise_request_exception=True)
    client.force_login(user)
    return client


def fresh(wallet: Wallet) -> Wallet:
    return Wallet.objects.get(pk=wallet.pk)


def confirmed_twice_at_once(user, url: str, action: str, objects, **data: Any) -> list[str]:
    """The same confirmed page, sent by two requests at the same moment."""
    key = page_key(action_page(signed_in(user), url, action, objects))
    clients = [signed_in(user), signed_in(user)]
    results, errors = run_parallel(
        [
            lambda client=client: confirm_action(client, url, action, objects, key=key, **data)
            for client in clients
        ]
    )
    assert errors == []
    assert [r.status_code for r in results] == [200, 200]
    return [r.content.decode() for r in results]


def test_we_really_are_on_postgresql():
    assert connection.vendor == "postgresql"


def test_a_refund_confirmed_twice_at_once_is_refunded_once(admin_staff, holder, other):
    transfer = holder.transfer(other, "20.00")
    confirmed_twice_at_once(
        admin_staff, TRANSFERS_URL, "refund_transfers", [transfer], amount="5", reason="dispute"
    )
    assert Transfer.objects.filter(kind=Transfer.Kind.REFUND).count() == 1
    assert fresh(holder.wallet).balance == Decimal("85.00")
    assert fresh(other.wallet).balance == Decimal("35.00")
    assert AuditEntry.objects.filter(action="refund_transfer").count() == 1
    assert reconcile_wallets() == []


def test_a_manual_credit_confirmed_twice_at_once_is_credited_once(admin_staff, holder):
    confirmed_twice_at_once(
        admin_staff, WALLETS_URL, "credit_wallet", [holder.wallet], amount="10", reason="goodwill"
    )
    assert fresh(holder.wallet).balance == Decimal("110.00")
    assert holder.wallet.transactions.count() == 2  # the holder's deposit and one credit
    assert AuditEntry.objects.filter(action="credit").count() == 1
    assert reconcile_wallets() == []


def test_a_top_up_confirmed_twice_at_once_is_confirmed_once(admin_staff, holder):
    top_up = holder.wallet.deposit("30.00", meta={"request": "top-up"}, confirmed=False)
    pages = confirmed_twice_at_once(
        admin_staff, TX_URL, "confirm_pending", [top_up], reason="paid in"
    )
    # The later request replays the first one's result: neither is refused.
    assert all("Confirm pending transactions: done for 1 of 1" in page for page in pages)
    assert fresh(holder.wallet).balance == Decimal("130.00")
    assert Transaction.objects.get(pk=top_up.pk).state == Transaction.State.CONFIRMED
    assert AuditEntry.objects.filter(action="confirm").count() == 1
    assert reconcile_wallets() == []


def test_a_rename_keeps_a_deposit_committed_while_the_page_was_saving(
    admin_staff, holder, monkeypatch
):
    """The change view reads the wallet, another connection deposits and commits,
    then the change view saves the new name."""
    wallet = holder.wallet
    page_read, deposited = threading.Event(), threading.Event()
    read = WalletAdmin.get_object

    def read_then_wait(self, request, object_id, from_field=None):
        obj = read(self, request, object_id, from_field)
        if request.method == "POST":
            page_read.set()
            assert deposited.wait(WAIT), "the deposit never came"
        return obj

    monkeypatch.setattr(WalletAdmin, "get_object", read_then_wait)
    client = signed_in(admin_staff)
    key = page_key(client.get(f"{WALLETS_URL}{wallet.pk}/change/"))

    def rename_in_the_admin():
        return rename(client, wallet, "Savings", reason="holder asked", key=key)

    def deposit_meanwhile():
        assert page_read.wait(WAIT), "the admin never read the wallet"
        Wallet.objects.get(pk=wallet.pk).deposit("25.00")  # commits on its own connection
        deposited.set()
        return "deposited"

    results, errors = run_parallel([rename_in_the_admin, deposit_meanwhile])
    assert errors == []
    (response,) = [r for r in results if r != "deposited"]
    assert "was changed successfully" in response.content.decode()
    renamed = fresh(wallet)
    assert renamed.name == "Savings"
    assert renamed.balance == Decimal("125.00")  # the deposit is kept
    assert AuditEntry.objects.filter(action="rename").count() == 1
    assert reconcile_wallets() == []
    call_command("wallets_reconcile")
