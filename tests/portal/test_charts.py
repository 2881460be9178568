"""The balance chart's drawing: round axis values, ranges, words for screen readers."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.templatetags.portal_charts import chart_context, chart_days, nice_ticks
from tests.portal.conftest import make_user

D = Decimal


@pytest.mark.parametrize(
    ("low", "high", "ticks"),
    [
        ("0", "2511", ["0", "1000", "2000", "3000"]),
        ("0", "63", ["0", "25", "50", "75"]),
        ("1453.2", "1689.9", ["1400", "1500", "1600", "1700"]),
        ("-40", "120", ["-100", "0", "100", "200"]),
        ("0.001", "0.004", ["0.001", "0.002", "0.003", "0.004"]),
        ("250", "250", ["0", "100", "200", "300"]),  # flat: from zero
        ("0", "0", ["0", "1"]),  # nothing yet: one baseline
    ],
)
def test_axis_values_are_round_and_cover_the_data(low, high, ticks):
    assert nice_ticks(D(low), D(high)) == [D(t) for t in ticks]


def test_only_the_offered_ranges_are_drawn():
    assert [chart_days(v) for v in ("7", "30", "90", None, "", "abc", "5", "366")] == [
        7,
        30,
        90,
        30,
        30,
        30,
        30,
        30,
    ]


@pytest.mark.django_db
def test_the_chart_says_in_words_what_it_draws(monkeypatch):
    cara = make_user("cara")
    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=10))
    cara.deposit("100.00")
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=3))
    cara.deposit("1400.00", meta={"reference": "Salary"})
    monkeypatch.undo()
    context = chart_context(cara.wallet, 7, "page", "your Main wallet")
    assert [d["name"] for d in context["drawings"]] == ["wide", "narrow"]
    assert context["summary"].startswith("Balance of your Main wallet over the last 7 days:")
    assert "1,500.00 USD today" in context["summary"] and "lowest 100.00 USD" in context["summary"]
    assert ("Change in 7 days", "+1,400.00 USD") in context["stats"]
    wide = context["drawings"][0]
    assert [t["label"] for t in wide["y_ticks"]] == ["0", "500", "1,000", "1,500 USD"]
    assert len(wide["columns"]) == 7 and wide["columns"][-1].label.endswith("1,500.00 USD")
    assert context["rows"][0]["balance"] == "1,500.00 USD"  # newest first
    assert any(row["change"] == "+1,400.00 USD" for row in context["rows"])


@pytest.mark.django_db
def test_the_wallet_page_swaps_only_the_chart_for_another_range(alice, alice_client):
    url = reverse("portal:wallet", args=[alice.wallet.uuid])
    response = alice_client.get(url, {"days": "7", "chart": "1"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="wallet-chart">')
    assert "Balance over the last 7 days" in body and 'id="tx-table"' not in body
    full = alice_client.get(url, {"days": "90"}).content.decode()
    assert "Balance over the last 90 days" in full and 'aria-current="true">90 days' in full
    assert "<script" not in body and "style=" not in full.split("<body", 1)[1]
