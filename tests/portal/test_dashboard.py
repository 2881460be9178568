from decimal import Decimal

import pytest
from django.urls import reverse

from tests.portal.conftest import HTMX, make_user

pytestmark = pytest.mark.django_db


def test_dashboard_requires_login(client):
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_dashboard_shows_a_card_per_wallet_with_balances_and_frozen_badge(alice, alice_client):
    savings = alice.get_wallet("savings", name="Savings", unit="EUR")
    savings.deposit("10.00")
    alice.withdraw("30.00", confirmed=False)
    alice.freeze_wallet("savings", reason="review")

    response = alice_client.get(reverse("portal:dashboard"))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Skip to main content" in body
    assert "{#" not in body and "{%" not in body
    assert "100.00 USD" in body  # balance
    assert "70.00 USD" in body  # available
    assert "30.00 USD" in body  # held
    assert "Savings" in body and "10.00 EUR" in body
    assert ">Frozen<" in body
    assert '<svg class="balance-chart chart-narrow"' in body
    assert reverse("portal:wallet", args=[savings.uuid]) in body


def test_dashboard_lists_recent_activity_with_signed_amounts(alice, bob, alice_client):
    alice.transfer(bob, "12.50")
    body = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert "-12.50 USD" in body
    assert "+100.00 USD" in body


def test_dashboard_never_shows_other_peoples_wallets(alice, bob, bob_client):
    alice.get_wallet("secret-stash", name="Secret stash")
    body = bob_client.get(reverse("portal:dashboard")).content.decode()
    assert "Secret stash" not in body
    assert "50.00 USD" in body


def test_balance_cards_partial_for_htmx_refresh(alice_client):
    response = alice_client.get(reverse("portal:balances"), **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div id="wallet-cards"')
    assert "<html" not in body


def test_open_wallet(alice, alice_client):
    response = alice_client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Gems", "slug": "gems", "unit": "gem", "decimal_places": 0},
    )
    wallet = alice.get_wallets().get(slug="gems")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:wallet", args=[wallet.uuid])
    assert (wallet.unit, wallet.decimal_places, wallet.balance) == ("GEM", 0, Decimal(0))


def test_open_wallet_refuses_a_taken_slug_inline(alice, alice_client):
    response = alice_client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Again", "slug": "default", "unit": "USD", "decimal_places": 2},
        **HTMX,
    )
    body = response.content.decode()
    assert response.status_code == 422
    assert "already have a wallet" in body
    assert body.lstrip().startswith('<form id="open-wallet-form"')


def test_open_wallet_for_an_organization_needs_a_spending_role(acme, alice, bob, bob_client):
    response = bob_client.post(
        reverse("portal:open_wallet"),
        {"holder": f"org:{acme.pk}", "name": "X", "slug": "x", "unit": "USD", "decimal_places": 2},
    )
    assert response.status_code == 422
    assert not acme.has_wallet("x")


def test_open_wallet_over_htmx_redirects_the_whole_page(alice_client):
    response = alice_client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Trip", "slug": "trip", "unit": "EUR", "decimal_places": 2},
        **HTMX,
    )
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/wallets/")


def test_htmx_post_without_csrf_token_is_refused(alice):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.post(
        reverse("portal:open_wallet"),
        {"holder": "me", "name": "Trip", "slug": "trip", "unit": "EUR", "decimal_places": 2},
        **HTMX,
    )
    assert response.status_code == 403
    assert not alice.has_wallet("trip")


def test_navigation_marks_the_current_page(alice_client):
    body = alice_client.get(reverse("portal:pending")).content.decode()
    assert 'aria-current="page" href="/pending/">Pending</a>' in body
    assert body.count('aria-current="page"') == 1


def test_navigation_links_to_the_shop_and_orders(client, django_user_model):
    user = django_user_model.objects.create_user(username="nav", email="nav@example.com")
    client.force_login(user)
    html = client.get("/").content.decode()
    assert 'href="/shop/"' in html and 'href="/shop/orders/"' in html


