"""Readers for the portal: which wallets and ledger rows a signed-in user may see or use.

Every money page goes through these, so ownership and membership are checked in one place:
a wallet belongs to the user, or to an organization the user is a member of (looking) or
an owner/manager of (spending). Anything else is a 404.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import Http404

from portal.models import User
from shop.models import Membership, Organization
from wallets.models import Transaction, Transfer, TransferHold, Wallet
from wallets.selectors import recent_transactions
from wallets.selectors import transaction_history as wallet_transaction_history


def organizations_for_user(user: User, *, spend: bool = False) -> QuerySet[Organization]:
    memberships = Membership.objects.filter(user=user)
    if spend:
        memberships = memberships.filter(role__in=Membership.SPENDING_ROLES)
    return Organization.objects.filter(pk__in=memberships.values("organization_id")).order_by(
        "name"
    )


def membership_for(user: User, organization: Organization) -> Membership | None:
    return Membership.objects.filter(user=user, organization=organization).first()


def wallets_for_user(user: User, *, spend: bool = False) -> QuerySet[Wallet]:
    """Wallets the user holds, plus those of organizations where the role allows it."""
    user_type = ContentType.objects.get_for_model(User)
    org_type = ContentType.objects.get_for_model(Organization)
    org_ids = [
        str(pk) for pk in organizations_for_user(user, spend=spend).values_list("pk", flat=True)
    ]
    return (
        Wallet.objects.filter(
            Q(holder_type=user_type, holder_id=str(user.pk))
            | Q(holder_type=org_type, holder_id__in=org_ids)
        )
        .select_related("holder_type")
        .prefetch_related("holder")
        .order_by("holder_type_id", "holder_id", "created_at", "pk")
    )


def can_spend_from(user: User, wallet: Wallet) -> bool:
    return wallets_for_user(user, spend=True).filter(pk=wallet.pk).exists()


def own_wallets(user: User) -> QuerySet[Wallet]:
    user_type = ContentType.objects.get_for_model(User)
    return Wallet.objects.filter(holder_type=user_type, holder_id=str(user.pk)).order_by(
        "created_at", "pk"
    )


def wallet_for_user(user: User, wallet_uuid: Any, *, spend: bool = False) -> Wallet:
    wallet = wallets_for_user(user, spend=spend).filter(uuid=wallet_uuid).first()
    if wallet is None:
        raise Http404("No such wallet.")
    return wallet


def transaction_for_user(user: User, tx_uuid: Any) -> Transaction:
    tx = (
        Transaction.objects.select_related("wallet")
        .filter(uuid=tx_uuid, wallet__in=wallets_for_user(user))
        .first()
    )
    if tx is None:
        raise Http404("No such transaction.")
    return tx


def transfer_for_user(user: User, transfer_uuid: Any) -> Transfer:
    visible = wallets_for_user(user)
    transfer = (
        Transfer.objects.select_related("from_wallet", "to_wallet", "withdraw", "deposit")
        .filter(Q(from_wallet__in=visible) | Q(to_wallet__in=visible), uuid=transfer_uuid)
        .first()
    )
    if transfer is None:
        raise Http404("No such transfer.")
    return transfer


def recent_activity(user: User, limit: int = 10) -> list[Transaction]:
    """The newest rows across the user's wallets, each wallet's read from its history index."""
    # The rows only name their wallet: the holders' prefetch is not needed here.
    return recent_transactions(wallets_for_user(user).prefetch_related(None), limit)


def pending_for_user(user: User) -> QuerySet[Transaction]:
    """Pending rows of the user's wallets, with the held transfer a withdrawal reserves."""
    return (
        Transaction.objects.select_related("wallet", "transfer_hold__to_wallet__holder_type")
        .prefetch_related("transfer_hold__to_wallet__holder")
        .filter(wallet__in=wallets_for_user(user), state=Transaction.State.PENDING)
        .order_by("created_at", "id")
    )


def hold_for(tx: Transaction) -> TransferHold | None:
    """The held transfer a pending withdrawal reserves its amount for, if any."""
    try:
        return tx.transfer_hold
    except TransferHold.DoesNotExist:
        return None


