"""Risk rules: a policy the transfer operation evaluates under its locks. A breach
refuses the transfer or returns a TransferHold that reserves the amount."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from tests.wallets.conftest import make_staff
from wallets import risk, signals
from wallets.exceptions import (
    HoldNotOpen,
    InsufficientFunds,
    RiskLimitExceeded,
    TransactionHeld,
    WalletFrozen,
)
from wallets.models import AuditEntry, RiskRule, TransferHold
from wallets.services import TransferService, WalletService, transfer_service
from wallets.staff import StaffActor
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db
Hold = TransferHold.State


def rule(**fields) -> RiskRule:
    return RiskRule.objects.create(name=fields.pop("name", "limit"), **fields)


def fresh(wallet) -> Wallet:
    return Wallet.objects.get(pk=wallet.pk)


@pytest.fixture
def funded(alice, bob):
    alice.deposit(100)
    bob.deposit(20)
    return alice, bob


def held_transfer(alice, bob, amount="80.00", **meta) -> TransferHold:
    rule(name="Big transfers", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    hold = alice.transfer(bob, amount, meta=meta or None)
    assert isinstance(hold, TransferHold)
    return hold


def test_rules_are_on_by_default():
    assert isinstance(risk.transfer_policy(), risk.RiskRulePolicy)


def test_max_single_refuses_with_a_clear_message_and_a_code(funded):
    alice, bob = funded
    rule(max_single=Decimal("50"), unit="USD")
    with pytest.raises(RiskLimitExceeded, match=r"at most 50 USD") as refused:
        alice.transfer(bob, "60.00")
    assert refused.value.code == "risk_limit_exceeded"
    assert not TransferHold.objects.exists() and not Transfer.objects.exists()
    alice.transfer(bob, "50.00")
    assert alice.balance == Decimal("50.00")


def test_rules_match_holder_and_unit_only(funded):
    alice, bob = funded
    user_type = ContentType.objects.get_for_model(alice)
    rule(max_single=Decimal("1"), holder_type=user_type, holder_id=str(bob.pk))
    rule(max_single=Decimal("1"), unit="EUR")
    alice.transfer(bob, "30.00")
    with pytest.raises(RiskLimitExceeded):
        bob.transfer(alice, "2.00")


def test_daily_total_and_hourly_count(funded):
    alice, bob = funded
    rule(max_daily_total=Decimal("25"))
    alice.transfer(bob, "20.00")
    with pytest.raises(RiskLimitExceeded, match=r"20 USD was sent"):
        alice.transfer(bob, "10.00")
    alice.transfer(bob, "5.00")
    RiskRule.objects.all().delete()
    rule(max_per_hour=3)
    alice.transfer(bob, 1)  # the third in the hour
    with pytest.raises(RiskLimitExceeded, match="3 transfers"):
        alice.transfer(bob, 1)


def test_open_holds_count_towards_the_limits(funded):
    alice, bob = funded
    rule(name="a hold", max_single=Decimal("30"), on_breach=RiskRule.OnBreach.HOLD)
    rule(name="b daily", max_daily_total=Decimal("60"))
    alice.transfer(bob, "40.00")  # held: over 30
    with pytest.raises(RiskLimitExceeded, match="40 USD was sent"):
        alice.transfer(bob, "25.00")


def test_inactive_rules_and_no_policy_let_transfers_through(funded, settings):
    alice, bob = funded
    rule(max_single=Decimal("1"), is_active=False)
    alice.transfer(bob, 10)
    rule(max_single=Decimal("1"))
    settings.WALLETS = {**settings.WALLETS, "TRANSFER_POLICY_CLASS": None}
    assert isinstance(alice.transfer(bob, 10), Transfer)


def test_a_hold_is_returned_not_raised_and_reserves_the_amount(funded):
    alice, bob = funded
    hold = held_transfer(alice, bob, note="rent")
    assert (hold.state, hold.amount, hold.rule_name) == (
        Hold.HELD,
        Decimal("80.00"),
        "Big transfers",
    )
    assert (hold.from_wallet, hold.to_wallet) == (alice.wallet, bob.wallet)
    assert hold.rule == RiskRule.objects.get() and "at most 50" in hold.message
    assert hold.meta == {"note": "rent"}
    reservation = hold.reservation
    assert reservation.state == "pending" and reservation.amount == Decimal("-80.00")
    wallet = fresh(alice.wallet)
    assert (wallet.balance, wallet.held) == (Decimal("100.00"), Decimal("80.00"))
    assert not Transfer.objects.exists()
    with pytest.raises(InsufficientFunds):
        alice.transfer(bob, "30.00")


def test_a_hold_survives_an_outer_transaction(funded):
    """The outcome is a return value: an outer atomic (ATOMIC_REQUESTS) commits it."""
    alice, bob = funded
    with transaction.atomic():
        hold = held_transfer(alice, bob)
    assert TransferHold.objects.get(pk=hold.pk).state == Hold.HELD
    assert fresh(alice.wallet).held == Decimal("80.00")


def test_an_idempotent_retry_returns_the_same_hold(funded):
    alice, bob = funded
    rule(max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    first = alice.transfer(bob, "80.00", idempotency_key="t-1")
    again = alice.transfer(bob, "80.00", idempotency_key="t-1")
    assert isinstance(again, TransferHold) and again.pk == first.pk
    assert fresh(alice.wallet).held == Decimal("80.00")


def test_release_sends_the_transfer_with_its_reservation_as_source_leg(
    funded, staff, moderator, django_capture_on_commit_callbacks
):
    alice, bob = funded
    hold = held_transfer(alice, bob, note="rent")
    sent = []
    signals.transfer_completed.connect(
        lambda sender, transfer, **kw: sent.append(transfer.pk), weak=False, dispatch_uid="t"
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            transfer = TransferService.release_hold(hold, actor=staff("customer verified"))
        assert sent == [transfer.pk]
    finally:
        signals.transfer_completed.disconnect(dispatch_uid="t")
    assert transfer.withdraw == hold.reservation and transfer.amount == Decimal("80.00")
    assert transfer.meta == {"note": "rent", "released_from": str(hold.uuid)}
    hold.refresh_from_db()
    assert (hold.state, hold.transfer, hold.decided_by) == (Hold.RELEASED, transfer, moderator)
    assert hold.decision_note == "customer verified"
    source, destination = fresh(alice.wallet), fresh(bob.wallet)
    assert (source.balance, source.held) == (Decimal("20.00"), Decimal("0.00"))
    assert destination.balance == Decimal("100.00")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target, entry.amount) == (
        AuditEntry.Action.RELEASE_HOLD,
        hold,
        Decimal("80.00"),
    )
    assert entry.after["transfer"] == str(transfer.uuid)
    with pytest.raises(HoldNotOpen):
        TransferService.release_hold(hold, actor=staff("again"))
    assert AuditEntry.objects.count() == 1


def test_reject_and_cancel_free_the_reservation(funded, staff):
    alice, bob = funded
    hold = held_transfer(alice, bob)
    TransferService.reject_hold(hold, actor=staff("fraud"))
    assert hold.state == Hold.REJECTED
    assert Transaction.objects.get(pk=hold.reservation_id).state == "rejected"
    assert fresh(alice.wallet).held == 0 and fresh(bob.wallet).balance == Decimal("20.00")
    second = alice.transfer(bob, "70.00")
    TransferService.cancel_hold(second)
    second.refresh_from_db()
    assert second.state == Hold.CANCELED and fresh(alice.wallet).held == 0
    assert AuditEntry.objects.count() == 1  # the holder's cancel is not a staff action


def test_the_reservation_is_decided_through_its_hold(funded, staff):
    alice, bob = funded
    hold = held_transfer(alice, bob)
    with pytest.raises(TransactionHeld):
        WalletService.confirm_transaction(hold.reservation, actor=staff())
    # The holder cancelling the pending withdrawal cancels the held transfer with it.
    WalletService.reject_transaction(hold.reservation, "changed my mind", state="canceled")
    hold.refresh_from_db()
    assert hold.state == Hold.CANCELED and fresh(alice.wallet).held == 0


def test_an_expired_reservation_expires_its_hold(funded, settings):
    alice, bob = funded
    settings.WALLETS = {**settings.WALLETS, "PENDING_EXPIRY_SECONDS": 60}
    hold = held_transfer(alice, bob)
    assert WalletService.expire_pending(timezone.now() + timezone.timedelta(minutes=2)) == 1
    hold.refresh_from_db()
    assert hold.state == Hold.EXPIRED and fresh(alice.wallet).held == 0


def test_release_is_refused_while_a_wallet_is_frozen(funded, staff):
    alice, bob = funded
    hold = held_transfer(alice, bob)
    WalletService.freeze(bob.wallet, actor=staff("kyc"))
    with pytest.raises(WalletFrozen):
        TransferService.release_hold(hold, actor=staff("ok"))
    hold.refresh_from_db()
    assert hold.state == Hold.HELD and fresh(alice.wallet).held == Decimal("80.00")


def test_deciding_a_hold_needs_the_confirm_permission(funded):
    alice, bob = funded
    hold = held_transfer(alice, bob)
    freezer = make_staff("freezer", "freeze_wallet")
    with pytest.raises(PermissionDenied):
        TransferService.release_hold(hold, actor=StaffActor(freezer, "r"))
    with pytest.raises(PermissionDenied):
        TransferService.reject_hold(hold, actor=StaffActor(freezer, "r"))
    hold.refresh_from_db()
    assert hold.state == Hold.HELD and not AuditEntry.objects.exists()


def test_refusing_rule_wins_over_holding_rule(funded):
    alice, bob = funded
    rule(name="hold", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    rule(name="refuse", max_single=Decimal("70"))
    with pytest.raises(RiskLimitExceeded):
        alice.transfer(bob, "80.00")
    assert not alice.wallet.transactions.filter(state="pending").exists()


def test_projects_add_rules_through_the_risk_check_signal(funded):
    alice, bob = funded

    @receiver(risk.risk_check)
    def no_transfers_to_bob(sender, source, destination, amount, meta, **kwargs):
        if destination.holder_id == str(bob.pk):
            return risk.RiskDecision(risk.REFUSE, "blocklist", "The recipient is blocked.")
        return None

    try:
        with pytest.raises(RiskLimitExceeded, match="recipient is blocked"):
            alice.transfer(bob, 1)
    finally:
        risk.risk_check.disconnect(no_transfers_to_bob)
    alice.transfer(bob, 1)


def test_payments_refunds_and_exchanges_are_not_limited(funded, staff, item):
    alice, bob = funded
    transfer = alice.transfer(bob, "60.00")
    rule(max_single=Decimal("1"))
    TransferService.refund(transfer, actor=staff("dispute"))
    alice.pay(item)
    assert fresh(alice.wallet).balance == Decimal("92.50")


def test_preview_tells_a_hold_and_raises_a_refusal(funded):
    alice, bob = funded
    rule(name="Big", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    rule(name="Huge", max_single=Decimal("90"))
    quote = transfer_service().preview(alice, bob, "60.00")
    assert quote.review is not None and quote.review.rule == "Big"
    assert (quote.amount, quote.balance_after) == (Decimal("60.00"), Decimal("40.00"))
    assert transfer_service().preview(alice, bob, "10").review is None
    with pytest.raises(RiskLimitExceeded):
        transfer_service().preview(alice, bob, "95.00")
    assert not Transaction.objects.filter(state="pending").exists()


def test_a_rule_needs_a_limit_and_a_holder_type_for_a_holder_id():
    with pytest.raises(ValidationError, match="at least one limit"):
        RiskRule(name="empty").clean()
    with pytest.raises(ValidationError):
        RiskRule(name="x", max_single=Decimal("1"), holder_id="7").clean()
    RiskRule(name="ok", max_per_hour=3).clean()


def test_preview_tells_a_hold_for_a_recipient_without_a_wallet_yet(funded, club):
    alice, _ = funded
    rule(name="Big", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    quote = transfer_service().preview(alice, club, "60.00")
    assert quote.destination is None and quote.review is not None
    assert not club.has_wallet("default")


def test_active_rules_are_read_once_per_cache_period(funded, settings, django_assert_num_queries):
    alice, bob = funded
    risk.active_rules.changed_at = -1e9  # no recent change in this process
    risk.active_rules.read_at = -1e9
    settings.WALLETS = {**settings.WALLETS, "RISK_RULES_CACHE_SECONDS": 60}
    assert risk.rules_for(alice.wallet) == []
    with django_assert_num_queries(0):
        risk.rules_for(alice.wallet)
    # A rule saved in this process is seen at once, and not cached while it may roll back.
    rule(max_single=Decimal("1"))
    assert len(risk.rules_for(alice.wallet)) == 1
    with pytest.raises(RiskLimitExceeded):
        alice.transfer(bob, 5)