def test_recent_activity_merges_every_wallet_newest_first(acme, alice, bob, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from portal.selectors import recent_activity
    from wallets.models import Transaction

    savings = alice.get_wallet("savings", name="Savings", unit="EUR")
    start = timezone.now() - timedelta(hours=1)
    for minute, (wallet, amount) in enumerate(
        [(alice.wallet, "1"), (savings, "2"), (acme.wallet, "3")] * 5
    ):
        monkeypatch.setattr(
            timezone, "now", lambda minute=minute: start + timedelta(minutes=minute)
        )
        wallet.deposit(amount)
    monkeypatch.undo()
    bob.deposit("9.00")  # not alice's: never listed

    rows = recent_activity(alice, limit=7)
    visible = [alice.wallet.pk, savings.pk, acme.wallet.pk]
    expected = list(
        Transaction.objects.filter(wallet_id__in=visible).order_by("-created_at", "-id")[:7]
    )
    assert [tx.pk for tx in rows] == [tx.pk for tx in expected]
    assert {tx.wallet_id for tx in rows} == set(visible)
    assert all(tx.wallet.pk == tx.wallet_id for tx in rows)


def test_recent_activity_names_wallets_without_a_query_per_row(
    alice, django_assert_max_num_queries
):
    from portal.selectors import recent_activity

    for _ in range(12):
        alice.deposit("1.00")
    with django_assert_max_num_queries(4):
        rows = recent_activity(alice)
        names = {tx.wallet.name for tx in rows}
    assert len(rows) == 10 and len(names) == 1


def test_dashboard_takes_a_bounded_number_of_queries(
    alice, bob, alice_client, django_assert_max_num_queries
):
    for _ in range(30):
        alice.transfer(bob, "1.00")
    alice.get_wallet("savings", name="Savings", unit="EUR").deposit("5.00")
    # Session, user, memberships, wallets and holders, activity with its counterparties,
    # and a chart (two index probes) per wallet: never a query per row.
    with django_assert_max_num_queries(18):
        body = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert body.count('<svg class="balance-chart chart-narrow"') == 2


def test_dashboard_stats_count_only_the_last_days_transfers(alice, bob, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from wallets.selectors import dashboard_stats

    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=2))
    alice.transfer(bob, "5.00")
    monkeypatch.undo()
    alice.transfer(bob, "2.50")
    alice.withdraw("1.00", confirmed=False)
    stats = dashboard_stats(now=timezone.now())
    assert stats.transfer_count == 1
    assert [(u.unit, u.sent_last_day) for u in stats.units] == [("USD", Decimal("2.50"))]
    assert stats.pending_count == 1


# The balance chart (on each wallet card and on the wallet page)


def brute_force_series(wallet, days: int) -> list[tuple]:
    """The end-of-day balances by summing every confirmed amount, in Python."""
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from wallets.models import Transaction

    rows = list(
        Transaction.objects.filter(wallet=wallet, state=Transaction.State.CONFIRMED).values_list(
            "amount", "created_at", "resolved_at"
        )
    )
    today = timezone.localdate()
    series = []
    for offset in range(days - 1, -1, -1):
        day = today - timedelta(days=offset)
        end = timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
        total = sum(
            (amount for amount, made, resolved in rows if (resolved or made) < end), Decimal(0)
        )
        series.append((day, total))
    return series


