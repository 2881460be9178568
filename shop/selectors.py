"""Readers for the catalog, orders and sales."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, Prefetch, Q, QuerySet, Sum

from shop.models import Membership, Order, OrderLine, Organization, Product
from wallets.amounts import exact, quantum
from wallets.holders import holder_filter
from wallets.selectors import sum_amounts_by


@exact
def price_for(product: Product, customer: Any) -> Decimal:
    """The unit price ``customer`` pays: members of the merchant get its discount."""
    price = product.price
    if not product.member_discount_percent or not is_member(customer, product.merchant_id):
        return price
    # Round to the price's own precision so the result is payable wherever the
    # list price is.
    places = max(-price.as_tuple().exponent, 0)
    discounted = price * (100 - product.member_discount_percent) / 100
    return discounted.quantize(quantum(places), rounding=ROUND_HALF_UP)


def is_member(user: Any, organization_id: int) -> bool:
    if not isinstance(user, get_user_model()) or user.pk is None:
        return False
    return Membership.objects.filter(organization_id=organization_id, user=user).exists()


def can_manage_merchant(user: Any, merchant: Organization | int) -> bool:
    """Owners and managers of a merchant may refund, issue keys and see secrets."""
    merchant_id = merchant if isinstance(merchant, int) else merchant.pk
    if not getattr(user, "is_authenticated", False):
        return False
    return Membership.objects.filter(
        organization_id=merchant_id,
        user=user,
        role__in=Membership.SPENDING_ROLES,
    ).exists()


def owns_wallet(holder: Any, wallet: Any) -> bool:
    """Whether ``wallet`` is one of ``holder``'s (works through lazy request.user)."""
    lookup = holder_filter(holder)
    return wallet.holder_type_id == lookup["holder_type"].pk and wallet.holder_id == str(
        lookup["holder_id"]
    )


def merchants_for_user(user: Any) -> QuerySet[Organization]:
    return Organization.objects.filter(kind=Organization.Kind.MERCHANT, memberships__user=user)


def product_availability_problem(product: Product, customer: Any, quantity: int) -> str | None:
    """Why ``customer`` cannot buy ``quantity`` of ``product`` now, or None."""
    if not product.is_active:
        return f"'{product}' is no longer sold."
    if product.merchant.kind != Organization.Kind.MERCHANT:
        return f"'{product}' is not sold by a merchant."
    if product.stock is not None and product.stock < quantity:
        if product.stock == 0:
            return f"'{product}' is out of stock."
        return f"Only {product.stock} of '{product}' left."
    if product.is_digital:
        if quantity != 1:
            return f"'{product}' is digital: one per customer."
        if has_bought(customer, product):
            return f"You already own '{product}'."
    return None


def has_bought(customer: Any, product: Product) -> bool:
    """A digital product counts as owned until its line is refunded in full."""
    if not isinstance(customer, get_user_model()):
        return False
    return (
        OrderLine.objects.filter(order__buyer=customer, product=product)
        .exclude(refunded_quantity__gte=F("quantity"))
        .exists()
    )


def catalog(
    *,
    q: str = "",
    category: str = "",
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    sort: str = "name",
) -> QuerySet[Product]:
    """Active products of merchants, filtered and sorted for the catalog page."""
    products = Product.objects.filter(
        is_active=True, merchant__kind=Organization.Kind.MERCHANT
    ).select_related("merchant")
    if q:
        products = products.filter(Q(name__icontains=q) | Q(description__icontains=q))
    if category:
        products = products.filter(category=category)
    # AmountField compares exactly on both databases (order-preserving text on SQLite).
    if min_price is not None:
        products = products.filter(price__gte=min_price)
    if max_price is not None:
        products = products.filter(price__lte=max_price)
    ordering = {
        "name": ["name", "pk"],
        "price": ["price", "pk"],
        "-price": ["-price", "-pk"],
        "new": ["-created_at", "-pk"],
    }.get(sort, ["name", "pk"])
    return products.order_by(*ordering)


def categories() -> list[str]:
    return list(
        Product.objects.filter(is_active=True)
        .exclude(category="")
        .values_list("category", flat=True)
        .distinct()
        .order_by("category")
    )


def orders_for_buyer(user: Any) -> QuerySet[Order]:
    return Order.objects.filter(buyer=user).prefetch_related("lines")


def order_for_buyer(user: Any, number: str) -> Order:
    """The buyer's order; raises Order.DoesNotExist for anyone else's."""
    return Order.objects.prefetch_related("lines__product").get(buyer=user, number=number)


def sales_lines(merchant: Organization) -> QuerySet[OrderLine]:
    return (
        OrderLine.objects.filter(merchant=merchant)
        .select_related("order", "order__buyer", "product")
        .order_by("-order__created_at", "-pk")
    )


