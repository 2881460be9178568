"""Signals of the wallet engine.

``pre_withdraw`` and ``pre_deposit`` are sent inside the operation, before
anything is written; a receiver that raises cancels the operation. All the
others are sent only after the database transaction commits.
"""

from django.dispatch import Signal

balance_changed = Signal()  # wallet, transaction
transaction_created = Signal()  # transaction
wallet_created = Signal()  # wallet, holder
transfer_completed = Signal()  # transfer, from_wallet, to_wallet
transfer_held = Signal()  # hold: a transfer the risk policy held for review
transaction_confirmed = Signal()  # transaction
pre_withdraw = Signal()  # wallet, amount, meta
pre_deposit = Signal()  # wallet, amount, meta
# Once per committed operation, after its other signals: every transaction and
# transfer it wrote, for receivers that count or log in bulk (``wallets.outbox``).
operation_committed = Signal()  # operation, transactions, transfers
