"""Risk rules: limits per holder and unit that refuse a transfer or hold it for review."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.dispatch import receiver

from wallets import moderation, risk
from wallets.models import AuditEntry, RiskRule, Transaction, Transfer
from wallets.services import transfer_service

pytestmark = pytest.mark.django_db


def rule(**fields) -> RiskRule:
    return RiskRule.objects.create(name=fields.pop("name", "limit"), **fields)


def test_the_portal_uses_the_risk_checked_transfer_service():
    assert transfer_service() is risk.RiskCheckedTransferService


def test_max_single_refuses_with_a_clear_message(holder, other):
    rule(max_single=Decimal("50"), unit="USD")
    with pytest.raises(risk.RiskLimitExceeded, match=r"at most 50 USD"):
        holder.transfer(other, "60.00")
    holder.transfer(other, "50.00")
    assert holder.balance == Decimal("50.00")


def test_rules_match_holder_and_unit_only(holder, other):
    user_type = ContentType.objects.get_for_model(holder)
    rule(max_single=Decimal("1"), holder_type=user_type, holder_id=str(other.pk))
    rule(max_single=Decimal("1"), unit="EUR")
    holder.transfer(other, "30.00")
    with pytest.raises(risk.RiskLimitExceeded):
        other.transfer(holder, "2.00")


def test_daily_total_counts_the_last_24_hours(holder, other):
    rule(max_daily_total=Decimal("25"))
    holder.transfer(other, "20.00")
    with pytest.raises(risk.RiskLimitExceeded, match=r"20 USD was sent"):
        holder.transfer(other, "10.00")
    holder.transfer(other, "5.00")


def test_transfers_per_hour(holder, other):
    rule(max_per_hour=2)
    holder.transfer(other, 1)
    holder.transfer(other, 1)
    with pytest.raises(risk.RiskLimitExceeded, match="2 transfers"):
        holder.transfer(other, 1)


def test_inactive_rules_do_not_apply(holder, other):
    rule(max_single=Decimal("1"), is_active=False)
    holder.transfer(other, 10)


def test_hold_rule_reserves_the_amount_and_lands_in_the_queue(holder, other, moderator):
    rule(name="Big transfers", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    with pytest.raises(risk.TransferHeldForReview, match="held for review") as caught:
        holder.transfer(other, "80.00", meta={"note": "rent"})
    held = caught.value.transaction
    assert held.state == Transaction.State.PENDING and held.amount == Decimal("-80.00")
    assert risk.is_held_transfer(held)
    assert risk.held_transfer_details(held)["rule"] == "Big transfers"
    holder.wallet.refresh_from_db()
    assert (holder.wallet.balance, holder.wallet.held) == (Decimal("100.00"), Decimal("80.00"))
    assert not Transfer.objects.filter(kind="transfer").exists()

    entry = moderation.confirm_transaction(held, actor=moderator, reason="customer verified")
    transfer = Transfer.objects.get(uuid=entry.after["transfer"])
    assert transfer.amount == Decimal("80.00") and transfer.meta["note"] == "rent"
    held.refresh_from_db()
    assert held.state == Transaction.State.CANCELED
    holder.wallet.refresh_from_db()
    other.wallet.refresh_from_db()
    assert (holder.wallet.balance, holder.wallet.held) == (Decimal("20.00"), Decimal("0.00"))
    assert other.wallet.balance == Decimal("100.00")
    assert AuditEntry.objects.get().action == AuditEntry.Action.CONFIRM


def test_rejecting_a_held_transfer_releases_the_hold(holder, other, moderator):
    rule(max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    with pytest.raises(risk.TransferHeldForReview) as caught:
        holder.transfer(other, "80.00")
    moderation.reject_transaction(caught.value.transaction, actor=moderator, reason="fraud")
    holder.wallet.refresh_from_db()
    assert (holder.wallet.balance, holder.wallet.held) == (Decimal("100.00"), Decimal("0.00"))
    assert other.balance == Decimal("20.00")


def test_refusing_rule_wins_over_holding_rule(holder, other):
    rule(max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    rule(max_single=Decimal("70"))
    with pytest.raises(risk.RiskLimitExceeded):
        holder.transfer(other, "80.00")
    assert not holder.wallet.transactions.filter(state="pending").exists()


def test_projects_add_rules_through_the_risk_check_signal(holder, other):
    @receiver(risk.risk_check)
    def no_transfers_to_otto(sender, source, destination, amount, meta, **kwargs):
        if destination.holder_id == str(other.pk):
            return risk.RiskDecision(risk.REFUSE, "blocklist", "The recipient is blocked.")
        return None

    try:
        with pytest.raises(risk.RiskLimitExceeded, match="recipient is blocked"):
            holder.transfer(other, 1)
    finally:
        risk.risk_check.disconnect(no_transfers_to_otto)
    holder.transfer(other, 1)


def test_refunds_and_purchases_are_not_limited(holder, other, moderator):
    transfer = holder.transfer(other, "60.00")
    rule(max_single=Decimal("1"))
    moderation.refund_transfer(transfer, actor=moderator, reason="dispute")
    holder.wallet.refresh_from_db()
    assert holder.wallet.balance == Decimal("100.00")


def test_a_rule_needs_a_limit_and_a_holder_type_for_a_holder_id():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="at least one limit"):
        RiskRule(name="empty").clean()
    with pytest.raises(ValidationError):
        RiskRule(name="x", max_single=Decimal("1"), holder_id="7").clean()
    RiskRule(name="ok", max_per_hour=3).clean()


def test_held_transfer_confirmed_from_the_admin(holder, other, moderator_client):
    rule(name="Big", max_single=Decimal("50"), on_breach=RiskRule.OnBreach.HOLD)
    with pytest.raises(risk.TransferHeldForReview) as caught:
        holder.transfer(other, "60.00")
    held = caught.value.transaction
    page = moderator_client.post(
        "/admin/wallets/transaction/",
        {"action": "confirm_pending", "_selected_action": [str(held.pk)]},
    ).content.decode()
    assert "held by rule &#x27;Big&#x27;" in page
    moderator_client.post(
        "/admin/wallets/transaction/",
        {
            "action": "confirm_pending",
            "_selected_action": [str(held.pk)],
            "confirm": "yes",
            "reason": "verified by phone",
        },
    )
    other.wallet.refresh_from_db()
    assert other.wallet.balance == Decimal("80.00")
    assert Transfer.objects.filter(meta__released_from=str(held.uuid)).count() == 1
