"""Swappable ledger models, as ``AUTH_USER_MODEL`` swaps the user.

The engine-only run (``tests.engine_settings``) names the project's own models
(``tests.ledgerapp``) in ``WALLETS_WALLET_MODEL`` and its two siblings, so every
engine test in that run works on them. These tests check that the swap is real:
the rows land in the project's tables, the engine's own tables do not exist,
and every foreign key points at the models in use.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from wallets import swappable
from wallets.exceptions import WalletFrozen
from wallets.models import Purchase, TransferHold
from wallets.reconciliation import reconcile_wallets
from wallets.services import transfer_service, wallet_service
from wallets.staff import StaffActor, permission
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

pytestmark = pytest.mark.django_db

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

swapped = pytest.mark.skipif(
    Wallet._meta.label != "ledgerapp.CostCenterWallet",
    reason="the engine-only run (tests.engine_settings) swaps the ledger models",
)


def test_the_models_in_use_are_the_ones_settings_name():
    assert Wallet._meta.label == settings.WALLETS_WALLET_MODEL
    assert Transaction._meta.label == settings.WALLETS_TRANSACTION_MODEL
    assert Transfer._meta.label == settings.WALLETS_TRANSFER_MODEL


def test_every_foreign_key_points_at_the_models_in_use():
    assert Transaction._meta.get_field("wallet").related_model is Wallet
    for name in ("from_wallet", "to_wallet"):
        assert Transfer._meta.get_field(name).related_model is Wallet
        assert TransferHold._meta.get_field(name).related_model is Wallet
    for name in ("withdraw", "deposit"):
        assert Transfer._meta.get_field(name).related_model is Transaction
    assert TransferHold._meta.get_field("reservation").related_model is Transaction
    assert TransferHold._meta.get_field("transfer").related_model is Transfer
    assert Purchase._meta.get_field("wallet").related_model is Wallet
    assert Purchase._meta.get_field("withdraw").related_model is Transaction


def test_a_misnamed_model_is_a_clear_configuration_error(settings):
    settings.WALLETS_WALLET_MODEL = "ledgerapp.NoSuchWallet"
    with pytest.raises(ImproperlyConfigured, match="has not been installed"):
        swappable.get_wallet_model()
    settings.WALLETS_WALLET_MODEL = "no-dot"
    with pytest.raises(ImproperlyConfigured, match=r"app_label\.ModelName"):
        swappable.get_wallet_model()


@swapped
def test_the_engines_own_tables_are_not_created_when_swapped():
    tables = set(connection.introspection.table_names())
    assert {"ledgerapp_costcenterwallet", "ledgerapp_channeltransaction"} <= tables
    assert "ledgerapp_batchtransfer" in tables
    assert not {"wallets_wallet", "wallets_transaction", "wallets_transfer"} & tables
    default = apps.get_model("wallets", "Wallet")
    assert default._meta.swapped == "ledgerapp.CostCenterWallet"
    with pytest.raises(AttributeError, match="swapped"):
        default.objects.count()


@swapped
def test_money_moves_through_the_projects_models_with_their_own_fields(alice, bob, item):
    wallet = alice.get_wallet("default", cost_center="R&D")
    assert isinstance(wallet, Wallet)
    assert Wallet.objects.get(pk=wallet.pk).cost_center == "R&D"

    alice.deposit("100.00")
    transfer = alice.transfer(bob, "12.50", meta={"note": "lunch"})
    alice.exchange("default", "eur", "10.00")
    payment = alice.pay(item)
    pending = alice.withdraw("5.00", confirmed=False)

    assert isinstance(transfer, Transfer) and isinstance(payment, Transfer)
    assert isinstance(transfer.withdraw, Transaction)
    assert transfer.withdraw.channel == "api"  # the project's column, with its default
    assert Transaction.objects.filter(wallet=wallet).count() == 5
    assert alice.balance == Decimal("100.00") - Decimal("12.50") - Decimal("10.00") - Decimal("7.5")
    assert alice.wallet.held == Decimal("5.00")
    assert bob.balance == Decimal("12.50")
    assert alice.get_wallet("eur").balance == Decimal("9.20")
    assert item.seller.balance == Decimal("7.50")

    # Staff actions, refunds and reconciliation find the same rows.
    boss = staff_with(alice, "confirm_transaction", "refund_transfer", "freeze_wallet")
    wallet_service().confirm_transaction(pending, actor=StaffActor(boss, "paid out"))
    wallet_service().freeze(bob.wallet, actor=StaffActor(boss, "checked"))
    with pytest.raises(WalletFrozen):
        bob.transfer(alice, 1)
    wallet_service().unfreeze(bob.wallet, actor=StaffActor(boss, "cleared"))
    refund = transfer_service().refund(transfer, actor=StaffActor(boss, "returned"))
    assert isinstance(refund, Transfer) and refund.refund_of == transfer
    assert (alice.balance, bob.balance) == (Decimal("77.50"), Decimal("0.00"))
    assert reconcile_wallets() == []
    call_command("wallets_reconcile")


def staff_with(holder, *codenames):
    from tests.wallets.conftest import make_staff

    user = make_staff(f"staff-{holder.pk}", *codenames)
    assert user.has_perm(permission("freeze"))
    return user
