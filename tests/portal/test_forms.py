"""Engine errors land next to the right input by their code, never by class name or text."""

import pytest

from portal.forms import ExchangeForm, MoneyRequestForm, OpenWalletForm, TransferForm
from portal.services import RecipientNotFound, RecipientUnavailable, TransferToSelf
from wallets.exceptions import ErrorCode, IdempotencyConflict, WalletError, WalletFrozen
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

pytestmark = pytest.mark.django_db


def error_with(code: str, message: str = "Something went wrong.") -> WalletError:
    """An error of a class no form knows by name, carrying only a code."""

    class UnheardOf(WalletError):
        pass

    return UnheardOf(message, code=code)


def bound(form_class, **kwargs):
    form = form_class({}, wallets=Wallet.objects.none(), **kwargs)
    form.is_valid()
    return form


@pytest.mark.parametrize(
    ("code", "field"),
    [
        (ErrorCode.INSUFFICIENT_FUNDS, "amount"),
        (ErrorCode.AMOUNT_INVALID, "amount"),
        (ErrorCode.RISK_LIMIT_EXCEEDED, "amount"),
        (ErrorCode.UNIT_MISMATCH, "recipient"),
        (ErrorCode.SAME_WALLET, "recipient"),
        (ErrorCode.WALLET_FROZEN, "source"),
        (RecipientNotFound.code, "recipient"),
        (TransferToSelf.code, "recipient"),
        (RecipientUnavailable.code, "recipient"),
        ("no_such_code", "__all__"),
    ],
)
def test_transfer_form_places_errors_by_code(code, field):
    form = bound(TransferForm)
    form.add_wallet_error(error_with(code, "Placed here."))
    assert "Placed here." in form.errors[field]


def test_the_portals_own_errors_have_codes_of_their_own():
    codes = {RecipientNotFound.code, TransferToSelf.code, RecipientUnavailable.code}
    assert len(codes) == 3 and not codes & set(ErrorCode)


def test_other_forms_place_errors_by_code():
    form = bound(MoneyRequestForm, kind="payout")
    form.add_wallet_error(WalletFrozen("Frozen."))
    assert "Frozen." in form.errors["wallet"]
    form = bound(ExchangeForm)
    form.add_wallet_error(error_with(ErrorCode.EXCHANGE_RATE_UNAVAILABLE, "No rate."))
    assert "No rate." in form.errors["to_wallet"]
    form = OpenWalletForm({}, holder_choices=[("me", "Me")])
    form.is_valid()
    form.add_wallet_error(error_with(ErrorCode.WALLET_EXISTS, "Taken."))
    assert "Taken." in form.errors["slug"]


def test_a_spent_key_gets_replaced_so_the_user_can_knowingly_resend():
    form = TransferForm({"idempotency_key": "old"}, wallets=Wallet.objects.none())
    form.is_valid()
    form.add_wallet_error(IdempotencyConflict())
    assert form.data["idempotency_key"] != "old"
    assert "already used to move money" in form.errors["__all__"][0]
