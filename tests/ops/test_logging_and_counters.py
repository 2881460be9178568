"""Request ids, JSON log lines, money logs and wallet counters."""

import json
import logging
from decimal import Decimal

import pytest
from prometheus_client import REGISTRY

from portal.models import User
from portal.ops import metrics
from portal.ops.logs import JsonFormatter, RequestIdFilter
from portal.ops.request_id import get_request_id, request_id_var


def test_a_response_carries_a_new_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32
    assert first != second


def test_a_sane_incoming_request_id_is_propagated(client):
    response = client.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a.42:abc")
    assert response["X-Request-ID"] == "lb-7f3a.42:abc"


@pytest.mark.parametrize("bad", ["has space", "x" * 129, 'quote"s', "new\nline", ""])
def test_an_unsafe_incoming_request_id_is_replaced(client, bad):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=bad)
    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32


def test_the_request_id_is_cleared_after_the_request(client):
    client.get("/healthz", HTTP_X_REQUEST_ID="done-request")
    assert get_request_id() == "-"


def format_record(record: logging.LogRecord) -> dict:
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    return json.loads(line)


def test_json_lines_carry_the_request_id_and_extras():
    token = request_id_var.set("req-123")
    try:
        record = logging.LogRecord(
            "portal.x", logging.WARNING, __file__, 1, "hi %s", ("you",), None
        )
        record.wallet_uuid = "abc"
        payload = format_record(record)
    finally:
        request_id_var.reset(token)
    assert payload["request_id"] == "req-123"
    assert payload["message"] == "hi you"
    assert payload["level"] == "WARNING"
    assert payload["logger"] == "portal.x"
    assert payload["wallet_uuid"] == "abc"
    assert payload["ts"].endswith("+00:00")


def test_json_lines_include_the_traceback():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    payload = format_record(record)
    assert "ValueError: boom" in payload["exc_info"]


def test_gunicorn_access_lines_take_the_request_id_from_the_response_header():
    atoms = {
        "h": "10.0.0.1",
        "r": "GET /x HTTP/1.1",
        "s": 200,
        "B": 12,
        "M": 3,
        "m": "GET",
        "U": "/x",
        "q": "",
        "a": "curl",
        "{x-request-id}o": "rid-9",
    }
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1, '%(h)s "%(r)s" %(s)s', atoms, None
    )
    payload = format_record(record)
    assert payload["message"] == '10.0.0.1 "GET /x HTTP/1.1" 200'
    assert payload["request_id"] == "rid-9"
    assert payload["status"] == 200
    assert payload["path"] == "/x"
    assert payload["duration_ms"] == 3


def test_log_lines_written_during_a_request_carry_its_id(client, caplog):
    # The filter runs when the line is emitted, as on the real console handler.
    caplog.handler.addFilter(RequestIdFilter())
    with caplog.at_level(logging.WARNING, logger="django.request"):
        client.get("/no/such/page/", HTTP_X_REQUEST_ID="trace-404")
    lines = [r for r in caplog.records if r.name == "django.request"]
    assert [r.request_id for r in lines] == ["trace-404"]
    assert get_request_id() == "-"


@pytest.fixture
def alice(db):
    return User.objects.create_user(username="ops-alice", email="ops-alice@example.com")


@pytest.fixture
def bob(db):
    return User.objects.create_user(username="ops-bob", email="ops-bob@example.com")


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0


def test_money_operations_are_logged_with_wallet_uuids_and_amounts(
    alice, bob, caplog, django_capture_on_commit_callbacks
):
    with caplog.at_level(logging.INFO, logger="portal.money"):
        with django_capture_on_commit_callbacks(execute=True):
            alice.deposit("100.00", meta={"card_token": "tok_secret_123"})
        with django_capture_on_commit_callbacks(execute=True):
            transfer = alice.transfer(bob, "12.50")
    records = [r for r in caplog.records if r.name == "portal.money"]
    events = [r.event for r in records]
    assert events.count("transaction_created") == 3  # deposit + two transfer legs
    assert events.count("transfer_completed") == 1

    deposit = next(r for r in records if r.event == "transaction_created")
    assert deposit.wallet_uuid == str(alice.wallet.uuid)
    assert Decimal(deposit.amount) == Decimal("100.00")
    assert deposit.type == "deposit"
    assert deposit.state == "confirmed"

    moved = next(r for r in records if r.event == "transfer_completed")
    assert moved.transfer_uuid == str(transfer.uuid)
    assert moved.from_wallet_uuid == str(alice.wallet.uuid)
    assert moved.to_wallet_uuid == str(bob.wallet.uuid)
    assert Decimal(moved.amount) == Decimal("12.50")

    for record in records:
        assert "tok_secret_123" not in JsonFormatter().format(record)
        assert "ops-alice" not in JsonFormatter().format(record)


