"""dj-wallet 0.1.0, the peer, through its documented API (README: holder methods and services)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection

from bench.contender import NotAvailable, Product
from bench.counting import StatementCounter
from bench.databases import analyze_apps, django_conninfo


@dataclass
class PeerWallet:
    holder: Any
    wallet: Any  # dj_wallet.models.Wallet


class Peer:
    name = "peer"
    label = "dj-wallet 0.1.0"

    def __init__(self) -> None:
        from dj_wallet.exceptions import InsufficientFunds

        self.refused = (InsufficientFunds,)

    # Setting up

    def open_wallets(self, tag: str, count: int, balance: Decimal) -> list[PeerWallet]:
        from bench.peerapp.models import PeerHolder

        holders = PeerHolder.objects.bulk_create(
            PeerHolder(name=f"{tag}-{i}") for i in range(count)
        )
        wallets = []
        for holder in holders:
            wallet = PeerWallet(holder, holder.wallet)
            if balance:
                self.deposit(wallet, balance)
            wallets.append(wallet)
        return wallets

    def reload(self, wallet: PeerWallet) -> PeerWallet:
        from dj_wallet.models import Wallet

        return PeerWallet(wallet.holder, Wallet.objects.get(pk=wallet.wallet.pk))

    def open_product(self, tag: str, price: Decimal, *, own_wallet: bool) -> Product:
        from bench.peerapp.models import PeerProduct, PeerShopProduct

        if not own_wallet:
            # dj-wallet's pay() withdraws the price of a product without a wallet.
            return Product(PeerProduct.objects.create(name=tag, price=price), price, None)
        item = PeerShopProduct.objects.create(name=tag, price=price)
        return Product(item, price, PeerWallet(item, item.wallet))

    # The operations measured

    def deposit(self, wallet: PeerWallet, amount: Decimal) -> None:
        from dj_wallet.utils import get_wallet_service

        get_wallet_service().deposit(wallet.wallet, amount)

    def transfer(self, source: PeerWallet, destination: PeerWallet, amount: Decimal) -> None:
        source.holder.transfer(destination.holder, amount)

    def pay(self, buyer: PeerWallet, product: Product) -> None:
        buyer.holder.pay(product.item)

    def last_transactions(self, wallet: PeerWallet, count: int) -> list[Any]:
        return list(wallet.wallet.transactions.order_by("-created_at", "-id")[:count])

    def balance(self, wallet: PeerWallet) -> Decimal:
        return wallet.holder.balance

    def bulk_deposit(self, items: list[tuple[PeerWallet, Decimal]]) -> None:
        raise NotAvailable("dj-wallet 0.1.0 has no bulk API")

    def bulk_transfer(self, items: list[tuple[PeerWallet, PeerWallet, Decimal]]) -> None:
        raise NotAvailable("dj-wallet 0.1.0 has no bulk API")

    # Checking

    def balances(self, wallets: list[PeerWallet]) -> list[Decimal]:
        from dj_wallet.models import Wallet

        stored = dict(
            Wallet.objects.filter(pk__in=[w.wallet.pk for w in wallets]).values_list(
                "pk", "balance"
            )
        )
        return [stored[w.wallet.pk] for w in wallets]

    def ledger_mismatches(self) -> list[str]:
        """Stored balance against its completed transactions (deposits minus withdrawals),
        summed in Python so that SQLite's float aggregates play no part."""
        from dj_wallet.models import Transaction, Wallet

        totals: dict[int, Decimal] = defaultdict(Decimal)
        rows = Transaction.objects.filter(
            confirmed=True, status=Transaction.STATUS_COMPLETED
        ).values_list("wallet_id", "type", "amount")
        for wallet_id, kind, amount in rows.iterator():
            totals[wallet_id] += amount if kind == Transaction.TYPE_DEPOSIT else -amount
        return [
            f"dj-wallet wallet {pk}: balance {balance}, transactions say {totals[pk]}"
            for pk, balance in Wallet.objects.values_list("pk", "balance").iterator()
            if balance != totals[pk]
        ]

    # Threads and counting

    def refresh_statistics(self) -> None:
        analyze_apps("dj_wallet", "bench_peer")

    def thread_started(self) -> None:
        connection.ensure_connection()

    def thread_finished(self) -> None:
        connection.close()

    def counting(self) -> StatementCounter:
        return StatementCounter(connection)

    def activity_conninfo(self) -> str | None:
        return django_conninfo()
