"""The engine's admin: read-only ledger pages, and staff actions that go through
the engine's operations (``wallets.services``) with a :class:`~wallets.staff.StaffActor`.

Importing this package registers every model admin. Nothing here locks a
wallet or writes a ledger, balance or audit row: the operation door does.
"""

from wallets.admin.audit_log_admin import AuditEntryAdmin
from wallets.admin.dashboard import dashboard_panels
from wallets.admin.fee_admin import FeeChargeAdmin, FeePolicyAdmin
from wallets.admin.hold_admin import TransferHoldAdmin
from wallets.admin.ledger_admin import TransactionAdmin, TransferAdmin
from wallets.admin.risk_admin import RiskRuleAdmin
from wallets.admin.wallet_admin import WalletAdmin

__all__ = [
    "AuditEntryAdmin",
    "FeeChargeAdmin",
    "FeePolicyAdmin",
    "RiskRuleAdmin",
    "TransactionAdmin",
    "TransferAdmin",
    "TransferHoldAdmin",
    "WalletAdmin",
    "dashboard_panels",
]
