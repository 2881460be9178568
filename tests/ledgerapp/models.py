"""The engine's abstract ledger models, extended with fields of the project's own.

``tests.engine_settings`` names these in ``WALLETS_WALLET_MODEL``,
``WALLETS_TRANSACTION_MODEL`` and ``WALLETS_TRANSFER_MODEL``, so the whole
engine-only test run (services, locking, selectors, admin, reconciliation)
works on them instead of ``wallets.Wallet`` and its siblings.
"""

from django.db import models

from wallets.abstract_models import AbstractTransaction, AbstractTransfer, AbstractWallet


class CostCenterWallet(AbstractWallet):
    cost_center = models.CharField(max_length=20, blank=True)

    class Meta(AbstractWallet.Meta):
        pass


class ChannelTransaction(AbstractTransaction):
    channel = models.CharField(max_length=20, blank=True, default="api")

    class Meta(AbstractTransaction.Meta):
        pass


class BatchTransfer(AbstractTransfer):
    batch = models.CharField(max_length=40, blank=True)

    class Meta(AbstractTransfer.Meta):
        pass
