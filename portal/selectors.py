"""Readers for the portal: which wallets and ledger rows a signed-in user may see or use.

Every money page goes through these, so ownership and membership are checked in one place:
a wallet belongs to the user, or to an organization the user is a member of (looking) or
an owner/manager of (spending). Anything else is a 404.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet
from django.http import Http404

from portal.models import User
from shop.models import Membership, Organization
from wallets import conf as wallets_conf
from wallets.models import Purchase, TransferHold
from wallets.selectors import recent_transactions
from wallets.selectors import transaction_history as wallet_transaction_history
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()


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


def recent_activity(
    user: User, limit: int = 10, wallets: Iterable[Wallet] | None = None
) -> list[Transaction]:
    """The newest rows across the user's wallets, each wallet's read from its history index."""
    if wallets is None:
        # The rows only name their wallet: the holders' prefetch is not needed here.
        wallets = wallets_for_user(user).prefetch_related(None)
    return recent_transactions(wallets, limit)


def pending_for_user(user: User) -> QuerySet[Transaction]:
    """Pending rows of the user's wallets, with the held transfer a withdrawal reserves."""
    return (
        Transaction.objects.select_related("wallet", "transfer_hold__to_wallet__holder_type")
        .prefetch_related("wallet__holder", "transfer_hold__to_wallet__holder")
        .filter(wallet__in=wallets_for_user(user), state=Transaction.State.PENDING)
        .order_by("created_at", "id")
    )


def purchase_refunded_by(tx: Transaction) -> Purchase | None:
    """The purchase a refund row gives money back for, in the refund's own wallet."""
    key = (tx.meta or {}).get("refund_of_purchase")
    try:
        key = uuid.UUID(str(key))
    except ValueError:
        return None
    return (
        Purchase.objects.select_related("withdraw").filter(uuid=key, wallet_id=tx.wallet_id).first()
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


def _is_viewer(wallet: Wallet, viewer: User | None) -> bool:
    holder = wallet.holder
    return isinstance(holder, User) and (viewer is None or holder.pk == viewer.pk)


def holder_label(wallet: Wallet, viewer: User | None = None) -> str:
    """Who holds a wallet, as ``viewer`` should read it: "You", or the holder's name.

    Without a viewer, any person's wallet is "You" (pages listing only the viewer's
    own wallets and those of their organizations)."""
    if _is_viewer(wallet, viewer):
        return "You"
    return holder_name(wallet)


def possessive(name: str) -> str:
    """ "Acme Coffee's", "Weekend Climbers'"."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def wallet_title(wallet: Wallet, viewer: User | None = None) -> str:
    """Whose wallet, in words: "your Main wallet", "Acme Coffee's Main wallet"."""
    if _is_viewer(wallet, viewer):
        return f"your {wallet.name}"
    return f"{possessive(holder_name(wallet))} {wallet.name}"


def is_own_wallet(user: User, wallet: Wallet) -> bool:
    return wallet.holder_type_id == _user_type().pk and wallet.holder_id == str(user.pk)


def _user_type() -> ContentType:
    return ContentType.objects.get_for_model(User)


def default_source(user: User, wallets: Iterable[Wallet]) -> Wallet | None:
    """Which of ``wallets`` a money form starts on: the user's own default wallet, else
    their oldest own wallet that is not frozen. Never an organization's: moving its
    money is always an explicit choice."""
    own = [w for w in wallets if is_own_wallet(user, w) and not w.is_frozen]
    default_slug = wallets_conf.get("DEFAULT_SLUG")
    return next((w for w in own if w.slug == default_slug), own[0] if own else None)


def chosen_wallet(wallets: QuerySet[Wallet], wallet_uuid: str | None) -> Wallet | None:
    """The wallet a link chose (``?from=<uuid>``), if it is one of ``wallets`` and can be
    used; otherwise None, and the form starts on the user's own default wallet."""
    if not wallet_uuid:
        return None
    try:
        wallet_uuid = str(uuid.UUID(str(wallet_uuid)))
    except ValueError:
        return None
    wallet = wallets.filter(uuid=wallet_uuid).first()
    return wallet if wallet is not None and not wallet.is_frozen else None


@dataclass
class WalletGroup:
    """The wallets of one holder, as the dashboard shows them."""

    title: str
    holder: Any
    is_own: bool
    can_spend: bool
    wallets: list[Wallet]

    @property
    def totals(self) -> list[dict[str, Any]]:
        """The balance per unit across the group's wallets, in the order units appear."""
        from wallets.admin.display import format_amount

        sums: dict[str, tuple[Decimal, int]] = {}
        for wallet in self.wallets:
            total, places = sums.get(wallet.unit, (Decimal(0), 0))
            sums[wallet.unit] = (total + wallet.balance, max(places, wallet.decimal_places))
        return [
            {"unit": unit, "total": total, "text": format_amount(total, places, unit)}
            for unit, (total, places) in sums.items()
        ]


def wallet_groups(user: User, wallets: Iterable[Wallet] | None = None) -> list[WalletGroup]:
    """The user's own wallets first, then each organization's under its name (A to Z)."""
    wallets = list(wallets_for_user(user) if wallets is None else wallets)
    spending = set(organizations_for_user(user, spend=True).values_list("pk", flat=True))
    own = WalletGroup("Your wallets", user, True, True, [])
    organizations: dict[str, WalletGroup] = {}
    for wallet in wallets:
        if is_own_wallet(user, wallet):
            own.wallets.append(wallet)
            continue
        org = wallet.holder
        group = organizations.get(wallet.holder_id)
        if group is None:
            group = WalletGroup(str(org), org, False, org.pk in spending, [])
            organizations[wallet.holder_id] = group
        group.wallets.append(wallet)
    return [own, *sorted(organizations.values(), key=lambda g: g.title.lower())]


UNIT_DECIMAL_PLACES = {"JPY": 0, "KRW": 0, "BHD": 3, "KWD": 3, "BTC": 8, "ETH": 8}


def unit_decimal_places(unit: str) -> int:
    """How many decimals amounts in ``unit`` have when no wallet says so (prices, audit
    entries) and what a new wallet in that unit gets by default."""
    from shop.checkout.selectors import units

    unit = (unit or "").upper()
    known = {**UNIT_DECIMAL_PLACES, **units()}
    if unit in known:
        return known[unit]
    return int(wallets_conf.get("DEFAULT_DECIMAL_PLACES"))


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
    choices = [("me", "You")]
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
    """The engine's history, with what the table needs to name counterparties and the
    products bought (a purchase no wallet received) in few queries."""
    # Not the holders' content types: the holder prefetch reads them from ContentType's
    # cache, and each join more costs PostgreSQL planning time on every page.
    return (
        wallet_transaction_history(wallet)
        .select_related(
            "transfer_as_withdraw__to_wallet", "transfer_as_deposit__from_wallet", "purchase"
        )
        .prefetch_related(
            "transfer_as_withdraw__to_wallet__holder",
            "transfer_as_deposit__from_wallet__holder",
        )
    )


def count_up_to(rows: QuerySet, limit: int) -> int:
    """How many rows there are, counting no further than ``limit + 1``.

    One bounded COUNT: a history of a million rows costs what one of ``limit`` does,
    and a result above ``limit`` means "more than ``limit``". It counts in the rows'
    own order, for a history the history index's: without one, PostgreSQL may count
    a wallet's rows by scanning the table from its start, and a wallet whose rows
    are its newest (a merchant that joined last year) would then read the whole
    table before its first."""
    return rows.values("pk")[: limit + 1].count()


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
