"""Order refunds are one engine operation: who acts, what is audited, what a retry does."""

import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from portal.models import User
from shop.exceptions import NotAllowed, RefundInvalid
from shop.models import Order, OrderLine, Organization, Product
from shop.services import pay_cart, refund_order
from wallets.exceptions import IdempotencyConflict
from wallets.models import AuditEntry
from wallets.swappable import get_transfer_model

Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db

NOT_ALLOWED = "Only staff or the merchant's managers can refund this order."


@pytest.fixture
def order(buyer, make_product):
    book = make_product("Book", "12.50", stock=3)
    pen = make_product("Pen", "1.25", stock=10)
    return pay_cart(buyer, buyer.wallet, [(book, 2), (pen, 4)])


@pytest.fixture
def staff(db):
    return User.objects.create_superuser("staff", "staff@example.com", "pw")


def state(order):
    """Everything a refund changes, to compare before and after."""
    order.refresh_from_db()
    return {
        "status": order.status,
        "lines": list(OrderLine.objects.order_by("pk").values_list("refunded_quantity", flat=True)),
        "stock": list(Product.objects.order_by("pk").values_list("stock", flat=True)),
        "balances": [
            str(User.objects.get(pk=order.buyer_id).balance),
            str(Organization.objects.get(slug="acme").balance),
        ],
        "refunds": Transfer.objects.filter(kind=Transfer.Kind.REFUND).count(),
        "audit": AuditEntry.objects.count(),
    }


def test_the_same_refund_key_twice_moves_money_once(order, buyer, merchant_manager):
    book_line = order.lines.get(product_name="Book")
    first = refund_order(
        order, by=merchant_manager, quantities={book_line.pk: 1}, idempotency_key="r1"
    )
    again = refund_order(
        order, by=merchant_manager, quantities={book_line.pk: 1}, idempotency_key="r1"
    )
    assert [t.pk for t in again] == [t.pk for t in first]
    assert buyer.balance == Decimal("82.50")
    book_line.refresh_from_db()
    assert book_line.refunded_quantity == 1
    with pytest.raises(IdempotencyConflict):
        refund_order(order, by=merchant_manager, quantities={book_line.pk: 2}, idempotency_key="r1")


def test_a_retried_full_refund_replays_after_the_order_is_refunded(order, buyer, merchant_manager):
    first = refund_order(order, by=merchant_manager, idempotency_key="all")
    # Nothing is left, yet the retry is answered with the first refunds.
    again = refund_order(order, by=merchant_manager, idempotency_key="all")
    assert sorted(t.pk for t in again) == sorted(t.pk for t in first) and len(first) == 2
    assert buyer.balance == Decimal("100.00")
    with pytest.raises(RefundInvalid, match="already been refunded in full"):
        refund_order(order, by=merchant_manager, idempotency_key="other")


def test_a_staff_refund_writes_exactly_one_audit_entry(order, staff, buyer):
    book_line = order.lines.get(product_name="Book")
    refund_order(order, by=staff, quantities={book_line.pk: 2}, reason="  damaged in transit ")
    entry = AuditEntry.objects.get()
    assert entry.action == AuditEntry.Action.REFUND_ORDER and entry.actor == staff
    assert entry.target_id == str(order.pk) and entry.target_label == order.number
    assert entry.amount == Decimal("25.00") and entry.unit == "USD"
    assert entry.reason == "damaged in transit"
    assert entry.before["status"] == "paid"
    assert entry.after["status"] == "partially_refunded"
    assert entry.after["lines"] == {str(book_line.pk): 2}
    # The door adds the wallets touched, as staff saw them before and after.
    buyer_wallet = str(buyer.wallet.uuid)
    assert entry.before["wallets"][buyer_wallet]["balance"] == "70.00"
    assert entry.after["wallets"][buyer_wallet]["balance"] == "95.00"
    refund = Transfer.objects.get(kind=Transfer.Kind.REFUND)
    assert refund.meta["reason"] == "damaged in transit" and refund.meta["order"] == order.number


