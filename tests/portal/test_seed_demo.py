from decimal import Decimal

import pytest
from django.core.management import call_command

from portal.models import User
from shop.models import Organization
from wallets.swappable import get_transaction_model

Transaction = get_transaction_model()

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_a_lived_in_portal_once(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "alice@example.com / demo-pass-1234" in out

    alice = User.objects.get(username="alice")
    assert alice.check_password("demo-pass-1234")
    assert alice.get_wallets().count() == 4
    assert alice.get_wallet("travel").is_frozen
    assert alice.get_wallet("eur").balance == Decimal("63.00")  # 40 + 25 at 0.92
    assert Transaction.objects.filter(wallet=alice.wallet).count() > 25  # pages of history
    assert Transaction.objects.filter(state="pending").count() == 3
    assert Organization.objects.count() == 2

    call_command("seed_demo")
    assert "already present" in capsys.readouterr().out
    assert User.objects.filter(username="alice").count() == 1


def test_seed_demo_spreads_a_believable_history_over_ninety_days():
    from datetime import timedelta

    from django.utils import timezone

    from tests.portal.test_dashboard import brute_force_series
    from wallets.models import Transfer, Wallet
    from wallets.reconciliation import reconcile_wallets
    from wallets.selectors import balance_series

    call_command("seed_demo")
    now = timezone.now()
    rows = Transaction.objects.all()
    oldest = rows.order_by("created_at").first().created_at
    assert now - oldest > timedelta(days=85)
    assert not rows.filter(created_at__gt=now).exists()
    assert not Transfer.objects.filter(created_at__gt=now).exists()
    # Rows are dated on many different days, in the order the balances changed.
    assert rows.dates("created_at", "day").count() > 60
    for wallet in Wallet.objects.all():
        ordered = list(
            wallet.transactions.filter(state="confirmed", resolved_at__isnull=True)
            .order_by("created_at", "id")
            .values_list("id", flat=True)
        )
        assert ordered == sorted(ordered), wallet
    # The charts have something to say, and say it exactly.
    alice = User.objects.get(username="alice")
    series = balance_series(alice.wallet, days=90)
    assert len({value for _, value in series}) > 20
    assert series == brute_force_series(alice.wallet, 90)
    assert series[-1][1] == alice.wallet.balance
    # A pending request confirmed later changed the balance when it was confirmed.
    settled = Transaction.objects.get(meta__reference="Bank transfer #5050")
    assert settled.resolved_at - settled.created_at == timedelta(days=2, hours=2)
    assert reconcile_wallets() == []
