"""What the staff console reads."""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import Http404

from portal import selectors as portal_selectors
from portal.models import User
from shop.models import Order, Organization, WebhookDelivery
from wallets.models import AuditEntry, Transaction, Transfer, Wallet

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
    ids = list(wallets.values_list("pk", flat=True))
    return (
        Transfer.objects.filter(Q(from_wallet_id__in=ids) | Q(to_wallet_id__in=ids))
        .select_related("from_wallet", "to_wallet")
        .order_by("-created_at", "-id")[:limit]
    )


def audit_for_wallets(wallets: QuerySet[Wallet], limit: int = 20) -> QuerySet[AuditEntry]:
    """Recent staff actions on these wallets (freezes, adjustments), newest first."""
    wallet_type = ContentType.objects.get_for_model(Wallet)
    ids = [str(pk) for pk in wallets.values_list("pk", flat=True)]
    return AuditEntry.objects.filter(target_type=wallet_type, target_id__in=ids).order_by(
        "-created_at", "-id"
    )[:limit]


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


def moderation_queue() -> QuerySet[Transaction]:
    """Pending top-ups, payouts and transfers held by risk rules, oldest first."""
    return (
        Transaction.objects.filter(state=Transaction.State.PENDING)
        .select_related("wallet", "wallet__holder_type")
        .prefetch_related("wallet__holder")
        .order_by("created_at", "id")
    )


def failed_webhook_deliveries() -> int:
    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.FAILED).count()
