"""Concurrency on PostgreSQL: real threads, each with its own connection."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from portal.models import User
from shop.models import Order, Organization, Product
from shop.services import pay_cart
from wallets.exceptions import ProductNotAvailable

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_in_threads(targets):
    barrier = threading.Barrier(len(targets))
    results = [None] * len(targets)

    def runner(index, target):
        try:
            barrier.wait()
            results[index] = target()
        except Exception as exc:  # collected and asserted by the test
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_the_last_item_is_sold_once_under_parallel_buyers():
    merchant = Organization.objects.create(name="M", slug="m", kind="merchant")
    last = Product.objects.create(
        merchant=merchant, name="Last one", slug="last", price=Decimal("5.00"), stock=1
    )
    plenty = Product.objects.create(
        merchant=merchant, name="Plenty", slug="plenty", price=Decimal("1.00")
    )
    buyers = []
    for i in range(8):
        user = User.objects.create_user(f"b{i}", email=f"b{i}@example.com", password="pw")
        user.deposit("20.00")
        buyers.append(user)

    def buy(user):
        # Each thread loads its own rows, as each request would.
        def run():
            fresh = Product.objects.in_bulk([plenty.pk, last.pk])
            buyer = User.objects.get(pk=user.pk)
            return pay_cart(buyer, buyer.wallet, [(fresh[plenty.pk], 1), (fresh[last.pk], 1)])

        return run

    results = run_in_threads([buy(u) for u in buyers])

    orders = [r for r in results if isinstance(r, Order)]
    refused = [r for r in results if isinstance(r, ProductNotAvailable)]
    assert len(orders) == 1, results
    assert len(refused) == 7, results
    last.refresh_from_db()
    assert last.stock == 0
    assert merchant.balance == Decimal("6.00")
    # Nobody who was refused paid anything, not even for the other line.
    balances = sorted(User.objects.get(pk=u.pk).balance for u in buyers)
    assert balances == [Decimal("14.00")] + [Decimal("20.00")] * 7


def test_the_same_buyer_retrying_in_parallel_pays_once():
    merchant = Organization.objects.create(name="M", slug="m", kind="merchant")
    book = Product.objects.create(
        merchant=merchant, name="Book", slug="book", price=Decimal("5.00"), stock=10
    )
    user = User.objects.create_user("b", email="b@example.com", password="pw")
    user.deposit("50.00")

    def run():
        buyer = User.objects.get(pk=user.pk)
        fresh = Product.objects.get(pk=book.pk)
        return pay_cart(buyer, buyer.wallet, [(fresh, 1)], idempotency_key="same")

    results = run_in_threads([run] * 4)
    assert Order.objects.count() == 1
    assert all(isinstance(r, Order) for r in results), results
    assert User.objects.get(pk=user.pk).balance == Decimal("45.00")
    book.refresh_from_db()
    assert book.stock == 9


def test_a_checkout_session_is_paid_once_under_parallel_confirms():
    from datetime import timedelta

    from django.utils import timezone

    from shop.checkout.services import SessionAlreadyPaid, pay_session
    from shop.models import CheckoutSession, WebhookEvent

    merchant = Organization.objects.create(name="M", slug="m", kind="merchant")
    session = CheckoutSession.objects.create(
        merchant=merchant,
        amount=Decimal("7.00"),
        unit="USD",
        success_url="https://m.example/ok",
        cancel_url="https://m.example/no",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    payers = []
    for i in range(6):
        user = User.objects.create_user(f"p{i}", email=f"p{i}@example.com", password="pw")
        user.deposit("10.00")
        payers.append(user)
    # The first payer also double-clicks.
    calls = [*payers, payers[0]]

    def pay(user):
        return lambda: pay_session(
            CheckoutSession.objects.get(pk=session.pk), user, User.objects.get(pk=user.pk).wallet
        )

    results = run_in_threads([pay(u) for u in calls])
    paid = [r for r in results if not isinstance(r, Exception)]
    # The double click may get the same payment back (engine idempotency key) or
    # "already paid"; either way there is exactly one payment.
    assert len({t.pk for t in paid}) == 1, results
    assert all(isinstance(r, SessionAlreadyPaid) for r in results if isinstance(r, Exception))
    assert merchant.balance == Decimal("7.00")
    assert (
        sorted(User.objects.get(pk=u.pk).balance for u in payers)
        == [Decimal("3.00")] + [Decimal("10.00")] * 5
    )
    assert WebhookEvent.objects.filter(type="checkout.session.completed").count() == 1
    assert CheckoutSession.objects.get(pk=session.pk).payment_id == paid[0].pk


def test_parallel_webhook_workers_send_each_delivery_once():
    from datetime import timedelta

    from django.utils import timezone

    from shop.models import CheckoutSession, WebhookDelivery, WebhookEndpoint
    from shop.webhooks import deliver_due, emit_event
    from tests.shop.test_webhooks import Receiver

    receiver = Receiver()
    try:
        merchant = Organization.objects.create(name="M", slug="m", kind="merchant")
        WebhookEndpoint.objects.create(merchant=merchant, url=receiver.url)
        session = CheckoutSession.objects.create(
            merchant=merchant,
            amount=Decimal("1.00"),
            unit="USD",
            success_url="https://m.example/ok",
            cancel_url="https://m.example/no",
            expires_at=timezone.now() + timedelta(minutes=30),
        )
        for _ in range(30):
            emit_event(merchant, "checkout.session.completed", {"id": session.public_id})

        results = run_in_threads([lambda: deliver_due(limit=10) for _ in range(4)])
        assert sum(r.delivered for r in results) == 30, results
        ids = [json_id(body) for _, body in receiver.requests]
        assert len(ids) == len(set(ids)) == 30
        assert WebhookDelivery.objects.filter(status="delivered").count() == 30
    finally:
        receiver.close()


def json_id(body: bytes) -> str:
    import json

    return json.loads(body)["id"]


def _manager_client(merchant):
    """A logged-in client of a manager of ``merchant`` (one per thread, as browsers)."""
    from django.test import Client

    from shop.models import Membership

    manager = User.objects.create_user("mgr", email="mgr@example.com", password="pw")
    Membership.objects.create(organization=merchant, user=manager, role="manager")
    client = Client()
    client.force_login(manager)
    return client


def _form_key(page: str, action: str, name: str) -> str:
    import re

    form = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    return re.search(rf'name="{re.escape(name)}" value="([^"]+)"', form).group(1)


def test_the_same_order_refund_posted_twice_in_parallel_refunds_once():
    from django.test import Client

    from shop.models import OrderLine
    from wallets.models import Transfer

    merchant = Organization.objects.create(name="M", slug="m", kind="merchant")
    book = Product.objects.create(
        merchant=merchant, name="Book", slug="book", price=Decimal("5.00"), stock=10
    )
    buyer = User.objects.create_user("b", email="b@example.com", password="pw")
    buyer.deposit("50.00")
    order = pay_cart(buyer, buyer.wallet, [(book, 3)])
    line = order.lines.get()
    client = _manager_client(merchant)
    url = f"/shop/sales/{merchant.slug}/orders/{order.number}/refund/"
    page = client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    data = {
        # One of three: a second refund would pass too, unless the key stops it.
        f"{order.number}-line_{line.pk}": 1,
        f"{order.number}-reason": "dent",
        f"{order.number}-idempotency_key": _form_key(page, url, f"{order.number}-idempotency_key"),
    }
    cookies = client.cookies

    def post():
        # Each thread is its own browser tab with the same session and form.
        tab = Client()
        tab.cookies = cookies
        return tab.post(url, data).status_code

    results = run_in_threads([post, post])
    assert results == [302, 302], results
    assert Transfer.objects.filter(kind=Transfer.Kind.REFUND).count() == 1
    assert User.objects.get(pk=buyer.pk).balance == Decimal("40.00")
    assert OrderLine.objects.get(pk=line.pk).refunded_quantity == 1
    assert Product.objects.get(pk=book.pk).stock == 8
    assert Order.objects.get(pk=order.pk).status == "partially_refunded"


def test_the_same_checkout_refund_posted_twice_in_parallel_refunds_once():
    from datetime import timedelta

    from django.test import Client
    from django.utils import timezone

    from shop.checkout.services import pay_session
    from shop.models import CheckoutSession, WebhookEvent
    from wallets.models import Transfer

    merchant = Organization.objects.create(name="M", slug="m", kind="merchant")
    session = CheckoutSession.objects.create(
        merchant=merchant,
        amount=Decimal("8.00"),
        unit="USD",
        success_url="https://m.example/ok",
        cancel_url="https://m.example/no",
        expires_at=timezone.now() + timedelta(minutes=30),
    )
    buyer = User.objects.create_user("b", email="b@example.com", password="pw")
    buyer.deposit("10.00")
    pay_session(session, buyer, buyer.wallet)
    client = _manager_client(merchant)
    url = f"/shop/sales/{merchant.slug}/checkouts/{session.public_id}/refund/"
    page = client.get(f"/shop/sales/{merchant.slug}/").content.decode()
    data = {
        "amount": "3.00",
        "reason": "late",
        "idempotency_key": _form_key(page, url, "idempotency_key"),
    }
    cookies = client.cookies

    def post():
        tab = Client()
        tab.cookies = cookies
        return tab.post(url, data).status_code

    results = run_in_threads([post, post])
    assert results == [302, 302], results
    assert Transfer.objects.filter(kind=Transfer.Kind.REFUND).count() == 1
    assert User.objects.get(pk=buyer.pk).balance == Decimal("5.00")
    assert WebhookEvent.objects.filter(type="payment.refunded").count() == 1
