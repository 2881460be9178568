"""Paying for products: one product or a whole cart in one atomic operation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction as db_transaction

from wallets import idempotency
from wallets.amounts import exact, parse_amount, quantum
from wallets.exceptions import AmountInvalid, ProductNotAvailable, SameWallet, UnitMismatch
from wallets.holders import holder_label, resolve_wallet
from wallets.ledger import ensure_active, ensure_available
from wallets.locking import lock_products, lock_wallets, product_key, sync_instance
from wallets.models import Transfer, Wallet
from wallets.services.transfer import move


@dataclass
class Line:
    product: Any
    quantity: int
    recipient: Wallet


class PurchaseService:
    """Swap it with ``WALLETS["PURCHASE_SERVICE_CLASS"]``.

    Products implement :class:`wallets.mixins.ProductMixin`. Each line becomes
    a transfer of kind ``paid`` (``gift`` for gifts) from the payer to the
    product's recipient wallet. Products that are model instances are locked
    before the wallets, and ``can_buy`` is asked under that lock, so parallel
    buyers can never buy more than ``can_buy`` allows.
    """

    @classmethod
    @exact
    def pay(
        cls,
        payer: Wallet | Any,
        product: Any,
        quantity: int = 1,
        meta: dict | None = None,
        idempotency_key: str | None = None,
        customer: Any = None,
        kind: str = Transfer.Kind.PAID,
    ) -> Transfer | list[Transfer]:
        """Pay for ``product`` (``quantity`` of it), or for a cart given as a list
        of ``(product, quantity)`` pairs. Returns the transfer, or the list of
        transfers for a cart, in cart order."""
        is_cart = isinstance(product, list | tuple)
        items = list(product) if is_cart else [(product, quantity)]
        source = resolve_wallet(payer)
        customer = customer if customer is not None else _holder_of(payer, source)
        lines = [cls._line(source, p, q) for p, q in cls._validated(items)]
        meta = dict(meta or {})
        parts = [
            str(source.uuid),
            [[str(product_key(line.product)), line.quantity] for line in lines],
            meta,
            kind,
            holder_label(customer),
        ]
        with db_transaction.atomic():
            products = lock_products(line.product for line in lines)
            wallets = lock_wallets(source, *(line.recipient for line in lines))
            locked_source = wallets[0]
            recipients = {w.pk: w for w in wallets[1:]}

            def perform() -> list[Transfer]:
                priced = []
                for line in lines:
                    fresh = products[product_key(line.product)]
                    if not fresh.can_buy(customer, line.quantity):
                        raise ProductNotAvailable(f"'{fresh}' is not available.")
                    price = parse_amount(
                        fresh.get_amount_product(customer), locked_source.decimal_places
                    )
                    priced.append((line, fresh, price))
                total = sum((price * line.quantity for line, _, price in priced), Decimal(0))
                ensure_active(locked_source, *recipients.values())
                ensure_available(locked_source, total)
                transfers = []
                for line, fresh, price in priced:
                    line_meta = {
                        **meta,
                        "product": fresh.get_meta_product(),
                        "quantity": line.quantity,
                        "unit_price": str(price.quantize(quantum(locked_source.decimal_places))),
                    }
                    transfer = move(
                        locked_source,
                        recipients[line.recipient.pk],
                        price * line.quantity,
                        price * line.quantity,
                        kind=kind,
                        meta=line_meta,
                    )
                    fresh.after_purchase(customer, line.quantity, transfer)
                    transfers.append(transfer)
                return transfers

            transfers = idempotency.run_once(idempotency_key, locked_source, "pay", parts, perform)
        sync_instance(payer, locked_source)
        return transfers if is_cart else transfers[0]

    @staticmethod
    def _validated(items: Sequence[Any]) -> list[tuple[Any, int]]:
        if not items:
            raise AmountInvalid("The cart is empty.")
        cleaned = []
        for item in items:
            try:
                product, quantity = item
            except (TypeError, ValueError):
                raise AmountInvalid("A cart is a list of (product, quantity) pairs.") from None
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise AmountInvalid("The quantity must be a whole number of at least 1.")
            cleaned.append((product, quantity))
        return cleaned

    @staticmethod
    def _line(source: Wallet, product: Any, quantity: int) -> Line:
        if not hasattr(product, "get_amount_product"):
            raise ProductNotAvailable(f"{product!r} is not a product.")
        recipient = resolve_wallet(product.get_product_recipient())
        if recipient.pk == source.pk:
            raise SameWallet("A wallet cannot pay itself.")
        if recipient.unit != source.unit:
            raise UnitMismatch(
                f"'{product}' is sold for {recipient.unit}; this wallet holds {source.unit}."
            )
        return Line(product, quantity, recipient)


def _holder_of(payer: Any, wallet: Wallet) -> Any:
    return wallet.holder if isinstance(payer, Wallet) else payer
