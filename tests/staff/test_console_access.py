"""Who may reach the staff console: holders get a 404 and anonymous visitors the login
page; staff without a permission are refused each action it guards, and change nothing;
every POST needs its CSRF token."""

import pytest
from django.test import Client
from django.urls import reverse

from shop.models import Order
from tests.staff.conftest import HTMX, decision, form, fresh_key, make_user
from wallets.models import AuditEntry, IdempotencyRecord

pytestmark = pytest.mark.django_db


def staff_urls(holder, order, tx, transfer, hold) -> list[str]:
    wallet = holder.wallet
    return [
        reverse("staff:home"),
        reverse("staff:holder", args=["user", holder.pk]),
        reverse("staff:wallet", args=[wallet.uuid]),
        reverse("staff:queue"),
        # The actions, from here on.
        reverse("staff:freeze", args=[wallet.uuid]),
        reverse("staff:unfreeze", args=[wallet.uuid]),
        reverse("staff:decide", args=[tx.uuid, "confirm"]),
        reverse("staff:decide_hold", args=[hold.uuid, "release"]),
        reverse("staff:refund_transfer", args=[transfer.uuid]),
        reverse("staff:refund_order", args=[order.number]),
    ]


def test_non_staff_get_404_and_anonymous_must_log_in(holder_client, holder, other, order, hold):
    tx = holder.wallet.deposit("5", confirmed=False)
    transfer = holder.transfer(other, "1")
    for url in staff_urls(holder, order, tx, transfer, hold):
        assert holder_client.get(url).status_code == 404, url
        assert holder_client.post(url, {"reason": "x"}).status_code == 404, url
        response = Client().get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    tx.refresh_from_db()
    assert tx.state == "pending" and not AuditEntry.objects.exists()


def test_staff_link_only_for_staff(holder_client, moderator_client):
    assert "/staff/" not in holder_client.get("/").content.decode()
    assert 'href="/staff/"' in moderator_client.get("/staff/").content.decode()


def test_staff_without_permissions_are_refused_everywhere(
    viewer_client, holder, other, order, hold
):
    tx = holder.wallet.deposit("5", confirmed=False)
    transfer = holder.transfer(other, "1")
    holder.freeze_wallet("default", reason="for the unfreeze page")
    assert viewer_client.get("/staff/queue/").status_code == 200
    page = viewer_client.get(reverse("staff:holder", args=["user", holder.pk])).content.decode()
    assert "/freeze/" not in page and "/unfreeze/" not in page and "/refund/" not in page
    queue = viewer_client.get("/staff/queue/").content.decode()
    assert "/release/" not in queue and "/confirm/" not in queue
    data = {
        "reason": "r",
        "message": "",
        "idempotency_key": fresh_key(),
        **decision(tx),
        **decision(hold),
    }
    for url in staff_urls(holder, order, tx, transfer, hold)[4:]:
        assert viewer_client.post(url, data, **HTMX).status_code == 403, url
        if "/queue/" not in url:
            assert viewer_client.get(url).status_code == 403, url
    holder.wallet.refresh_from_db()
    tx.refresh_from_db()
    hold.refresh_from_db()
    order.refresh_from_db()
    transfer.refresh_from_db()
    assert holder.wallet.is_frozen and tx.state == "pending" and hold.state == "held"
    assert order.status == Order.Status.PAID and transfer.refund_state == "none"
    assert not AuditEntry.objects.exists() and not IdempotencyRecord.objects.exists()


def test_staff_user_with_only_freeze_permission(holder):
    freezer = make_user("freezer", staff=True, perms=("freeze_wallet",))
    client = Client()
    client.force_login(freezer)
    tx = holder.wallet.deposit("5", confirmed=False)
    url = reverse("staff:freeze", args=[holder.wallet.uuid])
    assert client.post(url, form("r")).status_code == 302
    decide = reverse("staff:decide", args=[tx.uuid, "confirm"])
    assert client.post(decide, decision(tx), **HTMX).status_code == 403
    assert list(AuditEntry.objects.values_list("action", flat=True)) == ["freeze"]


def test_post_without_csrf_token_is_refused(moderator, holder):
    client = Client(enforce_csrf_checks=True)
    client.force_login(moderator)
    tx = holder.wallet.deposit("5", confirmed=False)
    url = reverse("staff:decide", args=[tx.uuid, "confirm"])
    assert client.post(url, decision(tx), **HTMX).status_code == 403
    freeze = reverse("staff:freeze", args=[holder.wallet.uuid])
    assert client.post(freeze, {"reason": "r", "idempotency_key": "k"}).status_code == 403
    assert not AuditEntry.objects.exists()
