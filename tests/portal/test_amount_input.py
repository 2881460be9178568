"""One rule for typed amounts, in every money form: ASCII digits, one ".", no exponent.

Strings in other scripts and notations are refused with one message instead of
being converted by ``Decimal()``; the review step shows and carries exactly the
amount that will be sent.
"""

from decimal import Decimal

import pytest
from django.urls import reverse

from portal.forms import ExchangeForm, MoneyRequestForm, TransferForm
from portal.shopfront.forms import SessionRefundForm
from portal.staff.forms import RefundTransferForm
from tests.portal.conftest import HTMX
from wallets.admin.confirmation import AdjustmentForm, RefundForm
from wallets.amounts import AMOUNT_HINT, parse_amount_text
from wallets.exceptions import AmountInvalid
from wallets.form_fields import AmountFormField
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

REFUSED = [
    ("\u0661\u0662\u0663", "Arabic-Indic digits"),
    ("\u06f1\u06f2", "Extended Arabic-Indic digits"),
    ("\u0967\u0968", "Devanagari digits"),
    ("\uff11", "full-width one"),
    ("\uff11\uff12.\uff15\uff10", "full-width 12.50"),
    ("\U0001d7cf", "mathematical bold one"),
    ("\u00b9", "superscript one"),
    ("\u2460", "circled one"),
    ("1e2", "exponent"),
    ("1E2", "exponent, capital"),
    ("1e-2", "negative exponent"),
    ("12,50", "decimal comma"),
    ("1,000.00", "thousands separator"),
    ("1_000", "underscore separator"),
    ("1 000", "space separator"),
    ("1\u00a0000", "no-break space separator"),
    ("12.50.1", "two points"),
    ("..5", "two points, leading"),
    ("+5", "plus sign"),
    ("--5", "double minus"),
    ("0x10", "hexadecimal"),
    ("NaN", "not a number"),
    ("Infinity", "infinity"),
    ("inf", "inf"),
    ("\u221e", "infinity sign"),
    ("$5", "currency sign"),
    ("5 USD", "unit"),
    ("5\x00", "NUL"),
    ("\u20095", "thin space around it"),
    ("\u30005", "ideographic space around it"),
    ("five", "words"),
    (".", "a point alone"),
]
ACCEPTED = [
    ("12.50", Decimal("12.50")),
    (" 12.50 ", Decimal("12.50")),
    ("\t7\n", Decimal("7")),
    ("0.01", Decimal("0.01")),
    (".5", Decimal("0.5")),
    ("5.", Decimal("5")),
    ("007", Decimal("7")),
    ("1000000", Decimal("1000000")),
]


@pytest.mark.parametrize(("text", "why"), REFUSED)
def test_the_parser_refuses_every_other_script_and_notation(text, why):
    with pytest.raises(AmountInvalid) as refused:
        parse_amount_text(text)
    assert refused.value.message == AMOUNT_HINT, why


@pytest.mark.parametrize(("text", "value"), ACCEPTED)
def test_the_parser_reads_plain_ascii_amounts_exactly(text, value):
    parsed = parse_amount_text(text)
    assert parsed == value and str(parsed) == str(value)


def test_a_minus_sign_only_where_the_field_allows_it():
    with pytest.raises(AmountInvalid, match="greater than zero"):
        parse_amount_text("-5")
    assert parse_amount_text("-5.25", allow_negative=True) == Decimal("-5.25")


def test_programmatic_callers_keep_their_rules():
    from wallets.amounts import parse_amount, to_decimal

    # Decimal() semantics stay for code (rates, services called with strings).
    assert to_decimal("1e2") == Decimal(100)
    assert parse_amount(Decimal("12.50"), 2) == Decimal("12.5")


@pytest.mark.parametrize(("text", "why"), REFUSED)
def test_the_form_field_refuses_them_with_one_message(text, why):
    form = RefundTransferForm({"amount": text, "reason": "r", "idempotency_key": "k"})
    assert not form.is_valid()
    assert form.errors["amount"] == [AMOUNT_HINT], why


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "Enter an amount greater than zero, like 12.50."),
        ("0.00", "Enter an amount greater than zero, like 12.50."),
        ("-1", "Enter an amount greater than zero, like 12.50."),
        ("-0.5", "Enter an amount greater than zero, like 12.50."),
        ("1" * 25, "That amount is too large. Enter a smaller one, like 12.50."),
        ("1e400", "Enter an amount like 12.50."),
        ("0.000000001", "Enter an amount with at most 8 decimal places, like 12.50."),
    ],
)
def test_the_form_field_judges_the_value(text, message):
    field = AmountFormField(decimal_places=8)
    with pytest.raises(Exception) as refused:
        field.clean(text)
    assert refused.value.messages == [message]


