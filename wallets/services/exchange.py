"""Exchanging value between two wallets of one holder."""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal
from typing import Any

from wallets.amounts import Amount, exact, parse_amount, quantum
from wallets.exceptions import AmountInvalid, ExchangeRateChanged, SameWallet
from wallets.holders import find_wallet, get_or_create_wallet, unopened_wallet, wallets_of
from wallets.ledger import ensure_active, ensure_available
from wallets.operations import Context, Operation, run
from wallets.rates import rate_provider
from wallets.services.moves import move
from wallets.swappable import get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transfer = get_transfer_model()


@exact
def convert(from_wallet: Wallet, to_wallet: Wallet, value: Decimal) -> tuple[Decimal, Decimal]:
    """``(rate, received)`` at the current rate, rounded down to the destination."""
    rate = rate_provider().get_rate(from_wallet.unit, to_wallet.unit)
    received = (value * rate).quantize(quantum(to_wallet.decimal_places), rounding=ROUND_DOWN)
    if received <= 0:
        raise AmountInvalid(f"{value} {from_wallet.unit} is too small to buy any {to_wallet.unit}.")
    return rate, received


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
        """``(amount, rate, received)`` for exchanging ``amount``, without moving anything.

        Raises what the exchange would raise now (frozen, funds, rate, amount);
        the exchange checks again under its locks."""
        if from_wallet.pk == to_wallet.pk:
            raise SameWallet("A wallet cannot be exchanged into itself.")
        value = parse_amount(amount, from_wallet.decimal_places)
        rate, received = convert(from_wallet, to_wallet, value)
        ensure_active(from_wallet, to_wallet)
        ensure_available(from_wallet, value)
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
        *,
        expected_rate: Decimal | None = None,
        create_fields: dict[str, Any] | None = None,
    ) -> Transfer:
        """Exchange ``amount`` from one of the holder's wallets into another.

        A destination the holder has no wallet for yet is opened (race-safe),
        in ``create_fields["unit"]`` or else the slug upper-cased, once the
        exchange is known to be possible: without a rate, or with too little
        in the source, nothing is opened. With ``expected_rate`` (the rate the
        holder was quoted), a rate that changed since raises
        ``ExchangeRateChanged`` and moves nothing."""
        if from_slug == to_slug:
            raise SameWallet("A wallet cannot be exchanged into itself.")
        source = find_wallet(holder, from_slug)
        destination = wallets_of(holder).filter(slug=to_slug).first()
        if destination is None:
            destination = cls._open_destination(holder, source, to_slug, amount, create_fields)
        value = parse_amount(amount, source.decimal_places)
        meta = dict(meta or {})

        def perform(context: Context) -> Transfer:
            locked_source, locked_destination = context.locked
            rate, received = convert(locked_source, locked_destination, value)
            if expected_rate is not None and rate != expected_rate:
                raise ExchangeRateChanged(
                    f"The rate from {source.unit} to {destination.unit} is now {rate}, "
                    f"not {expected_rate}."
                )
            return move(
                locked_source,
                locked_destination,
                value,
                received,
                kind=Transfer.Kind.EXCHANGE,
                meta={**meta, "rate": str(rate)},
                rate=rate,
            )

        return run(
            Operation(
                "exchange",
                wallets=[source, destination],
                idempotency_key=idempotency_key,
                fingerprint=[str(source.uuid), str(destination.uuid), str(value), meta],
            ),
            perform,
        )

    @classmethod
    def _open_destination(
        cls,
        holder: Any,
        source: Wallet,
        slug: str,
        amount: Amount,
        create_fields: dict[str, Any] | None,
    ) -> Wallet:
        fields = {"unit": slug.upper(), **(create_fields or {})}
        planned = unopened_wallet(holder, slug, **fields)
        # The rate, the amount and the source's funds first: nothing opens for a
        # refused exchange.
        cls.quote(source, planned, amount)
        return get_or_create_wallet(holder, slug, **fields)
