from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.testapp.models import Club, TaxWallet
from wallets.abstract_models import AbstractWallet
from wallets.models import AuditEntry, RiskRule, TransferHold
from wallets.services import wallet_service
from wallets.staff import StaffActor
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def test_abstract_wallet_can_be_extended(alice):
    assert AbstractWallet._meta.abstract
    wallet = TaxWallet.objects.create(
        holder_type=ContentType.objects.get_for_model(alice),
        holder_id=str(alice.pk),
        slug="tax",
        name="Tax",
        unit="USD",
        balance=Decimal("12345678901234567.5"),
        held=Decimal("0.5"),
        tax_exempt=True,
    )
    fresh = TaxWallet.objects.get(pk=wallet.pk)
    assert fresh.tax_exempt and fresh.holder == alice
    assert fresh.available == Decimal("12345678901234567")


def test_holders_of_different_models_with_the_same_pk_have_separate_wallets(alice):
    club = Club.objects.create(pk=alice.pk, name="same pk")
    alice.deposit(5)
    club.deposit(7)
    assert (alice.balance, club.balance) == (5, 7)
    assert alice.wallet.pk != club.wallet.pk
    assert club.wallet.holder == club


def test_get_wallet_and_has_wallet(alice):
    assert not alice.has_wallet("gems")
    gems = alice.get_wallet("gems", name="Gems", unit="gem", decimal_places=0)
    assert (gems.name, gems.unit, gems.decimal_places) == ("Gems", "GEM", 0)
    assert alice.has_wallet("gems")
    assert alice.get_wallet("gems").pk == gems.pk
    assert alice.balance == 0 and not alice.has_wallet("default")  # reading opens nothing


def test_reconciliation_passes_on_a_consistent_ledger(alice, bob, capsys):
    alice.deposit(10)
    alice.withdraw(3, confirmed=False)
    alice.transfer(bob, 2)
    call_command("wallets_reconcile")
    assert "3 wallets match" not in capsys.readouterr().err


def test_reconciliation_names_the_wallet_that_differs(alice, bob, capsys):
    alice.deposit(10)
    bob.deposit(5)
    Wallet.objects.filter(pk=alice.wallet.pk).update(balance=Decimal("10.01"))
    Wallet.objects.filter(pk=bob.wallet.pk).update(held=Decimal("1"))
    with pytest.raises(CommandError, match="2 mismatch"):
        call_command("wallets_reconcile")
    err = capsys.readouterr().err
    assert str(alice.wallet.uuid) in err and "balance is 10.01" in err
    assert str(bob.wallet.uuid) in err and "held is 1" in err


def test_reconciliation_reports_corrupted_rows_and_never_crashes(alice, bob, carol, capsys):
    """A hand-made UPDATE (SQLite: a number where the engine writes text;
    PostgreSQL: a value one unit off) is reported per wallet, and the command
    exits non-zero after checking every wallet."""
    from django.db import connection

    alice.deposit(10)
    bob.deposit(5)
    carol.deposit(7)
    tx = bob.wallet.transactions.get()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Wallet._meta.db_table} SET balance = balance + 1 WHERE id = %s",
            [alice.wallet.pk],
        )
        cursor.execute(
            f"UPDATE {Transaction._meta.db_table} SET amount = amount + 1 WHERE id = %s", [tx.pk]
        )
    with pytest.raises(CommandError, match="2 mismatch"):
        call_command("wallets_reconcile")
    err = capsys.readouterr().err
    assert str(alice.wallet.uuid) in err and str(bob.wallet.uuid) in err
    assert str(carol.wallet.uuid) not in err
    if connection.vendor == "sqlite":
        assert "balance is unreadable" in err and "1 transaction amount(s) cannot be read" in err
    else:
        assert "balance is 11" in err and "balance is 5, transactions say 6" in err
    # The command's earlier name reports the same and fails the same way.
    with pytest.raises(CommandError, match="2 mismatch"):
        call_command("wallets_audit")
    assert str(alice.wallet.uuid) in capsys.readouterr().err


