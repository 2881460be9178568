"""The ``WALLETS`` settings dict, with defaults, read fresh on every access."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    "DEFAULT_SLUG": "default",
    "DEFAULT_NAME": "Main wallet",
    "DEFAULT_UNIT": "USD",
    "DEFAULT_DECIMAL_PLACES": 2,
    "MAX_DECIMAL_PLACES": 8,
    "WALLET_SERVICE_CLASS": "wallets.services.wallet.WalletService",
    "TRANSFER_SERVICE_CLASS": "wallets.services.transfer.TransferService",
    "EXCHANGE_SERVICE_CLASS": "wallets.services.exchange.ExchangeService",
    "PURCHASE_SERVICE_CLASS": "wallets.services.purchase.PurchaseService",
    "WALLET_MIXIN_CLASS": "wallets.mixins.WalletMixin",
    "RATE_PROVIDER_CLASS": "wallets.rates.SettingsRateProvider",
    # Asked under the transfer's locks whether to let a transfer through,
    # refuse it or hold it for review (None: no checks).
    "TRANSFER_POLICY_CLASS": "wallets.risk.RiskRulePolicy",
    # Who receives payments for products that name no recipient: a callable (or
    # its dotted path) taking the product and returning a holder or a Wallet.
    # None: nobody; the buyer is charged (wallets.services.purchases).
    "REVENUE_WALLET": None,
    # Where fees go (see wallets.fees): a callable (or its dotted path) taking the
    # unit and returning a holder or a Wallet of that unit. A fee policy may name
    # its own fee wallet instead. None: a policy that applies without one is refused.
    "FEE_WALLET": None,
    # How long a process may use the active fee policies it read (see wallets.fees).
    "FEE_POLICIES_CACHE_SECONDS": 5,
    # How long a process may use the active risk rules it read (see wallets.risk).
    "RISK_RULES_CACHE_SECONDS": 5,
    "EXCHANGE_RATES": {},
    # Pending transactions expire after this many seconds (None: never).
    "PENDING_EXPIRY_SECONDS": None,
}


def get(name: str) -> Any:
    configured = getattr(settings, "WALLETS", {}) or {}
    if name in configured:
        return configured[name]
    return DEFAULTS[name]


def get_class(name: str) -> Any:
    value = get(name)
    return import_string(value) if isinstance(value, str) and value else value


def pending_expiry() -> timedelta | None:
    seconds = get("PENDING_EXPIRY_SECONDS")
    return None if seconds in (None, 0) else timedelta(seconds=seconds)
