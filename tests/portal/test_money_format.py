"""One rule for writing amounts (``wallets.admin.display.format_amount``), used by pages,
messages, errors, the CSV export (machine form), the staff console and the admin."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from portal.templatetags.portal_money import amount, money, money_in, signed_money
from wallets.admin.display import format_amount, plain_amount
from wallets.admin.display import money as admin_money


class FakeWallet:
    def __init__(self, unit: str, decimal_places: int) -> None:
        self.unit, self.decimal_places = unit, decimal_places


USD, PTS, BTC = FakeWallet("USD", 2), FakeWallet("PTS", 0), FakeWallet("BTC", 8)


@pytest.mark.parametrize(
    ("value", "places", "unit", "text"),
    [
        # 0 places: points.
        ("1500", 0, "PTS", "1,500 PTS"),
        ("0", 0, "PTS", "0 PTS"),
        ("-7", 0, "PTS", "-7 PTS"),
        # 2 places: the wallet's places even when the value has fewer.
        ("0", 2, "USD", "0.00 USD"),
        ("24", 2, "USD", "24.00 USD"),
        ("1234.5", 2, "USD", "1,234.50 USD"),
        ("1234567.89", 2, "EUR", "1,234,567.89 EUR"),
        ("-1234.5", 2, "USD", "-1,234.50 USD"),
        ("999.999", 2, "USD", "999.999 USD"),  # never rounded away
        ("1E+3", 2, "USD", "1,000.00 USD"),
        # 8 places.
        ("0.00000001", 8, "BTC", "0.00000001 BTC"),
        ("12", 8, "BTC", "12.00000000 BTC"),
        ("12345.6789", 8, "BTC", "12,345.67890000 BTC"),
        # No unit: the number alone.
        ("1234.5", 2, "", "1,234.50"),
    ],
)
def test_the_rule(value, places, unit, text):
    assert format_amount(Decimal(value), places, unit) == text


def test_signs_are_in_front_and_zero_has_none():
    assert format_amount(Decimal("5"), 2, "USD", signed=True) == "+5.00 USD"
    assert format_amount(Decimal("-5"), 2, "USD", signed=True) == "-5.00 USD"
    assert format_amount(Decimal("0"), 2, "USD", signed=True) == "0.00 USD"
    assert format_amount(Decimal("-0.00"), 2, "USD") == "0.00 USD"


def test_separators_follow_the_active_language():
    with translation.override("de"):
        assert format_amount(Decimal("1234567.5"), 2, "EUR") == "1.234.567,50 EUR"
    with translation.override("en"):
        assert format_amount(Decimal("1234567.5"), 2, "EUR") == "1,234,567.50 EUR"


def test_the_machine_form_keeps_places_and_sign_without_grouping():
    assert plain_amount(Decimal("-1234.5"), 2) == "-1234.50"
    assert plain_amount(Decimal("1500"), 0) == "1500"
    with translation.override("de"):
        assert plain_amount(Decimal("1234.5"), 2) == "1234.50"


def test_template_filters_and_the_admin_use_the_same_rule():
    assert money(Decimal("1500"), PTS) == "1,500 PTS" == admin_money(Decimal("1500"), PTS)
    assert money(Decimal("0"), PTS) == "0 PTS" == admin_money(Decimal("0"), PTS)
    assert signed_money(Decimal("-12.5"), USD) == "-12.50 USD"
    assert signed_money(Decimal("12.5"), USD) == "+12.50 USD"
    assert money(Decimal("0.5"), BTC) == "0.50000000 BTC"
    assert amount(Decimal("1234.5"), USD) == "1,234.50"
    # Known by the unit only (prices, orders, audit entries): the unit's usual places.
    assert money_in(Decimal("24"), "USD") == "24.00 USD"
    assert money_in(Decimal("1500"), "PTS") == "1,500 PTS"
    assert money(None, USD) == "" and money("", USD) == ""
    rendered = Template("{% load portal_money %}{{ v|money:w }}").render(
        Context({"v": Decimal("1234.5"), "w": USD})
    )
    assert rendered == "1,234.50 USD"


@pytest.mark.django_db
def test_pages_messages_and_csv_write_amounts_by_the_rule(alice, bob, alice_client):
    alice.deposit("1234.50", meta={"reference": "Bonus"})
    body = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert "1,334.50 USD" in body and "+1,234.50 USD" in body
    # An error message: what is available and what is needed, both by the rule.
    response = alice_client.post(
        reverse("portal:transfer"),
        {
            "source": alice.wallet.pk,
            "recipient": "bob",
            "amount": "5000",
            "note": "",
            "idempotency_key": "k-1",
        },
    )
    assert response.status_code == 422
    assert (
        "Your Main wallet has 1,334.50 USD available; this needs 5,000.00 USD."
        in response.content.decode()
    )
    # The CSV: plain numbers (same places and sign), the unit in a column of its own.
    url = reverse("portal:wallet", args=[alice.wallet.uuid]) + "?_export=csv"
    content = b"".join(alice_client.get(url).streaming_content).decode()
    header, newest, *_ = list(csv.reader(io.StringIO(content)))
    assert header[3] == "Amount" and header[-1] == "Unit"
    assert newest[3] == "1234.50" and newest[4] == "1334.50" and newest[-1] == "USD"