def test_nothing_is_logged_or_counted_for_a_rolled_back_operation(alice, caplog):
    before = sample("portal_wallet_transactions_total", type="deposit", state="confirmed")
    with caplog.at_level(logging.INFO, logger="portal.money"):
        # No on-commit callbacks run: the test transaction never commits.
        alice.deposit("5.00")
    assert not [r for r in caplog.records if r.name == "portal.money"]
    assert sample("portal_wallet_transactions_total", type="deposit", state="confirmed") == before


def test_wallet_counters_follow_committed_operations(
    alice, bob, django_capture_on_commit_callbacks
):
    deposits = sample("portal_wallet_transactions_total", type="deposit", state="confirmed")
    pending = sample("portal_wallet_transactions_total", type="deposit", state="pending")
    transfers = sample("portal_wallet_operations_total", kind="transfer", outcome="completed")
    confirms = sample("portal_wallet_operations_total", kind="confirm", outcome="confirmed")

    with django_capture_on_commit_callbacks(execute=True):
        alice.deposit("50.00")
    with django_capture_on_commit_callbacks(execute=True):
        alice.transfer(bob, "10.00")
    with django_capture_on_commit_callbacks(execute=True):
        tx = bob.deposit("3.00", confirmed=False)
    from wallets.services import wallet_service

    with django_capture_on_commit_callbacks(execute=True):
        wallet_service().confirm_transaction(tx)

    assert sample("portal_wallet_transactions_total", type="deposit", state="confirmed") == (
        deposits + 2  # the deposit and the transfer's incoming leg
    )
    assert sample("portal_wallet_transactions_total", type="deposit", state="pending") == (
        pending + 1
    )
    assert sample("portal_wallet_operations_total", kind="transfer", outcome="completed") == (
        transfers + 1
    )
    assert sample("portal_wallet_operations_total", kind="confirm", outcome="confirmed") == (
        confirms + 1
    )


def test_failures_and_webhook_deliveries_are_counted_through_the_hooks():
    failed = sample("portal_wallet_operations_total", kind="transfer", outcome="InsufficientFunds")
    webhook_failed = sample("portal_webhook_deliveries_total", outcome="failed")
    delivered = sample("portal_webhook_deliveries_total", outcome="delivered")

    metrics.record_wallet_operation("transfer", "InsufficientFunds")
    metrics.record_webhook_failure()
    metrics.record_webhook_delivery("delivered")

    assert (
        sample("portal_wallet_operations_total", kind="transfer", outcome="InsufficientFunds")
        == failed + 1
    )
    assert sample("portal_webhook_deliveries_total", outcome="failed") == webhook_failed + 1
    assert sample("portal_webhook_deliveries_total", outcome="delivered") == delivered + 1


def test_a_failing_observer_does_not_stop_other_receivers(
    alice, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    from wallets import signals

    def broken(*args, **kwargs):
        raise RuntimeError("metrics backend down")

    monkeypatch.setattr(metrics.WALLET_TRANSACTIONS, "labels", broken)
    seen = []

    def later_receiver(sender, transaction, **kwargs):
        seen.append(transaction.pk)

    signals.transaction_created.connect(later_receiver)
    try:
        with caplog.at_level(logging.INFO):
            with django_capture_on_commit_callbacks(execute=True):
                tx = alice.deposit("1.00")
    finally:
        signals.transaction_created.disconnect(later_receiver)
    assert seen == [tx.pk]
    assert any("count_operation_committed failed" in r.getMessage() for r in caplog.records)


def test_count_wallet_failures_counts_engine_errors_by_class(alice, bob):
    from wallets.exceptions import InsufficientFunds

    labels = {"kind": "transfer", "outcome": "InsufficientFunds"}
    before = sample("portal_wallet_operations_total", **labels)
    with pytest.raises(InsufficientFunds):
        with metrics.count_wallet_failures("transfer"):
            alice.transfer(bob, "1000.00")
    with metrics.count_wallet_failures("transfer"):
        pass
    assert sample("portal_wallet_operations_total", **labels) == before + 1