def test_trailing_zeros_are_not_extra_decimal_places():
    assert AmountFormField(decimal_places=2).clean("1.5000") == Decimal("1.5000")


def test_the_field_renders_a_text_input_for_decimals():
    html = str(TransferForm(wallets=Wallet.objects.none())["amount"])
    assert 'type="text"' in html and 'inputmode="decimal"' in html
    assert 'type="number"' not in html


def test_a_bound_amount_is_shown_in_its_canonical_form():
    field = AmountFormField()
    assert field.prepare_value(" 12.50 ") == "12.50"
    assert field.prepare_value(Decimal("1E+2")) == "100"
    assert field.prepare_value("\uff11") == "\uff11"  # shown back as typed, with its error


@pytest.mark.parametrize(
    "form_class",
    [TransferForm, MoneyRequestForm, ExchangeForm, RefundTransferForm, SessionRefundForm],
)
def test_every_portal_money_form_uses_the_field(form_class):
    assert isinstance(form_class.base_fields["amount"], AmountFormField)


@pytest.mark.parametrize("form_class", [AdjustmentForm, RefundForm])
def test_the_admin_money_forms_use_the_field(form_class):
    assert isinstance(form_class.base_fields["amount"], AmountFormField)
    form = form_class({"amount": "1e2", "reason": "r", "idempotency_key": "k" * 20})
    assert not form.is_valid() and form.errors["amount"] == [AMOUNT_HINT]


# Through the pages.


def transfer_data(source, amount):
    return {
        "source": source.pk,
        "recipient": "bob@example.com",
        "amount": amount,
        "note": "",
        "idempotency_key": "amount-1",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(("text", "why"), REFUSED[:12])
def test_the_transfer_page_refuses_and_moves_nothing(alice, bob, alice_client, text, why):
    before = Transaction.objects.count()
    for url in (reverse("portal:transfer"), reverse("portal:transfer_confirm")):
        response = alice_client.post(url, transfer_data(alice.wallet, text), **HTMX)
        assert response.status_code == 422, why
        assert AMOUNT_HINT in response.content.decode()
    assert Transaction.objects.count() == before and not Transfer.objects.exists()


@pytest.mark.django_db
def test_the_review_step_shows_and_carries_exactly_what_will_be_sent(alice, bob, alice_client):
    response = alice_client.post(
        reverse("portal:transfer"), transfer_data(alice.wallet, "  12.5 "), **HTMX
    )
    body = response.content.decode()
    assert response.status_code == 200 and "Review your transfer" in body
    assert "12.50 USD" in body
    # The confirmation form sends the amount trimmed and exact, not as typed.
    assert 'name="amount" value="12.5"' in body and "  12.5 " not in body
    response = alice_client.post(
        reverse("portal:transfer_confirm"), transfer_data(alice.wallet, "12.5")
    )
    assert response.status_code == 302
    assert Transfer.objects.get().amount == Decimal("12.5")
    assert bob.balance == Decimal("62.50")


@pytest.mark.django_db
def test_money_requests_and_exchanges_refuse_an_exponent(alice, alice_client):
    euros = alice.get_wallet("eur", name="Euros", unit="EUR")
    response = alice_client.post(
        reverse("portal:exchange"),
        {
            "from_wallet": alice.wallet.pk,
            "to_wallet": euros.pk,
            "amount": "1e1",
            "idempotency_key": "x-1",
            "quoted_rate": "",
        },
        **HTMX,
    )
    assert AMOUNT_HINT in response.content.decode()
    response = alice_client.post(
        reverse("portal:request_submit", args=["topup"]),
        {
            "topup-wallet": alice.wallet.pk,
            "topup-amount": "\uff15",
            "topup-reference": "bank 1",
            "topup-idempotency_key": "r-1",
        },
        **HTMX,
    )
    assert AMOUNT_HINT in response.content.decode()
    assert not Transfer.objects.exists()
    assert alice.wallet.transactions.count() == 1  # the welcome deposit only