@exact
def revenue_by_product(merchant: Organization) -> list[dict[str, Any]]:
    """Per product: units sold and refunded, gross and net revenue.

    Quantities are summed in SQL; amounts with the engine's exact sums (in SQL
    on PostgreSQL, in Python on SQLite, where SQL would use floats).
    """
    lines = OrderLine.objects.filter(merchant=merchant)
    counts = {
        row["product_id"]: row
        for row in lines.order_by()
        .values("product_id")
        .annotate(sold=Sum("quantity"), refunded=Sum("refunded_quantity"))
    }
    gross = sum_amounts_by(lines, "product_id", "amount")
    refunds = sum_amounts_by(lines, "product_id", "transfer__refunded_amount")
    products = Product.objects.in_bulk(list(counts))
    rows = []
    for pid, count in counts.items():
        product = products[pid]
        rows.append(
            {
                "product_id": pid,
                "name": product.name,
                "unit": product.unit,
                "sold": count["sold"],
                "refunded": count["refunded"],
                "gross": gross.get(pid, Decimal(0)),
                "refunds": refunds.get(pid, Decimal(0)),
                "net": gross.get(pid, Decimal(0)) - refunds.get(pid, Decimal(0)),
            }
        )
    return sorted(rows, key=lambda row: (row["name"], row["product_id"]))


def merchant_for_manager(user: Any, slug: str) -> Organization:
    """A merchant ``user`` may manage; raises Organization.DoesNotExist otherwise."""
    merchant = Organization.objects.get(slug=slug, kind=Organization.Kind.MERCHANT)
    if not (getattr(user, "is_staff", False) or can_manage_merchant(user, merchant)):
        raise Organization.DoesNotExist
    return merchant


def merchant_for_member(user: Any, slug: str) -> Organization:
    """A merchant ``user`` belongs to (any role) or staff; DoesNotExist otherwise."""
    merchant = Organization.objects.get(slug=slug, kind=Organization.Kind.MERCHANT)
    if not (
        getattr(user, "is_staff", False)
        or Membership.objects.filter(organization=merchant, user=user).exists()
    ):
        raise Organization.DoesNotExist
    return merchant


def sales_orders(merchant: Organization) -> QuerySet[Order]:
    """Orders with a line of this merchant, newest first; ``merchant_lines`` holds
    only this merchant's lines (the rest of the order is none of its business)."""
    return (
        Order.objects.filter(lines__merchant=merchant)
        .distinct()
        .select_related("buyer")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.filter(merchant=merchant).order_by("pk"),
                to_attr="merchant_lines",
            )
        )
        .order_by("-created_at", "-pk")
    )


def wallets_for_payment(user: Any, unit: str) -> list[Any]:
    from wallets.selectors import wallet_list_for_holder

    return list(wallet_list_for_holder(user).filter(unit=unit, is_frozen=False))


def paid_sessions(merchant: Organization) -> QuerySet:
    from shop.models import CheckoutSession

    return (
        CheckoutSession.objects.filter(merchant=merchant, payment__isnull=False)
        .select_related("payment", "paid_by")
        .order_by("-completed_at", "-pk")[:100]
    )


@exact
def fees_differ(fees: Iterable[Decimal]) -> bool:
    """Whether the wallets offered would pay different fees (their decimal
    places round a fee differently): a page then shows each one's total."""
    return len(set(fees)) > 1


def cart_fee(lines: list[Any], wallet: Any) -> Decimal:
    """The fees paying these cart lines from ``wallet`` would add (fee policies
    whose payer pays; a fee deducted from the merchant costs the buyer nothing)."""
    from wallets import fees
    from wallets.exceptions import FeeConfigurationError
    from wallets.holders import peek_wallet, unopened_wallet

    total = Decimal(0)
    for line in lines:
        recipient = line.product.get_product_recipient()
        receiving = peek_wallet(recipient) or unopened_wallet(recipient) if recipient else None
        try:
            quote = fees.quote(fees.PAYMENT, wallet, line.amount, receiving, line.product)
        except FeeConfigurationError:
            continue  # paying refuses it with the reason; the cart still shows
        if quote is not None and not quote.deductible:
            total += quote.fee
    return total


@exact
def order_fee(order: Order) -> Decimal:
    """The fees the buyer's wallet paid on this order's lines."""
    return fees_paid(order.wallet_id, order.lines.values("transfer"))


@exact
def fees_paid(wallet_id: Any, transfers: Any) -> Decimal:
    """The fees ``wallet_id`` paid on top of ``transfers`` (a fee deducted from the
    receiver is not the payer's)."""
    from wallets.models import FeeCharge

    charged = FeeCharge.objects.filter(
        refund_of__isnull=True, payer_wallet_id=wallet_id, transfer__in=transfers
    )
    return sum((charge.amount for charge in charged), Decimal(0))
