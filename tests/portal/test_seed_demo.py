from decimal import Decimal

import pytest
from django.core.management import call_command

from portal.models import User
from shop.models import Organization
from wallets.models import Transaction

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
