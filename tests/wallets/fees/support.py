"""What the fee tests share: a policy maker, totals, conservation checks."""

from decimal import Decimal

from django.core.management import call_command

from wallets.models import FeeCharge, FeePolicy
from wallets.reconciliation import reconcile_wallets
from wallets.services import WalletService
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()
D = Decimal


def policy(**fields) -> FeePolicy:
    values = {"name": "Fee", "percent": D(0), "fixed": D(0), **fields}
    return FeePolicy.objects.create(**values)


def total() -> Decimal:
    """Every balance in the system, fee wallets included."""
    return sum((w.balance for w in Wallet.objects.all()), D(0))


def fresh(wallet) -> Wallet:
    return Wallet.objects.get(pk=wallet.pk)


def fee_wallet(platform, unit="USD") -> Wallet:
    return Wallet.objects.get(holder_id=str(platform.pk), unit=unit)


def balanced() -> None:
    """The stored balances equal their ledgers."""
    assert reconcile_wallets() == []
    call_command("wallets_reconcile")


def ledger_state():
    return (
        sorted((w.pk, w.balance, w.held) for w in Wallet.objects.all()),
        Transaction.objects.count(),
        Transfer.objects.count(),
        FeeCharge.objects.count(),
    )


def pair(alice, bob, unit, places, funds):
    slug = unit.lower()
    source = alice.get_wallet(slug, unit=unit, decimal_places=places)
    destination = bob.get_wallet(slug, unit=unit, decimal_places=places)
    WalletService.deposit(source, funds)
    return source, destination
