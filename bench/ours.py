"""Our engine, called through its public services exactly as the portal calls them."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from bench.contender import NotAvailable, Product
from bench.counting import StatementCounter
from bench.databases import analyze_apps, django_conninfo


@dataclass
class OurWallet:
    holder: Any
    wallet: Any  # wallets.models.Wallet


class Ours:
    name = "ours"
    label = "our engine"

    def __init__(self) -> None:
        from wallets.exceptions import InsufficientFunds

        self.refused = (InsufficientFunds,)

    # Setting up

    def open_wallets(self, tag: str, count: int, balance: Decimal) -> list[OurWallet]:
        from bench.engineapp.models import Holder
        from wallets.services import wallet_service

        holders = Holder.objects.bulk_create(Holder(name=f"{tag}-{i}") for i in range(count))
        wallets = []
        for holder in holders:
            wallet = holder.get_wallet()
            if balance:
                wallet_service().deposit(wallet, balance, meta={"bench": "funding"})
            wallets.append(OurWallet(holder, wallet))
        return wallets

    def reload(self, wallet: OurWallet) -> OurWallet:
        from wallets.swappable import get_wallet_model

        Wallet = get_wallet_model()

        return OurWallet(wallet.holder, Wallet.objects.get(pk=wallet.wallet.pk))

    def open_product(self, tag: str, price: Decimal, *, own_wallet: bool) -> Product:
        from bench.engineapp.models import Product as EngineProduct
        from bench.engineapp.models import WalletlessProduct

        if not own_wallet:
            # As the peer's: nobody receives the price; the buyer is charged.
            item = WalletlessProduct.objects.create(name=tag, price=price)
            return Product(item=item, price=price, receiver=None)
        (merchant,) = self.open_wallets(f"{tag}-merchant", 1, Decimal(0))
        item = EngineProduct.objects.create(name=tag, price=price, merchant=merchant.holder)
        return Product(item=item, price=price, receiver=merchant)

    # The operations measured

    def deposit(self, wallet: OurWallet, amount: Decimal) -> None:
        from wallets.services import wallet_service

        wallet_service().deposit(wallet.wallet, amount)

    def transfer(self, source: OurWallet, destination: OurWallet, amount: Decimal) -> None:
        from wallets.services import transfer_service

        transfer_service().transfer(source.wallet, destination.wallet, amount)

    def pay(self, buyer: OurWallet, product: Product) -> None:
        from wallets.services import purchase_service

        purchase_service().pay(buyer.wallet, product.item, customer=buyer.holder)

    def last_transactions(self, wallet: OurWallet, count: int) -> list[Any]:
        from wallets.selectors import last_transactions

        return last_transactions(wallet.wallet, count)

    def balance(self, wallet: OurWallet) -> Decimal:
        return wallet.holder.balance

    def bulk_deposit(self, items: list[tuple[OurWallet, Decimal]]) -> None:
        from wallets.services import wallet_service

        service = wallet_service()
        if not hasattr(service, "bulk_deposit"):
            raise NotAvailable("wallet_service().bulk_deposit is not in the engine yet")
        service.bulk_deposit([(w.wallet, amount) for w, amount in items])

    def bulk_transfer(self, items: list[tuple[OurWallet, OurWallet, Decimal]]) -> None:
        from wallets.services import transfer_service

        service = transfer_service()
        if not hasattr(service, "bulk_transfer"):
            raise NotAvailable("transfer_service().bulk_transfer is not in the engine yet")
        service.bulk_transfer([(s.wallet, d.wallet, amount) for s, d, amount in items])

    # Checking

    def balances(self, wallets: list[OurWallet]) -> list[Decimal]:
        from wallets.swappable import get_wallet_model

        Wallet = get_wallet_model()

        stored = dict(
            Wallet.objects.filter(pk__in=[w.wallet.pk for w in wallets]).values_list(
                "pk", "balance"
            )
        )
        return [stored[w.wallet.pk] for w in wallets]

    def ledger_mismatches(self) -> list[str]:
        from wallets.reconciliation import reconcile_wallets

        return [str(problem) for problem in reconcile_wallets()]

    # Threads and counting

    def refresh_statistics(self) -> None:
        analyze_apps("wallets", "bench_engine")

    def thread_started(self) -> None:
        connection.ensure_connection()

    def thread_finished(self) -> None:
        connection.close()

    def counting(self) -> StatementCounter:
        return StatementCounter(connection)

    def activity_conninfo(self) -> str | None:
        return django_conninfo()
