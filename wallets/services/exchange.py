"""Exchanging value between two wallets of one holder."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from django.db import transaction as db_transaction

from wallets import idempotency
from wallets.amounts import Amount, exact, parse_amount, quantum
from wallets.exceptions import AmountInvalid, SameWallet
from wallets.holders import find_wallet
from wallets.locking import lock_wallets, sync_instance
from wallets.models import Transfer, Wallet
from wallets.rates import rate_provider
from wallets.services.transfer import move


class ExchangeService:
    """Swap it with ``WALLETS["EXCHANGE_SERVICE_CLASS"]``.

    Rounding rule: the converted amount is rounded *down* to the destination
    wallet's decimal places, so an exchange never creates value; the holder
    gives up at most one smallest unit of the destination.
    """

    @classmethod
    @exact
    def quote(
        cls, from_wallet: Wallet, to_wallet: Wallet, amount: Amount
    ) -> tuple[Decimal, Decimal, Decimal]:
        """``(amount, rate, received)`` for exchanging ``amount``, without moving anything."""
        if from_wallet.pk == to_wallet.pk:
            raise SameWallet("A wallet cannot be exchanged into itself.")
        value = parse_amount(amount, from_wallet.decimal_places)
        rate = rate_provider().get_rate(from_wallet.unit, to_wallet.unit)
        received = (value * rate).quantize(quantum(to_wallet.decimal_places), rounding=ROUND_DOWN)
        if received <= 0:
            raise AmountInvalid(
                f"{value} {from_wallet.unit} is too small to buy any {to_wallet.unit}."
            )
        return value, rate, received

    @classmethod
    def exchange(
        cls,
        holder: Any,
        from_slug: str,
        to_slug: str,
        amount: Amount,
        meta: dict | None = None,
        idempotency_key: str | None = None,
    ) -> Transfer:
        if from_slug == to_slug:
            raise SameWallet("A wallet cannot be exchanged into itself.")
        source = find_wallet(holder, from_slug)
        destination = find_wallet(holder, to_slug)
        value, rate, received = cls.quote(source, destination, amount)
        meta = {**(meta or {}), "rate": str(rate)}
        parts = [str(source.uuid), str(destination.uuid), str(value), meta]
        with db_transaction.atomic():
            locked_source, locked_destination = lock_wallets(source, destination)
            result = idempotency.run_once(
                idempotency_key,
                locked_source,
                "exchange",
                parts,
                lambda: move(
                    locked_source,
                    locked_destination,
                    value,
                    received,
                    kind=Transfer.Kind.EXCHANGE,
                    meta=meta,
                    rate=rate,
                ),
            )
        sync_instance(source, locked_source)
        sync_instance(destination, locked_destination)
        return result
