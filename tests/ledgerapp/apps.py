from django.apps import AppConfig


class LedgerappConfig(AppConfig):
    """A project's own ledger models, swapped in for the engine's by the engine-only
    settings (``WALLETS_WALLET_MODEL`` and the two others)."""

    name = "tests.ledgerapp"
    label = "ledgerapp"
    default_auto_field = "django.db.models.BigAutoField"