def test_ledger_models_are_read_only_in_the_admin(rf, admin_user, alice, bob):
    alice.deposit(5)
    alice.transfer(bob, 1)
    request = rf.get("/")
    request.user = admin_user
    for model in (Transaction, Transfer, TransferHold, AuditEntry):
        model_admin = admin.site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    wallet_admin = admin.site._registry[Wallet]
    assert not wallet_admin.has_add_permission(request)
    assert not wallet_admin.has_delete_permission(request)


def one_row_of_each(alice, bob, admin_user) -> dict[str, object]:
    """A wallet, transaction, transfer, held transfer, audit entry and risk rule."""
    alice.deposit(100)
    transfer = alice.transfer(bob, 1)
    rule = RiskRule.objects.create(
        name="Big", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD
    )
    hold = alice.transfer(bob, 60)
    assert isinstance(hold, TransferHold)
    wallet_service().freeze(bob.wallet, actor=StaffActor(admin_user, "checked"))
    return {
        "wallet": alice.wallet,
        "transaction": transfer.withdraw,
        "transfer": transfer,
        "transferhold": hold,
        "auditentry": AuditEntry.objects.get(),
        "riskrule": rule,
    }


def changelist(row) -> str:
    """A row's admin list; swapped ledger models live under their own app label."""
    return f"/admin/{row._meta.app_label}/{row._meta.model_name}/"


def test_admin_pages_render(admin_client, admin_user, alice, bob):
    rows = one_row_of_each(alice, bob, admin_user)
    for row in rows.values():
        for url in (changelist(row), f"{changelist(row)}{row.pk}/change/"):
            response = admin_client.get(url)
            assert response.status_code == 200, url
    assert admin_client.get("/admin/wallets/riskrule/add/").status_code == 200
    dashboard = admin_client.get(f"{changelist(alice.wallet)}dashboard/")
    assert dashboard.status_code == 200
    assert '<td id="hold-count">1</td>' in dashboard.content.decode()
    export = admin_client.get("/admin/wallets/auditentry/export/")
    assert export.status_code == 200
    lines = b"".join(export.streaming_content).decode().splitlines()
    assert len(lines) == 2 and ",freeze," in lines[1]


def test_admin_confirmation_pages_render(admin_client, admin_user, alice, bob):
    rows = one_row_of_each(alice, bob, admin_user)
    pages = [
        ("wallet", "freeze_wallets"),
        ("wallet", "unfreeze_wallets"),
        ("wallet", "credit_wallet"),
        ("wallet", "debit_wallet"),
        ("transaction", "confirm_pending"),
        ("transaction", "reject_pending"),
        ("transaction", "reverse_transactions"),
        ("transfer", "refund_transfers"),
        ("transferhold", "release_holds"),
        ("transferhold", "reject_holds"),
    ]
    for name, action in pages:
        response = admin_client.post(
            changelist(rows[name]),
            {"action": action, ACTION_CHECKBOX_NAME: [str(rows[name].pk)]},
        )
        page = response.content.decode()
        assert response.status_code == 200 and "Nothing changes until you confirm" in page, action
        assert 'name="idempotency_key"' in page and 'name="reason"' in page, action
    assert AuditEntry.objects.count() == 1  # showing a page changes nothing


def test_balance_series_gives_end_of_day_balances(alice, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from wallets.selectors import balance_series

    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=40))
    alice.deposit(100)  # before the window: the opening balance
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=2))
    alice.withdraw(30)
    pending = alice.deposit(5, confirmed=False)
    monkeypatch.setattr(timezone, "now", lambda: now)
    from wallets.services import WalletService

    WalletService.confirm_transaction(pending)  # counts on the day it was confirmed
    series = balance_series(alice.wallet, days=30)
    assert len(series) == 30
    assert series[0][1] == 100
    assert series[-3][1] == 70
    assert series[-1] == (timezone.localdate(), Decimal(75))
