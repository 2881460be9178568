"""Staff actions that need the shop: the engine's moderation layer cannot import it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import transaction as db_transaction

from shop.models import Order
from shop.services import refund_order as shop_refund_order
from wallets import moderation
from wallets.models import AuditEntry


def refund_order(order: Order, *, actor: Any, reason: str, ip: str | None = None) -> AuditEntry:
    """Refund all that is left of an order (money and stock), audited in the same transaction.

    The shop audits refunds by staff who do not manage the merchant; when the
    staff member also manages it, the shop sees a merchant refund and writes
    no entry, so the console writes it: every console refund has exactly one.
    """
    reason = moderation.check_allowed(actor, AuditEntry.Action.REFUND_ORDER, reason)
    order_type = ContentType.objects.get_for_model(Order)
    with db_transaction.atomic():
        wallet = order.wallet
        before = {"status": order.status, **moderation.wallet_snapshot(wallet)}
        last_id = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        refunds = shop_refund_order(order, by=actor, reason=reason)
        written = AuditEntry.objects.filter(
            id__gt=last_id, target_type=order_type, target_id=str(order.pk)
        ).first()
        if written is not None:
            return written
        wallet.refresh_from_db()
        return moderation.record(
            actor=actor,
            action=AuditEntry.Action.REFUND_ORDER,
            target=order,
            reason=reason,
            before=before,
            after={
                "status": order.status,
                **moderation.wallet_snapshot(wallet),
                "refunds": [str(r.uuid) for r in refunds],
            },
            ip=ip,
            amount=sum((r.received for r in refunds), start=Decimal(0)),
            unit=order.unit,
        )
