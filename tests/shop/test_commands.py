import pytest
from django.core.management import call_command

from shop.models import Product

pytestmark = pytest.mark.django_db


def test_seed_shop_is_idempotent():
    call_command("seed_shop")
    call_command("seed_shop")
    assert Product.objects.count() == 5
    assert Product.objects.filter(unit="PTS").count() == 1


def test_deliver_webhooks_one_pass_reports(capsys):
    call_command("deliver_webhooks")
    assert "delivered 0" in capsys.readouterr().out
