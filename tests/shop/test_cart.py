from decimal import Decimal

import pytest

from portal.models import User
from shop.exceptions import CartInvalid, NotAllowed, RefundInvalid
from shop.models import Membership, Order, OrderLine, Product
from shop.selectors import price_for, revenue_by_product
from shop.services import pay_cart, refund_order
from wallets.exceptions import (
    IdempotencyConflict,
    InsufficientFunds,
    ProductNotAvailable,
    ReasonRequired,
    UnitMismatch,
    WalletFrozen,
)
from wallets.models import AuditEntry
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def test_cart_pays_each_line_takes_stock_and_records_the_order(buyer, merchant, make_product):
    book = make_product("Book", "12.50", stock=3)
    pen = make_product("Pen", "1.25")
    order = pay_cart(buyer, buyer.wallet, [(book, 2), (pen, 4)])

    assert order.total == Decimal("30.00")
    assert buyer.balance == Decimal("70.00")
    assert merchant.balance == Decimal("30.00")
    lines = list(order.lines.all())
    assert [(line.product_name, line.quantity, line.unit_price, line.amount) for line in lines] == [
        ("Book", 2, Decimal("12.50"), Decimal("25.00")),
        ("Pen", 4, Decimal("1.25"), Decimal("5.00")),
    ]
    assert all(line.transfer.kind == Transfer.Kind.PAID for line in lines)
    book.refresh_from_db()
    pen.refresh_from_db()
    assert book.stock == 1
    assert pen.stock is None


def test_same_product_twice_in_a_cart_is_one_line_checked_against_stock(buyer, make_product):
    book = make_product("Book", "1.00", stock=2)
    with pytest.raises(ProductNotAvailable, match="Only 2"):
        pay_cart(buyer, buyer.wallet, [(book, 2), (book, 1)])
    order = pay_cart(buyer, buyer.wallet, [(book, 1), (book, 1)])
    assert order.lines.get().quantity == 2


@pytest.mark.parametrize(
    ("setup", "error", "message"),
    [
        (lambda b, p: None, InsufficientFunds, None),
        (
            lambda b, p: Product.objects.filter(pk=p.pk).update(stock=0),
            ProductNotAvailable,
            "out of stock",
        ),
        (
            lambda b, p: Product.objects.filter(pk=p.pk).update(is_active=False),
            ProductNotAvailable,
            "no longer sold",
        ),
        (lambda b, p: b.freeze_wallet(reason="review"), WalletFrozen, None),
    ],
)
def test_failures_charge_nothing(buyer, merchant, make_product, setup, error, message):
    cheap = make_product("Cheap", "1.00", stock=5)
    dear = make_product("Dear", "150.00", stock=5)
    product = dear if error is InsufficientFunds else cheap
    setup(buyer, product)
    with pytest.raises(error, match=message):
        cart = [(cheap, 1), (product, 1)] if product is dear else [(cheap, 1)]
        pay_cart(buyer, buyer.wallet, cart)
    assert buyer.balance == Decimal("100.00")
    assert merchant.balance == Decimal(0)
    assert Order.objects.count() == 0
    cheap.refresh_from_db()
    assert cheap.stock == (0 if message == "out of stock" else 5)


def test_unit_mismatch_and_foreign_wallet_and_empty_cart(buyer, make_product):
    gems = make_product("Gem pack", "5", unit="PTS")
    with pytest.raises(UnitMismatch):
        pay_cart(buyer, buyer.wallet, [(gems, 1)])
    other = User.objects.create_user("other", email="o@example.com", password="pw")
    with pytest.raises(NotAllowed):
        pay_cart(buyer, other.wallet, [(gems, 1)])
    with pytest.raises(CartInvalid):
        pay_cart(buyer, buyer.wallet, [])


