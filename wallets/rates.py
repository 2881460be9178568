"""Exchange rates between wallet units."""

from __future__ import annotations

from decimal import Decimal

from wallets import conf
from wallets.amounts import to_decimal
from wallets.exceptions import ExchangeRateUnavailable

RATE_PLACES = Decimal("1e-12")


class RateProvider:
    """Base class: ``WALLETS["RATE_PROVIDER_CLASS"]`` names a subclass."""

    def get_rate(self, from_unit: str, to_unit: str) -> Decimal:
        raise NotImplementedError


class SettingsRateProvider(RateProvider):
    """Rates from ``WALLETS["EXCHANGE_RATES"]``.

    Keys are ``(from_unit, to_unit)`` tuples or ``"FROM:TO"`` strings; a rate
    says how many ``to_unit`` one ``from_unit`` buys. When only the opposite
    direction is configured, its inverse is used (to 12 decimal places).
    """

    def rates(self) -> dict[tuple[str, str], Decimal]:
        table = {}
        for key, value in (conf.get("EXCHANGE_RATES") or {}).items():
            pair = tuple(key.split(":")) if isinstance(key, str) else tuple(key)
            table[(pair[0].upper(), pair[1].upper())] = to_decimal(value)
        return table

    def get_rate(self, from_unit: str, to_unit: str) -> Decimal:
        from_unit, to_unit = from_unit.upper(), to_unit.upper()
        if from_unit == to_unit:
            return Decimal(1)
        table = self.rates()
        if (from_unit, to_unit) in table:
            rate = table[(from_unit, to_unit)]
        elif (to_unit, from_unit) in table:
            rate = (Decimal(1) / table[(to_unit, from_unit)]).quantize(RATE_PLACES)
        else:
            raise ExchangeRateUnavailable(
                f"No exchange rate is configured from {from_unit} to {to_unit}."
            )
        if rate <= 0:
            raise ExchangeRateUnavailable(
                f"The rate from {from_unit} to {to_unit} is not positive."
            )
        return rate


def rate_provider() -> RateProvider:
    return conf.get_class("RATE_PROVIDER_CLASS")()
