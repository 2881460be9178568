import csv
import io

import pytest
from django.urls import reverse

from tests.portal.conftest import HTMX

pytestmark = pytest.mark.django_db


def wallet_url(wallet, query: str = "") -> str:
    return reverse("portal:wallet", args=[wallet.uuid]) + query


def test_history_lists_transactions_with_counterparty_and_reference(alice, bob, alice_client):
    alice.transfer(bob, "12.50", meta={"note": "Lunch"})
    response = alice_client.get(wallet_url(alice.wallet))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Bob Baker" in body
    assert "Lunch" in body
    assert "Welcome" in body
    assert "\N{MINUS SIGN}12.50 USD" in body
    assert "87.50 USD" in body  # balance after


def test_filters_narrow_the_rows_and_htmx_gets_only_the_table(alice, bob, alice_client):
    alice.transfer(bob, "12.50", meta={"note": "Lunch"})
    alice.withdraw("5.00", confirmed=False, meta={"reference": "Payout"})

    response = alice_client.get(wallet_url(alice.wallet, "?state=pending"), **HTMX)
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="tx-table"')
    assert "Payout" in body and "Lunch" not in body and "Welcome" not in body

    body = alice_client.get(wallet_url(alice.wallet, "?q=lunch")).content.decode()
    assert "Bob Baker" in body and "Payout" not in body

    body = alice_client.get(
        wallet_url(alice.wallet, "?amount_min=10&amount_max=20")
    ).content.decode()
    assert "Lunch" in body and "Payout" not in body and "Welcome" not in body

    body = alice_client.get(wallet_url(alice.wallet, "?type=deposit")).content.decode()
    assert "Welcome" in body and "Lunch" not in body


def test_sorting_and_pagination_links_swap_with_htmx_and_keep_hrefs(alice, alice_client):
    for _ in range(30):
        alice.deposit("1.00")
    body = alice_client.get(wallet_url(alice.wallet, "?sort=amount")).content.decode()
    assert 'hx-target="#tx-table"' in body
    assert 'hx-push-url="true"' in body
    assert "page=2" in body
    assert 'aria-sort="ascending"' in body


def test_csv_export_contains_exactly_the_filtered_rows_and_escapes_formulas(
    alice, bob, alice_client
):
    alice.transfer(bob, "3.00", meta={"note": '=HYPERLINK("http://evil")'})
    alice.deposit("7.00", meta={"reference": "@SUM(A1)"})
    for _ in range(30):
        alice.deposit("1.00", meta={"reference": "filler"})

    response = alice_client.get(wallet_url(alice.wallet, "?amount_min=2&_export=csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    header, data = rows[0], rows[1:]
    assert header[:4] == ["Time", "Type", "State", "Amount"]
    assert "Receipt" not in header
    references = sorted(row[6] for row in data)
    assert references == ['\'=HYPERLINK("http://evil")', "'@SUM(A1)", "Welcome"]
    amounts = sorted(row[3] for row in data)
    assert "-3.00" in amounts[0]  # a plain negative number stays a number


def test_someone_elses_wallet_is_a_404_and_so_is_its_export(alice, bob, bob_client):
    assert bob_client.get(wallet_url(alice.wallet)).status_code == 404
    assert bob_client.get(wallet_url(alice.wallet, "?_export=csv")).status_code == 404


def test_receipt_page_and_its_404_for_strangers(alice, bob, alice_client, bob_client):
    transfer = alice.transfer(bob, "12.50", meta={"note": "Lunch"})
    url = reverse("portal:transaction", args=[transfer.withdraw.uuid])
    body = alice_client.get(url).content.decode()
    assert str(transfer.withdraw.uuid) in body and "Bob Baker" in body and "Lunch" in body

    carol_tx = alice.deposit("1.00")
    assert bob_client.get(reverse("portal:transaction", args=[carol_tx.uuid])).status_code == 404
    # Bob may see his own leg of the same transfer.
    assert (
        bob_client.get(reverse("portal:transaction", args=[transfer.deposit.uuid])).status_code
        == 200
    )


def test_organization_wallets_are_visible_to_members_only(acme, alice, bob, bob_client):
    from django.test import Client

    from tests.portal.conftest import make_user

    assert bob_client.get(wallet_url(acme.wallet)).status_code == 200
    outsider = Client()
    outsider.force_login(make_user("carol"))
    assert outsider.get(wallet_url(acme.wallet)).status_code == 404


def test_htmx_history_restore_gets_the_whole_page(alice, alice_client):
    response = alice_client.get(
        wallet_url(alice.wallet, "?q=x"), HTTP_HX_HISTORY_RESTORE_REQUEST="true", **HTMX
    )
    assert "<html" in response.content.decode()


def test_history_page_names_counterparties_without_a_query_per_row(
    alice, bob, alice_client, django_assert_max_num_queries
):
    for index in range(20):
        alice.transfer(bob, "1.00", meta={"note": f"Round {index}"})
    with django_assert_max_num_queries(15):
        body = alice_client.get(wallet_url(alice.wallet)).content.decode()
    assert body.count("Bob Baker") == 20


def test_wallet_page_offers_money_actions_only_to_those_who_may_spend(
    acme, alice_client, bob_client
):
    url = wallet_url(acme.wallet)
    owner_body = alice_client.get(url).content.decode()
    member_body = bob_client.get(url).content.decode()
    assert f"/transfer/?from={acme.wallet.uuid}" in owner_body
    assert "/transfer/?from=" not in member_body
    assert '<svg class="balance-chart"' in member_body


def test_history_and_export_read_from_the_replica_but_checks_stay_on_the_primary(
    alice, alice_client
):
    from django.db import connection

    from portal.ops import db

    seen: list[tuple[str, bool]] = []

    def record(execute, sql, params, many, context):
        table = "wallets_transaction" if '"wallets_transaction"' in sql else "other"
        seen.append((table, db._prefer_replica.get()))
        return execute(sql, params, many, context)

    for query in ("", "?_export=csv"):
        seen.clear()
        with connection.execute_wrapper(record):
            assert alice_client.get(wallet_url(alice.wallet, query)).status_code == 200
        history_reads = [replica for table, replica in seen if table == "wallets_transaction"]
        assert history_reads and all(history_reads)
        # The session, the user and the ownership check ran first, on the primary.
        assert seen[0] == ("other", False)
