"""Random sequences of operations keep the ledger's invariants:

- every wallet's stored balance equals the sum of its confirmed transactions,
  and its held amount the sum of its pending withdrawals;
- the total across wallets changes only by deposits and withdrawals (transfers,
  refunds and same-unit exchanges move value, never create or destroy it);
- no wallet's available funds go below zero (there is no force_withdraw here).
"""

import contextlib
import itertools
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from wallets.exceptions import WalletError
from wallets.models import Transaction, Transfer, Wallet
from wallets.selectors import ledger_totals, sum_amounts
from wallets.services import TransferService, WalletService

User = get_user_model()
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2)
counter = itertools.count()


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def open_wallets(self):
        run = next(counter)
        self.users = [
            User.objects.create_user(username=f"u{run}-{i}", email=f"u{run}-{i}@example.com")
            for i in range(3)
        ]
        self.wallets = [u.wallet for u in self.users] + [self.users[0].get_wallet("spare")]
        self.external = Decimal(0)  # deposits minus withdrawals, confirmed

    def pick(self, index):
        return self.wallets[index % len(self.wallets)]

    @rule(i=st.integers(0, 3), amount=amounts, confirmed=st.booleans())
    def deposit(self, i, amount, confirmed):
        try:
            self.pick(i).deposit(amount, confirmed=confirmed)
        except WalletError:
            return
        if confirmed:
            self.external += amount

    @rule(i=st.integers(0, 3), amount=amounts, confirmed=st.booleans())
    def withdraw(self, i, amount, confirmed):
        try:
            self.pick(i).withdraw(amount, confirmed=confirmed)
        except WalletError:
            return
        if confirmed:
            self.external -= amount

    @rule(i=st.integers(0, 3), j=st.integers(0, 3), amount=amounts)
    def transfer(self, i, j, amount):
        with contextlib.suppress(WalletError):
            TransferService.transfer(self.pick(i), self.pick(j), amount)

    @rule(data=st.data(), confirm=st.booleans())
    def resolve_pending(self, data, confirm):
        pending = list(Transaction.objects.filter(wallet__in=self.wallets, state="pending"))
        if not pending:
            return
        tx = data.draw(st.sampled_from(pending))
        try:
            if confirm:
                WalletService.confirm_transaction(tx)
                self.external += tx.amount
            else:
                WalletService.reject_transaction(tx)
        except WalletError:
            pass

    @rule(data=st.data(), amount=st.none() | amounts)
    def refund(self, data, amount):
        transfers = list(Transfer.objects.filter(from_wallet__in=self.wallets, kind="transfer"))
        if not transfers:
            return
        with contextlib.suppress(WalletError):
            TransferService.refund(data.draw(st.sampled_from(transfers)), amount)

    @rule(data=st.data())
    def reverse(self, data):
        candidates = list(
            Transaction.objects.filter(
                wallet__in=self.wallets,
                state="confirmed",
                reversal_of__isnull=True,
                transfer_as_withdraw__isnull=True,
                transfer_as_deposit__isnull=True,
            )
        )
        if not candidates:
            return
        tx = data.draw(st.sampled_from(candidates))
        try:
            reversal = WalletService.reverse_transaction(tx)
        except WalletError:
            return
        self.external += reversal.amount

    @rule(i=st.integers(0, 3), reason=st.text(max_size=10))
    def freeze_and_unfreeze(self, i, reason):
        wallet = self.pick(i)
        if wallet.is_frozen:
            WalletService.unfreeze(wallet)
        elif "\x00" in reason:  # refused with a clear error, nothing changes
            with pytest.raises(WalletError):
                WalletService.freeze(wallet, reason=reason)
        else:
            WalletService.freeze(wallet, reason=reason)

    @invariant()
    def stored_balances_match_transactions(self):
        totals = ledger_totals(w.pk for w in self.wallets)
        for wallet in Wallet.objects.filter(pk__in=[w.pk for w in self.wallets]):
            balance, held = totals.get(wallet.pk, (Decimal(0), Decimal(0)))
            assert wallet.balance == balance
            assert wallet.held == held
            assert wallet.available >= 0

    @invariant()
    def total_changes_only_by_deposits_and_withdrawals(self):
        stored = sum_amounts(Wallet.objects.filter(pk__in=[w.pk for w in self.wallets]), "balance")
        assert stored == self.external


@pytest.mark.django_db
def test_ledger_invariants_hold_for_random_operations():
    LedgerMachine.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=25,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    LedgerMachine.TestCase().runTest()
