"""What the staff console reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.http import Http404

from portal import selectors as portal_selectors
from portal.models import User
from shop.models import Order, Organization, WebhookDelivery
from wallets import selectors as wallet_selectors
from wallets.models import AuditEntry, FeeCharge, TransferHold
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

HOLDER_MODELS: dict[str, type] = {"user": User, "organization": Organization}
SEARCH_LIMIT = 50


def search_holders(query: str) -> list[tuple[str, Any]]:
    """Users by name, username or email, and organizations by name or slug."""
    query = (query or "").strip()
    if not query:
        return []
    users = User.objects.filter(
        Q(username__icontains=query)
        | Q(email__icontains=query)
        | Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
    ).order_by("username")[:SEARCH_LIMIT]
    orgs = Organization.objects.filter(
        Q(name__icontains=query) | Q(slug__icontains=query)
    ).order_by("name")[:SEARCH_LIMIT]
    return [("user", u) for u in users] + [("organization", o) for o in orgs]


def holder(kind: str, pk: str) -> Any:
    model = HOLDER_MODELS.get(kind)
    if model is None:
        raise Http404("No such holder.")
    try:
        return model.objects.get(pk=pk)
    except (model.DoesNotExist, ValueError):
        raise Http404("No such holder.") from None


def holder_kind(obj: Any) -> str:
    return "organization" if isinstance(obj, Organization) else "user"


def wallets_of(obj: Any) -> QuerySet[Wallet]:
    return Wallet.objects.filter(
        holder_type=ContentType.objects.get_for_model(obj), holder_id=str(obj.pk)
    ).order_by("created_at", "pk")


def recent_transfers(wallets: QuerySet[Wallet], limit: int = 20) -> QuerySet[Transfer]:
    """Transfers in or out of these wallets, newest first, with both holders loaded."""
    return (
        Transfer.objects.filter(Q(from_wallet__in=wallets) | Q(to_wallet__in=wallets))
        .select_related("from_wallet__holder_type", "to_wallet__holder_type")
        .prefetch_related("from_wallet__holder", "to_wallet__holder")
        .order_by("-created_at", "-id")[:limit]
    )


def with_fees(transfers: Iterable[Transfer]) -> list[Transfer]:
    """The transfers, each with ``fee_charge``: the fee charged on it, or None.
    One query for all of them (returns of fees are counted on the charge)."""
    rows = list(transfers)
    charged = FeeCharge.objects.filter(
        transfer_id__in=[t.pk for t in rows], refund_of__isnull=True
    ).only("transfer_id", "amount", "refunded", "mode", "policy_name")
    by_transfer = {charge.transfer_id: charge for charge in charged}
    for transfer in rows:
        transfer.fee_charge = by_transfer.get(transfer.pk)
    return rows


def _ids_as_text(queryset: QuerySet) -> QuerySet:
    """Primary keys as text, to match ``AuditEntry.target_id`` inside one SQL query."""
    return queryset.order_by().annotate(target=Cast("pk", CharField())).values("target")


def audit_for_holder(obj: Any, wallets: QuerySet[Wallet], limit: int = 30) -> QuerySet[AuditEntry]:
    """Staff actions on a holder's money, newest first: on the wallets themselves, and on
    their transactions, transfers (either side), held transfers and orders."""
    targets = {
        Wallet: wallets,
        Transaction: Transaction.objects.filter(wallet__in=wallets),
        Transfer: Transfer.objects.filter(Q(from_wallet__in=wallets) | Q(to_wallet__in=wallets)),
        TransferHold: TransferHold.objects.filter(
            Q(from_wallet__in=wallets) | Q(to_wallet__in=wallets)
        ),
        Order: _orders_query(obj, wallets),
    }
    types = ContentType.objects.get_for_models(*targets)
    matches = Q()
    for model, rows in targets.items():
        matches |= Q(target_type=types[model], target_id__in=_ids_as_text(rows))
    return (
        AuditEntry.objects.filter(matches)
        .select_related("target_type")
        .order_by("-created_at", "-id")[:limit]
    )


def _orders_query(obj: Any, wallets: QuerySet[Wallet]) -> QuerySet[Order]:
    """Orders the holder bought, or paid from one of its wallets."""
    bought = Q(buyer=obj) if isinstance(obj, User) else Q()
    return Order.objects.filter(bought | Q(wallet__in=wallets))


def orders_of(obj: Any, limit: int = 20) -> QuerySet[Order]:
    if not isinstance(obj, User):
        return Order.objects.none()
    return Order.objects.filter(buyer=obj).order_by("-created_at")[:limit]


def wallet(wallet_uuid: Any) -> Wallet:
    try:
        return Wallet.objects.select_related("holder_type").get(uuid=wallet_uuid)
    except Wallet.DoesNotExist:
        raise Http404("No such wallet.") from None


def wallet_history(wallet: Wallet) -> QuerySet[Transaction]:
    """The same rows and counterparty joins as the holder's own history page."""
    return portal_selectors.wallet_history(wallet)


def transaction(tx_uuid: Any) -> Transaction:
    try:
        return Transaction.objects.select_related("wallet").get(uuid=tx_uuid)
    except Transaction.DoesNotExist:
        raise Http404("No such transaction.") from None


def transfer(transfer_uuid: Any) -> Transfer:
    try:
        return Transfer.objects.select_related("from_wallet", "to_wallet").get(uuid=transfer_uuid)
    except Transfer.DoesNotExist:
        raise Http404("No such transfer.") from None


def order(number: str) -> Order:
    try:
        return Order.objects.select_related("wallet").get(number=number)
    except Order.DoesNotExist:
        raise Http404("No such order.") from None


def pending_for_review() -> QuerySet[Transaction]:
    """The engine's queue of top-ups and payouts, with the holders the rows name."""
    return wallet_selectors.pending_for_review().prefetch_related("wallet__holder")


def open_transfer_holds() -> QuerySet[TransferHold]:
    """The engine's held transfers, with both holders the rows name."""
    return (
        wallet_selectors.open_transfer_holds()
        .select_related("from_wallet__holder_type", "to_wallet__holder_type")
        .prefetch_related("from_wallet__holder", "to_wallet__holder")
    )


def transfer_hold(hold_uuid: Any) -> TransferHold:
    try:
        return TransferHold.objects.select_related("from_wallet", "to_wallet").get(uuid=hold_uuid)
    except TransferHold.DoesNotExist:
        raise Http404("No such held transfer.") from None


def queue_size() -> int:
    return pending_for_review().count() + open_transfer_holds().count()


def failed_webhook_deliveries() -> int:
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count()