def test_points_product_pays_into_the_merchants_points_wallet(buyer, merchant, make_product):
    points = buyer.get_wallet("points", unit="PTS", decimal_places=0)
    points.deposit(50)
    gems = make_product("Gem pack", "5", unit="PTS")
    pay_cart(buyer, points, [(gems, 3)])
    assert merchant.get_wallets().get(unit="PTS").balance == 15


def test_digital_product_once_per_customer(buyer, make_product):
    ebook = make_product("Ebook", "3.00", is_digital=True)
    with pytest.raises(ProductNotAvailable, match="one per customer"):
        pay_cart(buyer, buyer.wallet, [(ebook, 2)])
    order = pay_cart(buyer, buyer.wallet, [(ebook, 1)])
    with pytest.raises(ProductNotAvailable, match="already own"):
        pay_cart(buyer, buyer.wallet, [(ebook, 1)])
    staff = User.objects.create_superuser("staff", "s@example.com", "pw")
    with pytest.raises(ReasonRequired):
        refund_order(order, by=staff)
    refund_order(order, by=staff, reason="customer asked")
    entry = AuditEntry.objects.get()
    assert entry.action == "refund_order" and entry.actor == staff
    assert entry.amount == Decimal("3.00") and entry.target_label == order.number
    pay_cart(buyer, buyer.wallet, [(ebook, 1)])  # refunded in full: may buy again


def test_member_discount_prices_per_customer(buyer, merchant, make_product):
    book = make_product("Book", "9.99", member_discount_percent=10)
    assert price_for(book, buyer) == Decimal("9.99")
    Membership.objects.create(organization=merchant, user=buyer)
    assert price_for(book, buyer) == Decimal("8.99")
    order = pay_cart(buyer, buyer.wallet, [(book, 2)])
    assert order.total == Decimal("17.98")


def test_idempotent_retry_returns_the_first_order(buyer, make_product):
    book = make_product("Book", "10.00", stock=5)
    pen = make_product("Pen", "1.00")
    first = pay_cart(buyer, buyer.wallet, [(book, 1), (pen, 2)], idempotency_key="k1")
    later = pay_cart(buyer, buyer.wallet, [(pen, 1)], idempotency_key="k2")
    again = pay_cart(buyer, buyer.wallet, [(book, 1), (pen, 2)], idempotency_key="k1")
    assert again.pk == first.pk != later.pk and again.number == first.number
    assert Order.objects.count() == 2 and OrderLine.objects.count() == 3
    assert Transfer.objects.count() == 3
    assert buyer.balance == Decimal("87.00")
    book.refresh_from_db()
    assert book.stock == 4
    with pytest.raises(IdempotencyConflict):
        pay_cart(buyer, buyer.wallet, [(book, 2)], idempotency_key="k1")


def test_partial_then_full_refund_returns_money_and_stock(
    buyer, merchant, merchant_manager, make_product
):
    book = make_product("Book", "12.50", stock=3)
    pen = make_product("Pen", "1.25")
    order = pay_cart(buyer, buyer.wallet, [(book, 2), (pen, 4)])
    book_line, _pen_line = order.lines.all()

    refund_order(order, by=merchant_manager, quantities={book_line.pk: 1})
    order.refresh_from_db()
    book.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_REFUNDED
    assert book.stock == 2
    assert buyer.balance == Decimal("82.50")

    with pytest.raises(RefundInvalid, match="Only 1"):
        refund_order(order, by=merchant_manager, quantities={book_line.pk: 2})

    refund_order(order, by=merchant_manager)
    order.refresh_from_db()
    book.refresh_from_db()
    assert order.status == Order.Status.REFUNDED
    assert book.stock == 3
    assert buyer.balance == Decimal("100.00")
    assert merchant.balance == Decimal(0)
    with pytest.raises(RefundInvalid, match="already been refunded"):
        refund_order(order, by=merchant_manager)

    [row_book, row_pen] = revenue_by_product(merchant)
    assert row_book["gross"] == Decimal("25.00") and row_book["net"] == Decimal(0)
    assert row_pen["refunded"] == 4