def test_a_manager_refund_writes_no_audit_entry(order, merchant_manager, buyer):
    refund_order(order, by=merchant_manager, reason="customer asked")
    assert AuditEntry.objects.count() == 0
    assert buyer.balance == Decimal("100.00")


def test_a_staff_member_who_also_manages_the_merchant_acts_as_manager(
    order, staff, merchant, buyer
):
    from shop.models import Membership

    Membership.objects.create(organization=merchant, user=staff, role=Membership.Role.MANAGER)
    refund_order(order, by=staff)
    assert AuditEntry.objects.count() == 0
    assert buyer.balance == Decimal("100.00")


def test_the_staff_console_is_always_audited(order, staff, merchant, buyer):
    from shop.models import Membership

    Membership.objects.create(organization=merchant, user=staff, role=Membership.Role.MANAGER)
    refund_order(order, by=staff, reason="console", staff=True, ip="10.0.0.7")
    entry = AuditEntry.objects.get()
    assert entry.reason == "console" and str(entry.ip_address) == "10.0.0.7"
    assert entry.amount == Decimal("30.00") and entry.after["status"] == "refunded"


def test_staff_refunds_need_a_reason_and_change_nothing_without_one(order, staff):
    from wallets.exceptions import ReasonRequired

    before = state(order)
    with pytest.raises(ReasonRequired):
        refund_order(order, by=staff, reason="   ")
    assert state(order) == before


@pytest.mark.parametrize("who", ["buyer", "member", "staff_without_permission", "stranger"])
def test_a_refund_by_neither_staff_nor_a_manager_is_refused(order, merchant, buyer, who):
    from shop.models import Membership

    if who == "buyer":
        user = buyer
    else:
        user = User.objects.create_user(who, email=f"{who}@example.com", password="pw")
    if who == "member":
        Membership.objects.create(organization=merchant, user=user, role=Membership.Role.MEMBER)
    if who == "staff_without_permission":
        user.is_staff = True
        user.save()
        # Other staff permissions do not stand in for the refund permission.
        user.user_permissions.add(
            Permission.objects.get(codename="freeze_wallet", content_type__app_label="wallets")
        )
    before = state(order)
    with pytest.raises(NotAllowed, match=NOT_ALLOWED):
        refund_order(order, by=user, reason="please")
    assert state(order) == before


def test_a_manager_of_one_merchant_cannot_refund_another_merchants_line(
    buyer, make_product, merchant_manager, staff
):
    other = Organization.objects.create(name="Other", slug="other", kind="merchant")
    mine = make_product("Mine", "5.00")
    theirs = Product.objects.create(
        merchant=other, name="Theirs", slug="theirs", price=Decimal("7.00")
    )
    order = pay_cart(buyer, buyer.wallet, [(mine, 1), (theirs, 1)])
    theirs_line = order.lines.get(product=theirs)
    with pytest.raises(NotAllowed):
        refund_order(order, by=merchant_manager, quantities={theirs_line.pk: 1})
    # "Everything" includes the other merchant's line, so it is refused too.
    with pytest.raises(NotAllowed):
        refund_order(order, by=merchant_manager)
    mine_line = order.lines.get(product=mine)
    refund_order(order, by=merchant_manager, quantities={mine_line.pk: 1})
    assert buyer.balance == Decimal("93.00")


def test_invalid_quantities_are_refused_before_anything_moves(order, merchant_manager):
    book_line = order.lines.get(product_name="Book")
    before = state(order)
    for quantities, message in [
        ({book_line.pk: 3}, "Only 2 of 'Book'"),
        ({book_line.pk: -1}, "whole numbers"),
        ({book_line.pk: 0}, "at least one line"),
        ({999999: 1}, "not part of this order"),
    ]:
        with pytest.raises(RefundInvalid, match=message):
            refund_order(order, by=merchant_manager, quantities=quantities)
    assert state(order) == before