def random_history(monkeypatch, seed: int) -> list:
    """Two new holders with deposits, withdrawals, transfers both ways, pending rows
    confirmed (or rejected) days later, and reversals, spread over 100 days by a fake
    clock that only moves forward (as real balances change in time order)."""
    import random
    from datetime import datetime, time, timedelta

    from django.utils import timezone

    from wallets.exceptions import WalletError
    from wallets.services import wallet_service

    rng = random.Random(seed)
    real_now = timezone.now()
    # 160 steps of at most 14 hours, a tenth of them stretched to the next midnight:
    # at most 110 days, so the clock never passes the real now.
    clock = [real_now - timedelta(days=112)]
    monkeypatch.setattr(timezone, "now", lambda: clock[0])
    alice, bob = make_user(f"ann{seed}"), make_user(f"ben{seed}")
    pending, confirmed = [], []
    service = wallet_service()

    def amount() -> str:
        return f"{rng.randint(1, 4000) / 100:.2f}"

    for _ in range(160):
        # Never zero: two balance changes of a wallet never share a timestamp (they
        # happen one after the other under its lock).
        step = timedelta(seconds=rng.randint(1, 14 * 3600))
        if rng.random() < 0.1:  # land exactly on a day boundary now and then
            next_day = timezone.localdate(clock[0] + step) + timedelta(days=1)
            step = timezone.make_aware(datetime.combine(next_day, time.min)) - clock[0]
        clock[0] += step
        assert clock[0] < real_now
        holder = rng.choice([alice, bob])
        other = bob if holder is alice else alice
        action = rng.choice(
            [
                "deposit",
                "deposit",
                "withdraw",
                "transfer",
                "pending",
                "pending",
                "settle",
                "settle",
                "reverse",
            ]
        )
        try:
            if action == "deposit":
                confirmed.append(holder.deposit(amount()))
            elif action == "withdraw":
                confirmed.append(holder.withdraw(amount()))
            elif action == "transfer":
                holder.transfer(other, amount())
            elif action == "pending":
                make = holder.deposit if rng.random() < 0.6 else holder.withdraw
                pending.append(make(amount(), confirmed=False))
            elif action == "settle" and pending:
                tx = pending.pop(rng.randrange(len(pending)))
                if rng.random() < 0.8:
                    confirmed.append(service.confirm_transaction(tx))
                else:
                    service.reject_transaction(tx)
            elif action == "reverse" and confirmed:
                tx = confirmed.pop(rng.randrange(len(confirmed)))
                service.reverse_transaction(tx, force=rng.random() < 0.5)
        except WalletError:
            pass  # refused (funds, already reversed…): nothing was written
    monkeypatch.undo()
    return [alice, bob]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_balance_series_is_exact_against_a_brute_force_sum(db, monkeypatch, seed):
    from wallets.models import Transaction, Wallet
    from wallets.selectors import SERIES_DAYS, balance_series

    holders = random_history(monkeypatch, seed)
    later = Transaction.objects.filter(state="confirmed", resolved_at__isnull=False)
    assert later.exists()  # the data has rows whose balance changed when confirmed
    for holder in holders:
        wallet = Wallet.objects.get(pk=holder.wallet.pk)
        for days in SERIES_DAYS:
            series = balance_series(wallet, days=days)
            assert series == brute_force_series(wallet, days), (seed, days)
            assert series[-1][1] == wallet.balance
            assert all(isinstance(value, Decimal) for _, value in series)


def test_balance_series_follows_confirmation_not_creation(db, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from wallets.selectors import balance_series
    from wallets.services import wallet_service

    now = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=6))
    cara = make_user("cara")
    cara.deposit("100.00")
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=5))
    early = cara.deposit("10.00", confirmed=False)
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=3))
    cara.deposit("1.00")
    monkeypatch.setattr(timezone, "now", lambda: now - timedelta(days=1))
    wallet_service().confirm_transaction(early)  # 111.00 from here on
    monkeypatch.undo()
    values = [value for _, value in balance_series(cara.wallet, days=7)]
    assert values == [100, 100, 100, 101, 101, 111, 111]


def test_balance_series_takes_a_range_and_refuses_nonsense(alice):
    from wallets.selectors import balance_series

    assert [len(balance_series(alice.wallet, days=d)) for d in (7, 30, 90)] == [7, 30, 90]
    for days in (0, -1, 10_000):
        with pytest.raises(ValueError):
            balance_series(alice.wallet, days=days)


def test_balance_series_of_a_new_wallet_is_zero(alice):
    from wallets.selectors import balance_series

    wallet = alice.get_wallet("empty", name="Empty")
    assert {value for _, value in balance_series(wallet, days=7)} == {Decimal(0)}
