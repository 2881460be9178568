"""Random sequences of operations against a model of what each one must do.

Every rule predicts its outcome from the model first: either it must succeed
(and the model moves the same money), or it must raise one precise error and
change nothing. An engine that refused everything, or let through what it
should refuse, fails here. After every step:

- each wallet's stored balance and held amount equal the model's, and equal
  the sums of its confirmed transactions and pending withdrawals;
- open holds reserve exactly their amounts; the seller's stock matches.
"""

import itertools
from datetime import timedelta
from decimal import ROUND_DOWN, Decimal

import pytest
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from tests.testapp.models import Item, Org
from tests.wallets.conftest import STAFF_PERMISSIONS, make_staff
from wallets import exceptions as errors
from wallets.models import RiskRule, TransferHold
from wallets.selectors import ledger_totals
from wallets.services import ExchangeService, PurchaseService, TransferService, WalletService
from wallets.staff import StaffActor
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

amounts = st.one_of(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500"), places=2),
    # The edges of the rules below, and amounts too small to exchange.
    st.sampled_from([Decimal(v) for v in ("0.01", "250.01", "300", "300.01", "7.50")]),
)
counter = itertools.count()
USD, EUR = "USD", "EUR"
RATE = Decimal("0.92")
HOLD_ABOVE = Decimal("300")  # a rule holds USD transfers above this for review
REFUSE_ABOVE = Decimal("250")  # another refuses the third user's transfers above this
PRICE = Decimal("7.50")


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def open_wallets(self):
        run = next(counter)
        users = [make_staff(f"u{run}-{i}", is_staff=False) for i in range(3)]
        self.owner = users[0]
        seller = Org.objects.create(name=f"Shop {run}")
        self.item = Item.objects.create(name="Mug", price=PRICE, stock=5, seller=seller)
        self.stock = 5
        wallets = [u.wallet for u in users]
        wallets += [users[0].get_wallet("spare"), users[0].get_wallet("eur", unit=EUR)]
        wallets.append(seller.wallet)
        self.wallets = wallets
        self.seller_index = len(wallets) - 1
        self.balance = [Decimal(0)] * len(wallets)
        self.held = [Decimal(0)] * len(wallets)
        for i in (0, 1, 2):  # enough to reach the rules' limits from the start
            WalletService.deposit(wallets[i], "1000.00")
            self.balance[i] = Decimal("1000.00")
        self.frozen = [False] * len(wallets)
        self.pending: dict[int, tuple[int, Decimal]] = {}  # tx pk -> (wallet, signed amount)
        self.holds: dict[int, tuple[int, int, Decimal, int]] = {}  # pk -> (from, to, amt, tx)
        self.transfers: dict[int, list] = {}  # pk -> [from, to, amount, refunded]
        self.reversible: dict[int, tuple[int, Decimal]] = {}  # tx pk -> (wallet, signed)
        RiskRule.objects.all().delete()
        RiskRule.objects.create(
            name="review", unit=USD, max_single=HOLD_ABOVE, on_breach=RiskRule.OnBreach.HOLD
        )
        RiskRule.objects.create(
            name="cap",
            holder_type_id=self.wallets[2].holder_type_id,
            holder_id=self.wallets[2].holder_id,
            max_single=REFUSE_ABOVE,
        )
        staff = make_staff(f"staff{run}", *STAFF_PERMISSIONS)
        self.actor = StaffActor(staff, "reviewed")

    # Helpers

    def index(self, i):
        return i % len(self.wallets)

    def unit(self, i):
        return EUR if self.wallets[i].unit == EUR else USD

    def available(self, i):
        return self.balance[i] - self.held[i]

    def wallet(self, i):
        return Wallet.objects.get(pk=self.wallets[i].pk)

    def expect(self, error, call):
        """Run ``call``: it must raise exactly ``error``, or succeed when ``error`` is None."""
        if error is None:
            return call()
        with pytest.raises(error):
            call()
        return None

    # Deposits and withdrawals

    @rule(i=st.integers(0, 5), amount=amounts, confirmed=st.booleans(), staff=st.booleans())
    def deposit(self, i, amount, confirmed, staff):
        i = self.index(i)
        actor = self.actor if staff else None
        error = errors.WalletFrozen if self.frozen[i] else None
        tx = self.expect(
            error,
            lambda: WalletService.deposit(self.wallet(i), amount, confirmed=confirmed, actor=actor),
        )
        if tx is None:
            return
        if confirmed:
            self.balance[i] += amount
            self.reversible[tx.pk] = (i, amount)
        else:
            self.pending[tx.pk] = (i, amount)

    @rule(
        i=st.integers(0, 5),
        amount=amounts,
        confirmed=st.booleans(),
        staff=st.booleans(),
        force=st.booleans(),
    )
    def withdraw(self, i, amount, confirmed, staff, force):
        i = self.index(i)
        actor = self.actor if staff else None
        service = WalletService.force_withdraw if force else WalletService.withdraw
        if self.frozen[i]:
            error = errors.WalletFrozen
        elif not force and self.available(i) < amount:
            error = errors.InsufficientFunds
        else:
            error = None
        tx = self.expect(
            error, lambda: service(self.wallet(i), amount, confirmed=confirmed, actor=actor)
        )
        if tx is None:
            return
        if confirmed:
            self.balance[i] -= amount
            self.reversible[tx.pk] = (i, -amount)
        else:
            self.held[i] += amount
            self.pending[tx.pk] = (i, -amount)

    # Transfers, holds and refunds

    @rule(i=st.integers(0, 5), j=st.integers(0, 5), amount=amounts)
    def transfer(self, i, j, amount):
        i, j = self.index(i), self.index(j)
        if i == j:
            error = errors.SameWallet
        elif self.unit(i) != self.unit(j):
            error = errors.UnitMismatch
        elif self.frozen[i] or self.frozen[j]:
            error = errors.WalletFrozen
        elif self.available(i) < amount:
            error = errors.InsufficientFunds
        elif i == 2 and amount > REFUSE_ABOVE:
            error = errors.RiskLimitExceeded
        else:
            error = None
        result = self.expect(
            error, lambda: TransferService.transfer(self.wallet(i), self.wallets[j], amount)
        )
        if result is None:
            return
        if self.unit(i) == USD and amount > HOLD_ABOVE:
            assert isinstance(result, TransferHold)
            self.held[i] += amount
            self.holds[result.pk] = (i, j, amount, result.reservation_id)
            self.pending[result.reservation_id] = (i, -amount)
        else:
            assert isinstance(result, Transfer)
            self.balance[i] -= amount
            self.balance[j] += amount
            self.transfers[result.pk] = [i, j, amount, Decimal(0)]

    @rule(data=st.data(), release=st.booleans())
    def decide_hold(self, data, release):
        if not self.holds:
            return
        pk = data.draw(st.sampled_from(sorted(self.holds)))
        i, j, amount, reservation = self.holds[pk]
        hold = TransferHold.objects.get(pk=pk)
        if release:
            error = errors.WalletFrozen if self.frozen[i] or self.frozen[j] else None
            transfer = self.expect(
                error, lambda: TransferService.release_hold(hold, actor=self.actor)
            )
            if transfer is None:
                return
            self.balance[i] -= amount
            self.balance[j] += amount
            self.transfers[transfer.pk] = [i, j, amount, Decimal(0)]
        else:
            TransferService.reject_hold(hold, actor=self.actor)
        self.held[i] -= amount
        del self.holds[pk], self.pending[reservation]

    @rule(data=st.data(), amount=st.none() | amounts)
    def refund(self, data, amount):
        if not self.transfers:
            return
        pk = data.draw(st.sampled_from(sorted(self.transfers)))
        i, j, paid, refunded = self.transfers[pk]
        left = paid - refunded
        value = left if amount is None else amount
        if left <= 0:
            error = errors.AlreadyRefunded
        elif value > left:
            error = errors.RefundExceedsTransfer
        elif self.frozen[i] or self.frozen[j]:
            error = errors.WalletFrozen
        elif self.available(j) < value:
            error = errors.InsufficientFunds
        else:
            error = None
        transfer = Transfer.objects.get(pk=pk)
        refund = self.expect(
            error, lambda: TransferService.refund(transfer, amount, actor=self.actor)
        )
        if refund is None:
            return
        assert refund.amount == refund.received == value
        self.balance[j] -= value
        self.balance[i] += value
        self.transfers[pk][3] += value

    # Exchange and payments

    @rule(amount=amounts)
    def exchange(self, amount):
        received = (amount * RATE).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
        if received <= 0:
            error = errors.AmountInvalid
        elif self.frozen[0] or self.frozen[4]:
            error = errors.WalletFrozen
        elif self.available(0) < amount:
            error = errors.InsufficientFunds
        else:
            error = None
        result = self.expect(
            error, lambda: ExchangeService.exchange(self.owner, "default", "eur", amount)
        )
        if result is None:
            return
        assert result.received == received
        self.balance[0] -= amount
        self.balance[4] += received

    @rule(i=st.integers(0, 4), quantity=st.integers(1, 2))
    def pay(self, i, quantity):
        i = self.index(i)
        total = PRICE * quantity
        seller = self.seller_index
        if self.unit(i) != USD:
            error = errors.UnitMismatch
        elif self.stock < quantity:
            error = errors.ProductNotAvailable
        elif self.frozen[i] or self.frozen[seller]:
            error = errors.WalletFrozen
        elif self.available(i) < total:
            error = errors.InsufficientFunds
        else:
            error = None
        item = Item.objects.get(pk=self.item.pk)
        transfer = self.expect(
            error, lambda: PurchaseService.pay(self.wallet(i), item, quantity=quantity)
        )
        if transfer is None:
            return
        self.stock -= quantity
        self.balance[i] -= total
        self.balance[seller] += total
        self.transfers[transfer.pk] = [i, seller, total, Decimal(0)]

    # Pending, reversal, expiry

    @rule(data=st.data(), confirm=st.booleans())
    def resolve_pending(self, data, confirm):
        if not self.pending:
            return
        pk = data.draw(st.sampled_from(sorted(self.pending)))
        i, signed = self.pending[pk]
        tx = Transaction.objects.get(pk=pk)
        reserves_hold = any(h[3] == pk for h in self.holds.values())
        if confirm:
            if reserves_hold:
                error = errors.TransactionHeld
            elif self.frozen[i]:
                error = errors.WalletFrozen
            else:
                error = None
            if self.expect(error, lambda: WalletService.confirm_transaction(tx, actor=self.actor)):
                self.balance[i] += signed
                self.held[i] += min(signed, Decimal(0))
                self.reversible[pk] = (i, signed)
                del self.pending[pk]
            return
        WalletService.reject_transaction(tx, actor=self.actor)
        self.held[i] += min(signed, Decimal(0))
        del self.pending[pk]
        self.holds = {k: h for k, h in self.holds.items() if h[3] != pk}

    @rule(data=st.data())
    def reverse(self, data):
        if not self.reversible:
            return
        pk = data.draw(st.sampled_from(sorted(self.reversible)))
        i, signed = self.reversible[pk]
        if self.frozen[i]:
            error = errors.WalletFrozen
        elif signed > 0 and self.available(i) < signed:
            error = errors.InsufficientFunds
        else:
            error = None
        tx = Transaction.objects.get(pk=pk)
        if self.expect(error, lambda: WalletService.reverse_transaction(tx, actor=self.actor)):
            self.balance[i] -= signed
            del self.reversible[pk]
            with pytest.raises(errors.AlreadyReversed):
                WalletService.reverse_transaction(tx, actor=self.actor)

    @rule()
    def expire_everything_pending(self):
        later = timezone.now() + timedelta(hours=2)
        # Earlier examples' rows share the database: count every pending row.
        due = Transaction.objects.filter(state=Transaction.State.PENDING).count()
        assert WalletService.expire_pending(now=later) == due
        for i, signed in self.pending.values():
            self.held[i] += min(signed, Decimal(0))
        self.pending.clear()
        self.holds.clear()

    # Freezing

    @rule(i=st.integers(0, 5))
    def freeze_or_unfreeze(self, i):
        i = self.index(i)
        if self.frozen[i]:
            with pytest.raises(errors.WalletAlreadyFrozen):
                WalletService.freeze(self.wallet(i), actor=self.actor)
            WalletService.unfreeze(self.wallet(i), actor=self.actor)
        else:
            with pytest.raises(errors.WalletNotFrozen):
                WalletService.unfreeze(self.wallet(i), actor=self.actor)
            WalletService.freeze(self.wallet(i), message="Call us.", actor=self.actor)
        self.frozen[i] = not self.frozen[i]

    # Invariants

    @invariant()
    def stored_state_matches_the_model_and_the_ledger(self):
        totals = ledger_totals(w.pk for w in self.wallets)
        for i, stored in enumerate(self.wallet(i) for i in range(len(self.wallets))):
            balance, held = totals.get(stored.pk, (Decimal(0), Decimal(0)))
            assert (stored.balance, stored.held) == (balance, held)
            assert (stored.balance, stored.held) == (self.balance[i], self.held[i])
            assert stored.is_frozen == self.frozen[i]

    @invariant()
    def holds_reserve_their_amounts_and_stock_matches(self):
        open_holds = TransferHold.objects.filter(
            from_wallet__in=[w.pk for w in self.wallets], state=TransferHold.State.HELD
        )
        assert sorted(open_holds.values_list("pk", flat=True)) == sorted(self.holds)
        assert Item.objects.get(pk=self.item.pk).stock == self.stock


@pytest.mark.django_db
def test_ledger_operations_do_exactly_what_the_model_predicts():
    LedgerMachine.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    with override_settings(
        WALLETS={
            "EXCHANGE_RATES": {(USD, EUR): str(RATE)},
            "PENDING_EXPIRY_SECONDS": 3600,
        }
    ):
        LedgerMachine.TestCase().runTest()
