"""A purchase locks the product's row only when the product decides something
under it (can_buy, purchase_refusal, after_purchase), so buyers of a product that
decides nothing do not queue on its row."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.testapp.models import Item, Voucher
from wallets.mixins import ProductMixin, product_needs_lock

pytestmark = pytest.mark.django_db


def product_locks(queries, model) -> list[str]:
    table = model._meta.db_table
    return [
        q["sql"] for q in queries if table in q["sql"] and "FOR UPDATE" in q["sql"].upper()
    ]


class Plain(ProductMixin):
    def get_amount_product(self, customer):
        return 1


class Counted(Plain):
    def can_buy(self, customer, quantity=1):
        return quantity < 3


class Refusing(Plain):
    def purchase_refusal(self, customer, quantity=1):
        return "sold out"


class Stocked(Plain):
    def after_purchase(self, customer, quantity, transfer):
        pass


def test_only_products_that_decide_under_the_lock_need_it():
    assert not product_needs_lock(Plain())
    assert product_needs_lock(Counted())
    assert product_needs_lock(Refusing())
    assert product_needs_lock(Stocked())
    explicit = Plain()
    explicit.lock_on_purchase = True
    assert product_needs_lock(explicit)
    opted_out = Counted()
    opted_out.lock_on_purchase = False
    assert not product_needs_lock(opted_out)


def test_a_product_that_decides_nothing_is_paid_without_locking_its_row(alice):
    voucher = Voucher.objects.create(name="Voucher")
    alice.deposit(10)
    with CaptureQueriesContext(connection) as captured:
        alice.pay(voucher)
    if connection.vendor == "postgresql":
        assert product_locks(captured.captured_queries, Voucher) == []
    assert voucher.balance == 2.5 and alice.balance == 7.5


def test_a_product_with_stock_is_locked_and_counted(alice, item):
    alice.deposit(100)
    with CaptureQueriesContext(connection) as captured:
        alice.pay(item)
    if connection.vendor == "postgresql":
        assert len(product_locks(captured.captured_queries, Item)) == 1
    else:  # SQLite has no FOR UPDATE: the lock is the write lock; the product is read
        assert any(Item._meta.db_table in q["sql"] for q in captured.captured_queries)
    item.refresh_from_db()
    assert item.stock == 2
