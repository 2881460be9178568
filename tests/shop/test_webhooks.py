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


def test_endpoint_urls_must_be_https_to_a_public_host(merchant, merchant_manager, buyer, settings):
    from shop.exceptions import NotAllowed

    settings.WEBHOOK_ALLOW_LOCALHOST_HTTP = False
    for url in ("http://merchant.example/hooks", "http://127.0.0.1:9/hooks", "https://127.0.0.1/"):
        with pytest.raises(WebhookURLInvalid):
            add_endpoint(merchant, url, by=merchant_manager)
    with pytest.raises(NotAllowed):
        add_endpoint(merchant, "https://merchant.example/hooks", by=buyer)
    # merchant.example does not resolve: accepted, and checked again at each delivery.
    assert add_endpoint(merchant, "https://merchant.example/hooks", by=merchant_manager)


def test_development_may_send_webhooks_to_loopback_over_http(merchant, merchant_manager, settings):
    settings.WEBHOOK_ALLOW_LOCALHOST_HTTP = True
    assert add_endpoint(merchant, "http://127.0.0.1:9/hooks", by=merchant_manager)
    assert add_endpoint(merchant, "http://[::1]:9/hooks", by=merchant_manager)
    for url in ("http://10.0.0.1/hooks", "https://192.168.0.1/hooks", "http://8.8.8.8/hooks"):
        with pytest.raises(WebhookURLInvalid):
            add_endpoint(merchant, url, by=merchant_manager)


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


# Delivery: the address is checked again and pinned; no redirects; merchants see a status only.


def fake_dns(monkeypatch, answers: dict[str, list[str]]):
    """Resolve the names in ``answers`` to those addresses; anything else does not resolve."""
    import socket

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (
                socket.AF_INET6 if ":" in address else socket.AF_INET,
                socket.SOCK_STREAM,
                6,
                "",
                (address, port, 0, 0) if ":" in address else (address, port),
            )
            for address in answers[host]
        ]

    monkeypatch.setattr("shop.webhook_targets.socket.getaddrinfo", getaddrinfo)


@pytest.fixture
def paid_to_hooks_example(api, session_body, merchant, merchant_manager, buyer, monkeypatch):
    """A paid session whose merchant registered https://hooks.example.com while it was public."""
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34"]})
    add_endpoint(merchant, "https://hooks.example.com/wallet", by=merchant_manager)
    session_id = api.post("/api/checkout/sessions/", session_body).json()["id"]
    pay_session(CheckoutSession.objects.get(public_id=session_id), buyer, buyer.wallet)


@pytest.mark.parametrize(
    "answers",
    [["127.0.0.1"], ["10.0.0.7"], ["169.254.169.254"], ["::1"], ["93.184.216.34", "192.168.1.4"]],
)
def test_a_name_rebound_to_an_internal_address_is_not_delivered(
    paid_to_hooks_example, monkeypatch, settings, answers
):
    settings.WEBHOOK_ALLOW_LOCALHOST_HTTP = False
    fake_dns(monkeypatch, {"hooks.example.com": answers})
    dialled = []
    monkeypatch.setattr(
        "shop.webhook_transport.socket.create_connection", lambda *a, **k: dialled.append(a)
    )
    report = deliver_due()
    assert report.retrying == 1 and dialled == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == "pending" and delivery.last_status_code is None
    assert delivery.last_error == "Not sent: the host does not resolve to a public address."


def test_delivery_connects_to_the_address_that_was_checked(paid_to_hooks_example, monkeypatch):
    import socket

    dialled = []

    def create_connection(address, *args, **kwargs):
        dialled.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr("shop.webhook_transport.socket.create_connection", create_connection)
    lookups = []
    answer = socket.getaddrinfo  # the fake resolver of the fixture
    monkeypatch.setattr(
        "shop.webhook_targets.socket.getaddrinfo",
        lambda host, *a, **k: lookups.append(host) or answer(host, *a, **k),
    )
    assert deliver_due(timeout=2).retrying == 1
    # Resolved once, by the check; the connection went to that address, not to the name.
    assert lookups == ["hooks.example.com"]
    assert dialled == [("93.184.216.34", 443)]


def test_merchants_see_only_the_status_never_the_error(
    paid_to_hooks_example, monkeypatch, client, merchant, merchant_manager
):
    def refused(address, *args, **kwargs):
        raise ConnectionRefusedError(111, "Connection refused by 10.9.8.7:5432 (postgres)")

    monkeypatch.setattr("shop.webhook_transport.socket.create_connection", refused)
    deliver_due(timeout=2)
    assert WebhookDelivery.objects.get().last_error == "No HTTP response."
    client.force_login(merchant_manager)
    page = client.get(f"/shop/merchants/{merchant.slug}/developers/").content.decode()
    assert "No HTTP response." in page
    assert "Connection refused" not in page and "10.9.8.7" not in page


def test_redirects_are_not_followed(api, session_body, merchant, merchant_manager, buyer, settings):
    settings.WEBHOOK_ALLOW_LOCALHOST_HTTP = True
    hits = []

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self):
            hits.append(self.path)
            self.send_response(307)
            self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Redirecting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        add_endpoint(merchant, f"http://127.0.0.1:{server.server_port}/h", by=merchant_manager)
        session_id = api.post("/api/checkout/sessions/", session_body).json()["id"]
        pay_session(CheckoutSession.objects.get(public_id=session_id), buyer, buyer.wallet)
        assert deliver_due(timeout=2).retrying == 1
    finally:
        server.shutdown()
        server.server_close()
    assert hits == ["/h"]
    delivery = WebhookDelivery.objects.get()
    assert delivery.last_status_code == 307 and delivery.status == "pending"


def test_loopback_receivers_are_refused_at_delivery_without_the_development_setting(
    paid_session, receiver, settings
):
    settings.WEBHOOK_ALLOW_LOCALHOST_HTTP = False
    assert deliver_due().retrying == 1
    assert receiver.requests == []