def test_a_refund_that_fails_on_a_later_line_undoes_the_earlier_ones(
    buyer, merchant, make_product, merchant_manager
):
    from wallets.exceptions import InsufficientFunds

    pen = make_product("Pen", "1.25", stock=10)
    book = make_product("Book", "12.50", stock=3)
    order = pay_cart(buyer, buyer.wallet, [(pen, 4), (book, 2)])
    # The merchant spends most of it: the pen's line (refunded first) still
    # passes, the book's cannot, so the whole refund must change nothing.
    merchant.withdraw("20.00")
    before = state(order)
    with pytest.raises(InsufficientFunds):
        refund_order(order, by=merchant_manager)
    assert state(order) == before
    assert Order.objects.get(pk=order.pk).status == "paid"


def refund_form(client, merchant, order):
    """The sales page's refund form for ``order``: its URL and hidden key field."""
    page = client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    url = f"/shop/sales/{merchant.slug}/orders/{order.number}/refund/"
    form = page.split(f'action="{url}"', 1)[1].split("</form>", 1)[0]
    name = f"{order.number}-idempotency_key"
    key = re.search(rf'name="{name}" value="([^"]+)"', form).group(1)
    return url, {name: key}


def test_a_double_submitted_order_refund_form_moves_money_once(
    client, order, buyer, merchant, merchant_manager
):
    book_line = order.lines.get(product_name="Book")
    client.force_login(merchant_manager)
    url, key = refund_form(client, merchant, order)
    data = {**key, f"{order.number}-line_{book_line.pk}": 1, f"{order.number}-reason": "dent"}
    assert client.post(url, data).status_code == 302
    # The same form again (a double click, a resent request): answered, not repeated.
    response = client.post(url, data, follow=True)
    assert "Refunded order" in response.content.decode()
    assert buyer.balance == Decimal("82.50")
    assert Transfer.objects.filter(kind=Transfer.Kind.REFUND).count() == 1
    book_line.refresh_from_db()
    assert book_line.refunded_quantity == 1
    # A last full refund resent after nothing is left is still answered once.
    url, key = refund_form(client, merchant, order)
    data = {**key, f"{order.number}-line_{book_line.pk}": 1}
    client.post(url, data)
    response = client.post(url, data, follow=True)
    assert "Refunded order" in response.content.decode()
    assert buyer.balance == Decimal("95.00")


def test_a_refund_form_without_its_key_moves_nothing(client, order, buyer, merchant_manager):
    book_line = order.lines.get(product_name="Book")
    client.force_login(merchant_manager)
    url = f"/shop/sales/acme/orders/{order.number}/refund/"
    response = client.post(url, {f"{order.number}-line_{book_line.pk}": 1}, follow=True)
    assert "Refund quantities are not valid." in response.content.decode()
    assert buyer.balance == Decimal("70.00")


def test_staff_without_the_refund_permission_get_a_clear_message(client, order, buyer, merchant):
    clerk = User.objects.create_user("clerk", email="clerk@example.com", password="pw")
    clerk.is_staff = True
    clerk.save()
    client.force_login(clerk)
    page = client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    url = f"/shop/sales/{merchant.slug}/orders/{order.number}/refund/"
    assert order.number in page and url not in page  # no refund form shown
    key = {f"{order.number}-idempotency_key": "a-resent-form"}
    book_line = order.lines.get(product_name="Book")
    before = state(order)
    response = client.post(
        url,
        {**key, f"{order.number}-line_{book_line.pk}": 1, f"{order.number}-reason": "x"},
        follow=True,
    )
    assert "Only staff or the merchant&#x27;s managers can refund this order." in (
        response.content.decode()
    )
    assert state(order) == before


def test_a_staff_refund_from_the_sales_page_is_audited_with_the_ip(
    client, order, buyer, merchant, staff
):
    client.force_login(staff)
    url, key = refund_form(client, merchant, order)
    book_line = order.lines.get(product_name="Book")
    data = {**key, f"{order.number}-line_{book_line.pk}": 1, f"{order.number}-reason": "dent"}
    client.post(url, data, REMOTE_ADDR="192.0.2.5")
    client.post(url, data, REMOTE_ADDR="192.0.2.5")
    entry = AuditEntry.objects.get()
    assert entry.reason == "dent" and str(entry.ip_address) == "192.0.2.5"
    assert entry.idempotency_key == key[f"{order.number}-idempotency_key"]
    assert buyer.balance == Decimal("82.50")
