"""The staff console in the portal: access, search, history, the moderation queue with
htmx decisions, freeze and unfreeze, and refunds of transfers and orders."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from shop.models import Order, Organization, Product
from shop.services import pay_cart
from tests.staff.conftest import make_user
from wallets import moderation
from wallets.models import AuditEntry, Transaction

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def order(holder) -> Order:
    merchant = Organization.objects.create(
        name="Acme Books", slug="acme", kind=Organization.Kind.MERCHANT
    )
    book = Product.objects.create(
        merchant=merchant, name="Book", slug="book", price=Decimal("10.00"), stock=5
    )
    return pay_cart(holder, holder.wallet, [(book, 2)])


def staff_urls(holder, order, tx, transfer) -> list[str]:
    wallet = holder.wallet
    return [
        reverse("staff:home"),
        reverse("staff:holder", args=["user", holder.pk]),
        reverse("staff:wallet", args=[wallet.uuid]),
        reverse("staff:freeze", args=[wallet.uuid]),
        reverse("staff:queue"),
        reverse("staff:decide", args=[tx.uuid, "confirm"]),
        reverse("staff:refund_transfer", args=[transfer.uuid]),
        reverse("staff:refund_order", args=[order.number]),
    ]


def test_non_staff_get_404_and_anonymous_must_log_in(holder_client, holder, other, order):
    tx = holder.wallet.deposit("5", confirmed=False)
    transfer = holder.transfer(other, "1")
    for url in staff_urls(holder, order, tx, transfer):
        assert holder_client.get(url).status_code == 404, url
        assert holder_client.post(url, {"reason": "x"}).status_code == 404, url
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    tx.refresh_from_db()
    assert tx.state == "pending" and not AuditEntry.objects.exists()


def test_staff_link_only_for_staff(holder_client, moderator_client):
    assert "/staff/" not in holder_client.get("/").content.decode()
    assert 'href="/staff/"' in moderator_client.get("/staff/").content.decode()


def test_holder_search_and_pages(moderator_client, holder, other):
    page = moderator_client.get("/staff/", {"q": "holly@"}).content.decode()
    assert "Holly Tester" in page and "Otto" not in page
    fragment = moderator_client.get("/staff/", {"q": "otto"}, **HTMX).content.decode()
    assert 'id="results"' in fragment and "<html" not in fragment and "Otto Tester" in fragment
    holder.deposit("5", meta={"reference": "REF-9"})
    page = moderator_client.get(reverse("staff:holder", args=["user", holder.pk])).content.decode()
    assert "Main wallet" in page and "105.00" in page
    page = moderator_client.get(reverse("staff:wallet", args=[holder.wallet.uuid])).content
    assert b"REF-9" in page
    filtered = moderator_client.get(
        reverse("staff:wallet", args=[holder.wallet.uuid]), {"q": "nothing-like-it"}, **HTMX
    )
    assert b"REF-9" not in filtered.content and b'id="tx-table"' in filtered.content


def test_queue_confirm_in_place_with_htmx(moderator_client, holder):
    tx = holder.wallet.deposit(
        "30.00", meta={"request": "top-up", "reference": "T-1"}, confirmed=False
    )
    page = moderator_client.get("/staff/queue/").content.decode()
    assert "Top-up" in page and "T-1" in page
    url = reverse("staff:decide", args=[tx.uuid, "confirm"])
    response = moderator_client.post(url, {f"{tx.uuid}-reason": ""}, **HTMX)
    assert response.status_code == 422 and "Reason" in response.content.decode()
    tx.refresh_from_db()
    assert tx.state == "pending"
    response = moderator_client.post(url, {f"{tx.uuid}-reason": "card paid"}, **HTMX)
    assert response.status_code == 200 and "Confirmed" in response.content.decode()
    assert "<html" not in response.content.decode()
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("130.00")
    entry = AuditEntry.objects.get()
    assert entry.action == "confirm" and entry.reason == "card paid"
    response = moderator_client.post(url, {f"{tx.uuid}-reason": "again"}, **HTMX)
    assert response.status_code == 422 and "not pending" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_queue_reject_without_javascript(moderator_client, holder):
    tx = holder.wallet.withdraw("40.00", meta={"request": "payout"}, confirmed=False)
    url = reverse("staff:decide", args=[tx.uuid, "reject"])
    response = moderator_client.post(url, {f"{tx.uuid}-reason": "wrong IBAN"}, follow=True)
    assert "Rejected" in response.content.decode()
    holder.wallet.refresh_from_db()
    assert holder.wallet.held == Decimal("0.00")
    tx.refresh_from_db()
    assert tx.state == Transaction.State.REJECTED


def test_freeze_page_shows_what_happens_and_needs_a_reason(moderator_client, holder):
    url = reverse("staff:freeze", args=[holder.wallet.uuid])
    page = moderator_client.get(url).content.decode()
    assert "will be refused until it is unfrozen" in page
    assert moderator_client.post(url, {"reason": " "}).status_code == 422
    holder.wallet.refresh_from_db()
    assert not holder.wallet.is_frozen
    response = moderator_client.post(url, {"reason": "chargeback"})
    assert response.status_code == 302
    holder.wallet.refresh_from_db()
    assert holder.wallet.is_frozen and holder.wallet.frozen_reason == "chargeback"
    assert "Unfreeze wallet" in moderator_client.get(url).content.decode()
    holder_page = moderator_client.get(reverse("staff:holder", args=["user", holder.pk]))
    assert "Freeze wallet" in holder_page.content.decode()
    assert "“chargeback”" in holder_page.content.decode()
    moderator_client.post(url, {"reason": "cleared"})
    holder.wallet.refresh_from_db()
    assert not holder.wallet.is_frozen
    assert list(AuditEntry.objects.order_by("id").values_list("action", flat=True)) == [
        "freeze",
        "unfreeze",
    ]


def test_refund_transfer_partial_then_over_refund(moderator_client, holder, other):
    transfer = holder.transfer(other, "20.00")
    url = reverse("staff:refund_transfer", args=[transfer.uuid])
    assert "up to 20.00 USD is left" in moderator_client.get(url).content.decode()
    assert moderator_client.post(url, {"reason": "dispute", "amount": "5"}).status_code == 302
    response = moderator_client.post(url, {"reason": "more", "amount": "50"})
    assert response.status_code == 422 and "Only 15" in response.content.decode()
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("85.00")
    assert AuditEntry.objects.filter(action="refund_transfer").count() == 1


def test_refund_order_with_audit(moderator_client, holder, order):
    url = reverse("staff:refund_order", args=[order.number])
    assert "Refund everything not yet refunded" in moderator_client.get(url).content.decode()
    assert moderator_client.post(url, {"reason": "damaged"}).status_code == 302
    order.refresh_from_db()
    holder.wallet.refresh_from_db()
    assert order.status == Order.Status.REFUNDED and holder.wallet.balance == Decimal("100.00")
    entry = AuditEntry.objects.get()
    assert entry.action == "refund_order" and entry.target == order
    assert entry.before["status"] == "paid" and entry.after["status"] == "refunded"
    assert entry.amount == Decimal("20.00") and entry.reason == "damaged"
    response = moderator_client.post(url, {"reason": "again"})
    assert response.status_code == 422 and "already been refunded" in response.content.decode()
    assert AuditEntry.objects.count() == 1


def test_staff_without_permissions_are_refused_everywhere(viewer_client, holder, other, order):
    tx = holder.wallet.deposit("5", confirmed=False)
    transfer = holder.transfer(other, "1")
    assert viewer_client.get("/staff/queue/").status_code == 200
    page = viewer_client.get(reverse("staff:holder", args=["user", holder.pk])).content.decode()
    assert "/freeze/" not in page and "/refund/" not in page
    urls = staff_urls(holder, order, tx, transfer)
    for url in (urls[3], *urls[5:]):
        response = viewer_client.post(url, {"reason": "r", f"{tx.uuid}-reason": "r"}, **HTMX)
        assert response.status_code == 403, url
    holder.wallet.refresh_from_db()
    tx.refresh_from_db()
    assert not holder.wallet.is_frozen and tx.state == "pending"
    assert not AuditEntry.objects.exists()


def test_post_without_csrf_token_is_refused(moderator, holder):
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    tx = holder.wallet.deposit("5", confirmed=False)
    url = reverse("staff:decide", args=[tx.uuid, "confirm"])
    assert client.post(url, {f"{tx.uuid}-reason": "r"}, **HTMX).status_code == 403
    assert (
        client.post(reverse("staff:freeze", args=[holder.wallet.uuid]), {"reason": "r"}).status_code
        == 403
    )
    assert not AuditEntry.objects.exists()


def test_held_transfer_shows_its_rule_in_the_queue(moderator_client, moderator, holder, other):
    from wallets import risk
    from wallets.models import RiskRule

    RiskRule.objects.create(name="Big ones", max_single=Decimal("50"), on_breach="hold")
    with pytest.raises(risk.TransferHeldForReview):
        holder.transfer(other, "60")
    page = moderator_client.get("/staff/queue/").content.decode()
    assert "Transfer held for review" in page and "Big ones" in page
    assert moderation.can(moderator, "confirm")


def test_webhook_panel_on_the_admin_dashboard(moderator_client):
    page = moderator_client.get("/admin/wallets/wallet/dashboard/").content.decode()
    assert "Failed webhook deliveries" in page


def test_staff_user_with_only_freeze_permission(holder):
    freezer = make_user("freezer", staff=True, perms=("freeze_wallet",))
    client = Client()
    client.force_login(freezer)
    tx = holder.wallet.deposit("5", confirmed=False)
    url = reverse("staff:freeze", args=[holder.wallet.uuid])
    assert client.post(url, {"reason": "r"}).status_code == 302
    decide = reverse("staff:decide", args=[tx.uuid, "confirm"])
    assert client.post(decide, {f"{tx.uuid}-reason": "r"}, **HTMX).status_code == 403
