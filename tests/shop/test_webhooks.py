import json
import threading
import time
from datetime import timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone

from shop import webhook_signature
from shop.checkout.services import create_api_key, pay_session
from shop.models import CheckoutSession, WebhookDelivery, WebhookEvent
from shop.webhook_signature import SignatureInvalid, sign, verify
from shop.webhooks import BACKOFF_SECONDS, WebhookURLInvalid, add_endpoint, deliver_due, retry_now

pytestmark = pytest.mark.django_db


class Receiver:
    """A merchant's webhook endpoint on loopback; answers with the queued statuses."""

    def __init__(self):
        self.requests = []
        self.statuses = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def paid_session(api, session_body, merchant, merchant_manager, buyer, receiver):
    endpoint = add_endpoint(merchant, receiver.url, by=merchant_manager)
    session_id = api.post("/api/checkout/sessions/", session_body).json()["id"]
    session = CheckoutSession.objects.get(public_id=session_id)
    pay_session(session, buyer, buyer.wallet)
    return session, endpoint


def test_signature_round_trip_and_refusals():
    body = '{"id":"evt_1"}'
    header = sign("whsec_x", body, timestamp=1_700_000_000)
    assert verify("whsec_x", body.encode(), header, now=1_700_000_100) == 1_700_000_000
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify("whsec_y", body, header, now=1_700_000_100)
    with pytest.raises(SignatureInvalid, match="does not match"):
        verify("whsec_x", body + " ", header, now=1_700_000_100)
    with pytest.raises(SignatureInvalid, match="tolerance"):
        verify("whsec_x", body, header, now=1_700_000_301)
    with pytest.raises(SignatureInvalid, match="malformed"):
        verify("whsec_x", body, "v1=abc", now=1_700_000_000)
    # Rotation: any matching v1 entry passes.
    rotated = header + ",v1=" + "0" * 64
    assert verify("whsec_x", body, rotated, now=1_700_000_000)


def test_payment_writes_the_event_in_the_same_transaction(paid_session):
    session, endpoint = paid_session
    event = WebhookEvent.objects.get()
    assert event.type == "checkout.session.completed"
    payload = json.loads(event.body)
    assert payload["id"] == event.public_id and payload["id"].startswith("evt_")
    assert payload["data"]["object"]["id"] == session.public_id
    assert payload["data"]["object"]["status"] == "complete"
    assert payload["data"]["object"]["client_reference_id"] == "order-42"
    delivery = WebhookDelivery.objects.get()
    assert delivery.endpoint == endpoint and delivery.status == "pending"


def test_a_failed_payment_writes_no_event(api, session_body, merchant, merchant_manager, buyer):
    from wallets.exceptions import InsufficientFunds

    add_endpoint(merchant, "http://127.0.0.1:9/hooks", by=merchant_manager)
    body = {**session_body, "amount": "500.00"}
    session_id = api.post("/api/checkout/sessions/", body).json()["id"]
    with pytest.raises(InsufficientFunds):
        pay_session(CheckoutSession.objects.get(public_id=session_id), buyer, buyer.wallet)
    assert WebhookEvent.objects.count() == 0
    assert CheckoutSession.objects.get().status == "open"


def test_delivery_is_signed_and_verifiable(paid_session, receiver):
    session, endpoint = paid_session
    call_command("deliver_webhooks")
    [(headers, body)] = receiver.requests
    assert verify(endpoint.secret, body, headers[webhook_signature.HEADER])
    event = json.loads(body)
    assert event["type"] == "checkout.session.completed"
    assert event["data"]["object"]["id"] == session.public_id
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "delivered" and delivery.attempts == 1
    assert delivery.last_status_code == 200
    call_command("deliver_webhooks")
    assert len(receiver.requests) == 1  # delivered once


def test_failures_retry_with_backoff_then_fail(paid_session, receiver, monkeypatch):
    receiver.statuses = [500]
    before = timezone.now()
    report = deliver_due()
    assert report.retrying == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.attempts == 1
    assert delivery.last_error == "HTTP 500"
    assert delivery.next_attempt_at >= before + timedelta(seconds=BACKOFF_SECONDS[0])
    assert deliver_due().retrying == 0  # not due yet

    # Each retry waits longer; after the last one the delivery is failed.
    receiver.statuses = [503] * len(BACKOFF_SECONDS)
    for _ in range(len(BACKOFF_SECONDS)):
        WebhookDelivery.objects.update(next_attempt_at=timezone.now())
        deliver_due()
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.attempts == len(BACKOFF_SECONDS) + 1

    # The merchant can resend it.
    retry_now(delivery, by=session_manager(paid_session))
    assert deliver_due().delivered == 1