def holder_name(wallet: Wallet) -> str:
    """A wallet's holder as a person reads it: full name or username, or the organization."""
    holder = wallet.holder
    if isinstance(holder, User):
        return holder.get_full_name() or holder.username
    return str(holder)


def holder_label(wallet: Wallet) -> str:
    """Who holds a wallet, as the owner of the page should see it."""
    holder = wallet.holder
    if isinstance(holder, Organization):
        return holder.name
    if isinstance(holder, User):
        return "You"
    return str(holder)


def find_recipient(query: str) -> User | None:
    """Exactly one active user by email or username; never a list."""
    query = (query or "").strip()
    if not query:
        return None
    field = "email__iexact" if "@" in query else "username__iexact"
    return User.objects.filter(**{field: query}, is_active=True).first()


def mask_identity(user: User) -> str:
    """Enough to recognise someone you know, not enough to harvest addresses."""
    local, _, domain = user.email.partition("@")
    masked_local = local[:1] + "•" * max(len(local) - 1, 2)
    name = user.get_full_name()
    short_name = f"{user.first_name} {user.last_name[:1]}." if name and user.last_name else name
    masked = f"{masked_local}@{domain}"
    return f"{short_name} ({masked})" if short_name else masked


def holder_choices_for_user(user: User) -> list[tuple[str, str]]:
    """Holders the user may open wallets for: themself and organizations they can spend for."""
    choices = [("me", "Me")]
    choices += [(f"org:{org.pk}", org.name) for org in organizations_for_user(user, spend=True)]
    return choices


def holder_for_choice(user: User, choice: str) -> User | Organization:
    if choice == "me":
        return user
    prefix, _, pk = choice.partition(":")
    organization = (
        organizations_for_user(user, spend=True).filter(pk=pk).first()
        if prefix == "org" and pk.isdigit()
        else None
    )
    if organization is None:
        raise Http404("No such holder.")
    return organization


def wallet_history(wallet: Wallet) -> QuerySet[Transaction]:
    """The engine's history, with what the table needs to name counterparties in few queries."""
    # Not the holders' content types: the holder prefetch reads them from ContentType's
    # cache, and each join more costs PostgreSQL planning time on every page.
    return (
        wallet_transaction_history(wallet)
        .select_related("transfer_as_withdraw__to_wallet", "transfer_as_deposit__from_wallet")
        .prefetch_related(
            "transfer_as_withdraw__to_wallet__holder",
            "transfer_as_deposit__from_wallet__holder",
        )
    )


def count_up_to(rows: QuerySet, limit: int) -> int:
    """How many rows there are, counting no further than ``limit + 1``.

    One bounded COUNT: a history of a million rows costs what one of ``limit`` does,
    and a result above ``limit`` means "more than ``limit``"."""
    return rows.order_by().values("pk")[: limit + 1].count()


def counterparty_wallet(tx: Transaction) -> Wallet | None:
    """The wallet on the other side of a transfer leg, if the transaction is one."""
    for relation, side in (
        ("transfer_as_withdraw", "to_wallet"),
        ("transfer_as_deposit", "from_wallet"),
    ):
        try:
            return getattr(getattr(tx, relation), side)
        except Transfer.DoesNotExist:
            continue
    return None


def counterparty_label(tx: Transaction) -> str:
    other = counterparty_wallet(tx)
    if other is None:
        return ""
    if other.holder_type_id == tx.wallet.holder_type_id and other.holder_id == tx.wallet.holder_id:
        return f"Own wallet: {other.name}"
    return holder_name(other)


def counterparty_transfer(tx: Transaction) -> Transfer | None:
    for relation in ("transfer_as_withdraw", "transfer_as_deposit"):
        try:
            return getattr(tx, relation)
        except Transfer.DoesNotExist:
            continue
    return None


def pending_transaction_for_user(user: User, tx_uuid: Any, *, spend: bool = False) -> Transaction:
    tx = (
        Transaction.objects.select_related("wallet")
        .filter(uuid=tx_uuid, wallet__in=wallets_for_user(user, spend=spend))
        .first()
    )
    if tx is None:
        raise Http404("No such transaction.")
    return tx


def memberships_for_user(user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name")
    )


def organization_members(organization: Organization) -> QuerySet[Membership]:
    return organization.memberships.select_related("user").order_by("role", "user__username")
