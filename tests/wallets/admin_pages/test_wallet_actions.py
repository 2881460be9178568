"""Staff actions on wallets from the admin: rename, freeze and unfreeze, manual
credit and debit, credit limits. Each: its effect, one audit entry, its refusals,
and a double submit that changes things once."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.management import call_command

from tests.wallets.admin_pages.support import (
    WALLETS_URL,
    Wallet,
    action_page,
    confirm_action,
    fresh,
    page_key,
    rename,
    text,
    the_entry,
)
from tests.wallets.conftest import logged_in, make_user
from wallets.admin.wallet_admin import WalletAdmin
from wallets.models import AuditEntry
from wallets.reconciliation import reconcile_wallets

pytestmark = pytest.mark.django_db


# Renaming on the wallet's page


def test_rename_goes_through_the_engine_with_an_audit_entry(
    admin_staff_client, admin_staff, holder
):
    wallet = holder.wallet
    response = rename(admin_staff_client, wallet, "Savings", reason="holder asked")
    assert response.status_code == 200
    renamed = fresh(wallet)
    assert renamed.name == "Savings" and renamed.balance == Decimal("100.00")
    entry = the_entry("rename", wallet, actor=admin_staff, reason="holder asked")
    assert entry.before["wallets"][str(wallet.uuid)]["name"] == "Main wallet"
    assert entry.after["wallets"][str(wallet.uuid)]["name"] == "Savings"


@pytest.mark.parametrize(
    ("name", "reason", "error"),
    [
        ("Savings", "", "This field is required"),
        ("Savings", "bad\x00reason", "Null characters are not allowed"),
        ("Sav\x00ings", "ok", "Null characters are not allowed"),
        ("", "ok", "This field is required"),
    ],
)
def test_rename_with_bad_input_changes_nothing(admin_staff_client, holder, name, reason, error):
    response = rename(admin_staff_client, holder.wallet, name, reason=reason)
    assert error in text(response)
    assert fresh(holder.wallet).name == "Main wallet"
    assert not AuditEntry.objects.exists()


def test_rename_with_a_damaged_key_says_so_and_changes_nothing(admin_staff_client, holder):
    response = rename(admin_staff_client, holder.wallet, "Savings", key="../x")
    page = text(response)
    assert '<ul class="errorlist nonfield"><li>This page&#x27;s key was damaged' in page
    assert page_key(response) != "../x"  # a new key to confirm with
    assert fresh(holder.wallet).name == "Main wallet"
    assert not AuditEntry.objects.exists()


def test_rename_sent_twice_renames_once(admin_staff_client, holder):
    key = page_key(admin_staff_client.get(f"{WALLETS_URL}{holder.wallet.pk}/change/"))
    for _ in range(2):
        response = rename(admin_staff_client, holder.wallet, "Savings", key=key)
        assert "was changed successfully" in text(response)
    assert fresh(holder.wallet).name == "Savings"
    assert AuditEntry.objects.filter(action="rename").count() == 1


def test_rename_needs_the_change_permission(holder):
    client = logged_in(make_user("looker", staff=True, perms=("view_wallet", "freeze_wallet")))
    url = f"{WALLETS_URL}{holder.wallet.pk}/change/"
    page = text(client.get(url))
    assert 'name="name"' not in page  # view only: this staff member may not rename
    data = {"name": "Hacked", "reason": "x", "idempotency_key": "k" * 32, "_save": "Save"}
    assert client.post(url, data).status_code == 403
    assert fresh(holder.wallet).name == "Main wallet"
    assert not AuditEntry.objects.exists()


def test_rename_keeps_a_deposit_that_lands_between_reading_and_saving(
    admin_staff_client, holder, monkeypatch
):
    """The change form read the wallet, then a deposit commits, then the form saves:
    a full save of the copy read first would drop the deposit."""
    wallet = holder.wallet
    read = WalletAdmin.get_object

    def read_then_deposit(self, request, object_id, from_field=None):
        obj = read(self, request, object_id, from_field)
        if request.method == "POST":
            Wallet.objects.get(pk=obj.pk).deposit("25.00")
        return obj

    monkeypatch.setattr(WalletAdmin, "get_object", read_then_deposit)
    rename(admin_staff_client, wallet, "Savings")
    renamed = fresh(wallet)
    assert renamed.name == "Savings"
    assert renamed.balance == Decimal("125.00")  # the deposit is kept
    assert reconcile_wallets() == []  # balance == ledger
    call_command("wallets_reconcile")


# Freezing and unfreezing


def test_freeze_shows_what_will_happen_and_needs_a_reason(admin_staff_client, admin_staff, holder):
    wallet = holder.wallet
    page = text(action_page(admin_staff_client, WALLETS_URL, "freeze_wallets", [wallet]))
    assert "every deposit, withdrawal, transfer and payment in or out will be refused" in page
    assert 'name="reason"' in page and 'name="message"' in page
    assert "Nothing changes until you confirm" in page

    page = text(confirm_action(admin_staff_client, WALLETS_URL, "freeze_wallets", [wallet]))
    assert "This field is required" in page
    assert not fresh(wallet).is_frozen and not AuditEntry.objects.exists()

    response = confirm_action(
        admin_staff_client,
        WALLETS_URL,
        "freeze_wallets",
        [wallet],
        message="Please call us",
        reason="fraud ring",
    )
    assert "Freeze wallets: done for 1 of 1" in text(response)
    frozen = fresh(wallet)
    assert frozen.is_frozen and frozen.frozen_by == admin_staff
    assert frozen.frozen_message == "Please call us"  # what the holder reads
    assert frozen.frozen_note == "fraud ring"  # the reason stays with staff
    the_entry("freeze", wallet, actor=admin_staff, reason="fraud ring")


def test_freeze_refuses_an_already_frozen_wallet(admin_staff_client, holder):
    holder.freeze_wallet("default", reason="earlier")
    page = text(action_page(admin_staff_client, WALLETS_URL, "freeze_wallets", [holder.wallet]))
    assert "Already frozen: will be refused." in page
    response = confirm_action(
        admin_staff_client, WALLETS_URL, "freeze_wallets", [holder.wallet], reason="again"
    )
    assert "is already frozen" in text(response)
    assert fresh(holder.wallet).frozen_note == "earlier"
    assert not AuditEntry.objects.exists()


def test_unfreeze(admin_staff_client, admin_staff, holder):
    holder.freeze_wallet("default", reason="checked")
    page = text(action_page(admin_staff_client, WALLETS_URL, "unfreeze_wallets", [holder.wallet]))
    assert "(frozen: checked)" in page
    confirm_action(
        admin_staff_client, WALLETS_URL, "unfreeze_wallets", [holder.wallet], reason="cleared"
    )
    unfrozen = fresh(holder.wallet)
    assert not unfrozen.is_frozen and unfrozen.frozen_note == ""
    the_entry("unfreeze", holder.wallet, actor=admin_staff, reason="cleared")


def test_unfreeze_refuses_a_wallet_that_is_not_frozen(admin_staff_client, holder):
    response = confirm_action(
        admin_staff_client, WALLETS_URL, "unfreeze_wallets", [holder.wallet], reason="r"
    )
    assert "is not frozen" in text(response)
    assert not AuditEntry.objects.exists()


# Manual credit and debit


def test_manual_credit_shows_the_balance_before_and_after(admin_staff_client, admin_staff, holder):
    wallet = holder.wallet
    page = action_page(
        admin_staff_client, WALLETS_URL, "credit_wallet", [wallet], confirm="yes", amount="12.5"
    )
    assert "balance 100.00 USD → 112.50 USD" in text(page)  # the reason is missing
    assert fresh(wallet).balance == Decimal("100.00")
    confirm_action(
        admin_staff_client,
        WALLETS_URL,
        "credit_wallet",
        [wallet],
        amount="12.5",
        reason="goodwill",
    )
    assert fresh(wallet).balance == Decimal("112.50")
    the_entry("credit", wallet, actor=admin_staff, reason="goodwill", amount=Decimal("12.5"))
    tx = wallet.transactions.order_by("-id").first()
    assert tx.meta["staff_action"] == "credit" and tx.meta["reason"] == "goodwill"


def test_manual_credit_sent_twice_moves_money_once(admin_staff_client, holder):
    wallet = holder.wallet
    key = page_key(action_page(admin_staff_client, WALLETS_URL, "credit_wallet", [wallet]))
    for _ in range(2):
        response = confirm_action(
            admin_staff_client,
            WALLETS_URL,
            "credit_wallet",
            [wallet],
            key=key,
            amount="10",
            reason="goodwill",
        )
        assert response.status_code == 200
    assert fresh(wallet).balance == Decimal("110.00")
    assert AuditEntry.objects.count() == 1
    assert reconcile_wallets() == []


def test_each_confirmation_page_gets_its_own_key(admin_staff_client, holder):
    first = page_key(action_page(admin_staff_client, WALLETS_URL, "credit_wallet", [holder.wallet]))
    second = page_key(
        action_page(admin_staff_client, WALLETS_URL, "credit_wallet", [holder.wallet])
    )
    assert first != second


def test_the_same_page_confirmed_again_with_another_amount_is_refused(admin_staff_client, holder):
    wallet = holder.wallet
    key = page_key(action_page(admin_staff_client, WALLETS_URL, "credit_wallet", [wallet]))
    confirm_action(
        admin_staff_client, WALLETS_URL, "credit_wallet", [wallet], key=key, amount="10", reason="r"
    )
    response = confirm_action(
        admin_staff_client, WALLETS_URL, "credit_wallet", [wallet], key=key, amount="99", reason="r"
    )
    assert "already confirmed with other values" in text(response)
    assert fresh(wallet).balance == Decimal("110.00")
    assert AuditEntry.objects.count() == 1


def test_manual_debit_refuses_insufficient_funds_unless_allowed_negative(
    admin_staff_client, admin_staff, holder
):
    wallet = holder.wallet
    response = confirm_action(
        admin_staff_client, WALLETS_URL, "debit_wallet", [wallet], amount="500", reason="fee"
    )
    assert "Insufficient funds" in text(response)
    assert fresh(wallet).balance == Decimal("100.00")
    assert not AuditEntry.objects.exists()

    confirm_action(
        admin_staff_client,
        WALLETS_URL,
        "debit_wallet",
        [wallet],
        amount="500",
        allow_negative="on",
        reason="chargeback",
    )
    assert fresh(wallet).balance == Decimal("-400.00")
    the_entry("debit", wallet, actor=admin_staff, reason="chargeback", amount=Decimal("-500"))
    assert reconcile_wallets() == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"amount": "abc", "reason": "r"}, "Enter an amount like 12.50"),
        ({"amount": "NaN", "reason": "r"}, "Enter an amount like 12.50"),
        ({"amount": "1e2", "reason": "r"}, "Enter an amount like 12.50"),
        ({"amount": "0", "reason": "r"}, "greater than zero"),
        ({"amount": "-5", "reason": "r"}, "greater than zero"),
        ({"amount": "1.234", "reason": "r"}, "more than 2 decimal places"),
        ({"amount": "1\x00", "reason": "r"}, "Enter an amount like 12.50"),
        ({"amount": "5", "reason": "   "}, "This field is required"),
        ({"amount": "5", "reason": "a\x00b"}, "Null characters are not allowed"),
    ],
)
def test_bad_input_gets_a_clear_error_and_changes_nothing(admin_staff_client, holder, data, error):
    response = confirm_action(
        admin_staff_client, WALLETS_URL, "credit_wallet", [holder.wallet], **data
    )
    assert error in text(response)
    assert 'name="confirm" value="yes"' in text(response)  # the page is shown again
    assert fresh(holder.wallet).balance == Decimal("100.00")
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize("key", ["", "short", "x" * 20 + "\x00", "../../" + "a" * 20])
def test_a_page_without_a_sound_key_changes_nothing(admin_staff_client, holder, key):
    response = confirm_action(
        admin_staff_client,
        WALLETS_URL,
        "credit_wallet",
        [holder.wallet],
        key=key,
        amount="5",
        reason="r",
    )
    assert "check it and confirm again" in text(response)
    assert fresh(holder.wallet).balance == Decimal("100.00")
    assert not AuditEntry.objects.exists()
    # The page is shown again with a sound key of its own, ready to confirm.
    renewed = page_key(response)
    assert renewed != key and re.fullmatch(r"[A-Za-z0-9_-]{16,64}", renewed)


def test_manual_adjustment_is_for_one_wallet_at_a_time(admin_staff_client, holder, other):
    response = confirm_action(
        admin_staff_client,
        WALLETS_URL,
        "credit_wallet",
        [holder.wallet, other.wallet],
        key="k" * 32,
        amount="5",
        reason="r",
    )
    assert "Select exactly one row" in text(response)
    assert fresh(holder.wallet).balance == Decimal("100.00")
    assert not AuditEntry.objects.exists()


def test_set_a_credit_limit_from_the_admin(admin_staff_client, admin_staff, holder):
    wallet = holder.wallet
    page = text(action_page(admin_staff_client, WALLETS_URL, "set_credit_limit", [wallet]))
    assert "Set how far below zero" in page
    response = confirm_action(
        admin_staff_client,
        WALLETS_URL,
        "set_credit_limit",
        [wallet],
        credit_limit="50",
        reason="salary advance",
    )
    assert response.status_code == 200
    assert fresh(wallet).credit_limit == Decimal(50)
    the_entry(
        "credit_limit", wallet, actor=admin_staff, reason="salary advance", amount=Decimal(50)
    )
    holder.withdraw("150.00")  # 100 of its own and 50 of credit
    assert fresh(wallet).balance == Decimal("-50.00")
    confirm_action(
        admin_staff_client, WALLETS_URL, "set_credit_limit", [wallet], credit_limit="-1", reason="x"
    )
    assert fresh(wallet).credit_limit == Decimal(50)