def session_manager(paid_session):
    from shop.models import Membership

    return Membership.objects.get(organization=paid_session[0].merchant).user


def test_unreachable_endpoint_is_retried(api, session_body, merchant, merchant_manager, buyer):
    add_endpoint(merchant, "http://127.0.0.1:9/closed", by=merchant_manager)
    session_id = api.post("/api/checkout/sessions/", session_body).json()["id"]
    pay_session(CheckoutSession.objects.get(public_id=session_id), buyer, buyer.wallet)
    report = deliver_due(timeout=2)
    assert report.retrying == 1
    assert WebhookDelivery.objects.get().last_error


def test_endpoint_urls_must_be_https_or_loopback(merchant, merchant_manager, buyer):
    from shop.exceptions import NotAllowed

    with pytest.raises(WebhookURLInvalid):
        add_endpoint(merchant, "http://merchant.example/hooks", by=merchant_manager)
    with pytest.raises(NotAllowed):
        add_endpoint(merchant, "https://merchant.example/hooks", by=buyer)
    assert add_endpoint(merchant, "https://merchant.example/hooks", by=merchant_manager)


def test_expiring_sessions_emit_expired_events(api, session_body, merchant, merchant_manager):
    add_endpoint(merchant, "https://merchant.example/hooks", by=merchant_manager)
    first = api.post("/api/checkout/sessions/", session_body).json()["id"]
    api.post(f"/api/checkout/sessions/{first}/expire/")
    second = api.post("/api/checkout/sessions/", session_body).json()["id"]
    CheckoutSession.objects.filter(public_id=second).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    from shop.checkout.services import expire_due_sessions

    assert expire_due_sessions() == 1
    assert expire_due_sessions() == 0
    events = [json.loads(e.body) for e in WebhookEvent.objects.order_by("pk")]
    assert [(e["type"], e["data"]["object"]["id"]) for e in events] == [
        ("checkout.session.expired", first),
        ("checkout.session.expired", second),
    ]


def test_second_payment_is_refused(paid_session, buyer):
    from shop.checkout.services import SessionAlreadyPaid

    session, _ = paid_session
    with pytest.raises(SessionAlreadyPaid):
        pay_session(session, buyer, buyer.wallet)
    assert buyer.balance == Decimal("75.00")
    assert WebhookEvent.objects.count() == 1


def test_receiver_thread_is_quick(receiver):
    # Guards the fixture itself: a POST round-trip on loopback.
    started = time.monotonic()
    webhook_post = __import__("shop.webhooks", fromlist=["post_signed"]).post_signed
    assert webhook_post(receiver.url, "s", "{}", 5) == 200
    assert time.monotonic() - started < 5


def test_keys_belong_to_merchants_only(merchant_manager):
    from shop.exceptions import NotAllowed
    from shop.models import Membership, Organization

    team = Organization.objects.create(name="Team", slug="team")
    Membership.objects.create(organization=team, user=merchant_manager, role="owner")
    with pytest.raises(NotAllowed):
        create_api_key(team, by=merchant_manager)


def test_refunding_a_session_payment_emits_payment_refunded(paid_session, buyer):
    from shop.checkout.services import refund_session_payment
    from shop.exceptions import NotAllowed
    from wallets.exceptions import RefundExceedsTransfer

    session, _ = paid_session
    manager = session_manager(paid_session)
    with pytest.raises(NotAllowed):
        refund_session_payment(session, by=buyer)
    refund_session_payment(session, by=manager, amount="10.00", reason="partial")
    with pytest.raises(RefundExceedsTransfer):
        refund_session_payment(session, by=manager, amount="20.00")
    refund_session_payment(session, by=manager)
    buyer.refresh_from_db()
    assert buyer.balance == Decimal("100.00")
    events = [json.loads(e.body) for e in WebhookEvent.objects.order_by("pk")]
    assert [e["type"] for e in events] == [
        "checkout.session.completed",
        "payment.refunded",
        "payment.refunded",
    ]
    assert events[1]["data"]["object"]["refund"]["amount"] == "10.00"
    assert events[2]["data"]["object"]["payment"]["refunded_amount"] == "25.00"