def test_only_staff_or_merchant_managers_refund(buyer, merchant, make_product):
    order = pay_cart(buyer, buyer.wallet, [(make_product(), 1)])
    with pytest.raises(NotAllowed):
        refund_order(order, by=buyer)
    member = User.objects.create_user("m", email="m@example.com", password="pw")
    Membership.objects.create(organization=merchant, user=member, role=Membership.Role.MEMBER)
    with pytest.raises(NotAllowed):
        refund_order(order, by=member)
    assert buyer.balance == Decimal("90.00")


def test_a_changed_total_undoes_the_whole_payment(buyer, merchant, make_product):
    book = make_product("Book", "10.00", stock=5)
    pen = make_product("Pen", "1.00", stock=9)
    Product.objects.filter(pk=book.pk).update(price=Decimal("12.00"))
    with pytest.raises(CartInvalid, match=r"The total is now 14\.00 USD, not 12\.00"):
        pay_cart(
            buyer,
            buyer.wallet,
            [(pen, 2), (book, 1)],
            idempotency_key="seen",
            expected_total=Decimal("12.00"),
        )
    book.refresh_from_db()
    pen.refresh_from_db()
    assert (book.stock, pen.stock) == (5, 9)
    assert buyer.balance == Decimal("100.00") and merchant.balance == Decimal(0)
    assert Order.objects.count() == 0 and Transfer.objects.count() == 0
    # Nothing was recorded under the key either: paying the new total with it works.
    order = pay_cart(
        buyer,
        buyer.wallet,
        [(pen, 2), (book, 1)],
        idempotency_key="seen",
        expected_total=Decimal("14.00"),
    )
    assert order.total == Decimal("14.00")
    book.refresh_from_db()
    assert book.stock == 4


def test_the_engine_refusal_carries_the_products_own_reason(buyer, make_product, monkeypatch):
    """Stock sold out between reading the cart and locking it: the buyer is told
    why by the product's purchase_refusal, asked once under the lock."""
    from shop import selectors

    book = make_product("Book", "10.00", stock=1)
    asked = []
    real = selectors.product_availability_problem

    def spy(product, customer, quantity):
        asked.append(product.stock)
        return real(product, customer, quantity)

    monkeypatch.setattr(selectors, "product_availability_problem", spy)
    Product.objects.filter(pk=book.pk).update(stock=0)
    with pytest.raises(ProductNotAvailable, match=r"'Book' is out of stock\.") as caught:
        pay_cart(buyer, buyer.wallet, [(book, 1)])
    assert caught.value.product.pk == book.pk
    assert asked == [0]
    assert buyer.balance == Decimal("100.00")


def test_product_and_session_answer_the_engines_purchase_refusal(buyer, merchant, make_product):
    from datetime import timedelta

    from django.utils import timezone

    from shop.models import CheckoutSession

    book = make_product("Book", "10.00", stock=1)
    assert book.purchase_refusal(buyer, 1) is None and book.can_buy(buyer, 1)
    assert book.purchase_refusal(buyer, 2) == "Only 1 of 'Book' left."
    assert not book.can_buy(buyer, 2)
    session = CheckoutSession.objects.create(
        merchant=merchant,
        amount=Decimal("5.00"),
        unit="USD",
        success_url="https://m.example/ok",
        cancel_url="https://m.example/no",
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    assert session.purchase_refusal(buyer, 1) == "This checkout has expired."
    assert not session.can_buy(buyer, 1)


def test_shop_models_import_no_services():
    """Models do not import services (the engine calls the product hooks; the
    services record orders and sessions in their own callbacks)."""
    import ast
    from pathlib import Path

    import shop.models

    imported = set()
    for module in Path(shop.models.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                imported.add(node.module or "")
                imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    services = {
        name
        for name in imported
        if name in ("shop.services", "shop.checkout.services")
        or name.startswith(("shop.services.", "shop.checkout.services."))
    }
    assert services == set()
    assert "shop.selectors" in imported  # the hooks read through selectors
