"""Demo data so a fresh portal looks lived-in: people, two organizations, wallets and
ninety days of believable history (pay days, small spending, transfers between
friends, a team's kitty, a café's takings), so the charts have something to say.

Every balance change goes through the engine's services, in time order. The engine
stamps rows with the real time, though, so the whole history would sit in the same
minute; afterwards this command moves each row's timestamps to the day its event
belongs to, with plain SQL (see ``_backdate``). That is for demo data only: ledger
rows are never edited anywhere else, and nothing else in the portal may do it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from portal.models import User
from shop.models import Membership, Organization
from wallets import conf as wallets_conf
from wallets.exceptions import InsufficientFunds
from wallets.services import exchange_service, transfer_service, wallet_service
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

DEMO_PASSWORD = "demo-pass-1234"
DEMO_USERS = [
    ("alice", "alice@example.com", "Alice", "Archer"),
    ("bob", "bob@example.com", "Bob", "Baker"),
    ("staff", "staff@example.com", "Sam", "Staff"),
]
HISTORY_DAYS = 90
SPENDING = [
    ("Bakery", "3.20", "7.80"),
    ("Groceries", "18.00", "64.00"),
    ("Bus pass", "2.50", "2.50"),
    ("Books", "9.90", "32.00"),
    ("Music", "1.99", "1.99"),
    ("Cinema", "11.00", "24.00"),
    ("Pharmacy", "4.50", "19.00"),
]


@dataclass
class Clock:
    """When each demo event happened: rows written by an event get its time."""

    start: datetime
    # (moment, Transaction ids, Transfer ids) per event, in order.
    stamps: list[tuple[datetime, list[int], list[int]]] = field(default_factory=list)
    # Pending rows settled later: Transaction id -> moment.
    resolved: dict[int, datetime] = field(default_factory=dict)
    wallets_opened: dict[int, datetime] = field(default_factory=dict)
    frozen: dict[int, datetime] = field(default_factory=dict)

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        return self.start + timedelta(days=day, hours=hour, minutes=minute)

    def record(self, moment: datetime, action: Callable[[], Any]) -> Any:
        """Run ``action`` (engine calls) and remember that its rows happened at ``moment``."""
        last_tx = Transaction.objects.aggregate(last=Max("id"))["last"] or 0
        last_transfer = Transfer.objects.aggregate(last=Max("id"))["last"] or 0
        last_wallet = Wallet.objects.aggregate(last=Max("id"))["last"] or 0
        result = action()
        self.stamps.append(
            (
                moment,
                list(Transaction.objects.filter(id__gt=last_tx).values_list("id", flat=True)),
                list(Transfer.objects.filter(id__gt=last_transfer).values_list("id", flat=True)),
            )
        )
        for wallet_id in Wallet.objects.filter(id__gt=last_wallet).values_list("id", flat=True):
            self.wallets_opened.setdefault(wallet_id, moment)
        return result


class Command(BaseCommand):
    help = (
        "Create demo users (printed with their password), two organizations and ninety "
        "days of wallet history."
    )

    def handle(self, *args, **options) -> None:
        if User.objects.filter(username="alice").exists():
            self.stdout.write("Demo data already present.")
            self._print_logins()
            return
        today = timezone.localdate()
        start = timezone.make_aware(
            datetime.combine(today - timedelta(days=HISTORY_DAYS - 1), time.min)
        )
        clock = Clock(start=start)
        with transaction.atomic():
            users = self._people()
            alice, bob = users["alice"], users["bob"]
            acme, climbers = self._organizations(alice, bob)
            self._history(clock, alice, bob, acme, climbers, random.Random(13))
            self._backdate(clock)
        self.stdout.write(self.style.SUCCESS("Demo data created."))
        self._print_logins()

    def _people(self) -> dict[str, User]:
        users = {}
        for username, email, first, last in DEMO_USERS:
            user = User.objects.create_user(
                username=username,
                email=email,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
                is_staff=username == "staff",
                is_superuser=username == "staff",
            )
            self._verify_email(user)
            users[username] = user
        return users

    @staticmethod
    def _organizations(alice: User, bob: User) -> tuple[Organization, Organization]:
        acme = Organization.objects.create(
            name="Acme Coffee", slug="acme-coffee", kind=Organization.Kind.MERCHANT
        )
        Membership.objects.create(organization=acme, user=alice, role=Membership.Role.OWNER)
        Membership.objects.create(organization=acme, user=bob, role=Membership.Role.MEMBER)
        climbers = Organization.objects.create(
            name="Weekend Climbers", slug="weekend-climbers", kind=Organization.Kind.TEAM
        )
        Membership.objects.create(organization=climbers, user=bob, role=Membership.Role.MANAGER)
        Membership.objects.create(organization=climbers, user=alice, role=Membership.Role.MEMBER)
        return acme, climbers

    def _history(
        self,
        clock: Clock,
        alice: User,
        bob: User,
        acme: Organization,
        climbers: Organization,
        rng: random.Random,
    ) -> None:
        """Ninety days of events, each an engine call run at its turn, oldest first (the
        balances must change in the order their rows will be dated)."""
        transfers, wallets = transfer_service(), wallet_service()
        default = wallets_conf.get("DEFAULT_SLUG")
        events: list[tuple[datetime, int, Callable[[], Any]]] = []
        made: dict[str, Any] = {}

        def at(moment: datetime, action: Callable[[], Any]) -> None:
            events.append((moment, len(events), action))

        def money(low: str, high: str) -> str:
            cents = rng.randint(int(Decimal(low) * 100), int(Decimal(high) * 100))
            return f"{cents / 100:.2f}"

        def refused_if_short(action: Callable[[], Any]) -> Callable[[], Any]:
            def run() -> Any:
                try:
                    return action()
                except InsufficientFunds:
                    return None  # a demo account never goes overdrawn: it did not happen

            return run

        def spend(moment: datetime, holder: Any, amount: str, reference: str) -> None:
            at(
                moment,
                refused_if_short(lambda: holder.withdraw(amount, meta={"reference": reference})),
            )

        def send(moment: datetime, source: Any, target: Any, amount: str, note: str) -> None:
            at(
                moment,
                refused_if_short(
                    lambda: transfers.transfer(source, target, amount, meta={"note": note})
                ),
            )

        def deposit(moment: datetime, holder: Any, amount: Any, reference: str) -> None:
            at(moment, lambda: holder.deposit(amount, meta={"reference": reference}))

        def open_wallet(moment: datetime, key: str, slug: str, **fields: Any) -> None:
            at(moment, lambda: made.setdefault(key, alice.get_wallet(slug, **fields)))

        # Day 0: accounts opened and funded.
        deposit(clock.at(0, 9), alice, "250.00", "Welcome credit")
        deposit(clock.at(0, 9, 5), bob, "80.00", "Welcome credit")
        deposit(clock.at(0, 10), acme, "1200.00", "Opening float")
        deposit(clock.at(0, 11), climbers, "320.00", "Membership fees")
        open_wallet(clock.at(1, 8), "eur", "eur", name="Euro savings", unit="EUR")
        open_wallet(
            clock.at(1, 8, 1),
            "points",
            "points",
            name="Reward points",
            unit="PTS",
            decimal_places=0,
        )
        at(
            clock.at(1, 8, 2),
            lambda: made["eur"].deposit("40.00", meta={"reference": "Gift from Gran"}),
        )
        at(
            clock.at(1, 8, 3),
            lambda: made["points"].deposit(1500, meta={"reference": "Sign-up bonus"}),
        )

        # Up to yesterday: the rhythm of ordinary weeks.
        for day in range(1, HISTORY_DAYS - 1):
            weekday = (clock.start + timedelta(days=day)).weekday()
            # Pay days: Alice tops up from her bank every other Friday; Bob monthly.
            if weekday == 4 and (day // 7) % 2 == 0:
                deposit(clock.at(day, 8), alice, "420.00", f"Bank transfer #{4400 + day}")
            if day % 30 == 3:
                deposit(clock.at(day, 8, 30), bob, "260.00", f"Salary #{day}")
            # Everyday spending.
            for hour in (12, 18):
                if rng.random() < 0.45:
                    shop, low, high = rng.choice(SPENDING)
                    spend(clock.at(day, hour, rng.randint(0, 50)), alice, money(low, high), shop)
                if rng.random() < 0.3:
                    shop, low, high = rng.choice(SPENDING)
                    spend(clock.at(day, hour + 1, rng.randint(0, 50)), bob, money(low, high), shop)
            # Friends settle up.
            if day % 6 == 2:
                note = rng.choice(["Lunch", "Coffee", "Concert tickets", "Taxi", "Pizza night"])
                send(clock.at(day, 20), alice, bob, money("4.00", "35.00"), note)
            if day % 9 == 5:
                send(clock.at(day, 21), bob, alice, money("3.00", "20.00"), "Coffee")
            # The café: takings most days, the bean supplier weekly, expenses to its owner.
            if weekday < 6:
                takings = money("90.00", "340.00")
                deposit(clock.at(day, 17, 30), acme, takings, f"Card takings, day {day}")
            if weekday == 0:
                spend(clock.at(day, 10), acme, money("650.00", "1100.00"), "Bean supplier")
            if day % 30 == 27:
                spend(clock.at(day, 9), acme, "900.00", "Rent")
            if day % 21 == 10:
                send(clock.at(day, 16), acme, alice, money("25.00", "60.00"), "Expenses")
            # The climbing team: fees in, gear out.
            if day % 30 == 12:
                deposit(clock.at(day, 19), climbers, "150.00", "Monthly fees")
            if day % 25 == 14:
                note = rng.choice(["Rope", "Chalk", "Gym day pass"])
                send(clock.at(day, 19, 30), climbers, bob, money("20.00", "60.00"), note)
            # Points for shopping, every Sunday.
            if weekday == 6:
                points = rng.randint(40, 120)
                at(
                    clock.at(day, 9),
                    lambda points=points: made["points"].deposit(
                        points, meta={"reference": "Weekly points"}
                    ),
                )

        # Euros for a trip, and a travel fund that is frozen now.
        at(clock.at(40, 15), lambda: exchange_service().exchange(alice, default, "eur", "25.00"))
        open_wallet(clock.at(70, 12), "travel", "travel", name="Travel fund", unit="USD")
        at(
            clock.at(70, 12, 1),
            lambda: made["travel"].deposit("60.00", meta={"reference": "Birthday gift"}),
        )
        frozen_at = clock.at(85, 9)
        at(
            frozen_at,
            lambda: wallet_service().freeze(
                made["travel"],
                note="Card reported lost by phone; reissue pending.",
                message="Frozen at your request while your card is replaced.",
            ),
        )

        # A top-up request that staff confirmed two days after it was made.
        at(
            clock.at(50, 9),
            lambda: made.setdefault(
                "request",
                alice.deposit(
                    "100.00",
                    confirmed=False,
                    meta={"reference": "Bank transfer #5050", "request": "top-up"},
                ),
            ),
        )
        confirmed_at = clock.at(52, 11)
        at(confirmed_at, lambda: wallets.confirm_transaction(made["request"]))

        # Today, shortly before now: requests still waiting, and a cashback.
        now = timezone.now()
        waiting = [
            lambda: alice.withdraw(
                "20.00", confirmed=False, meta={"reference": "Payout to bank", "request": "payout"}
            ),
            lambda: bob.deposit(
                "50.00",
                confirmed=False,
                meta={"reference": "Bank transfer #4411", "request": "top-up"},
            ),
            lambda: acme.withdraw(
                "150.00",
                confirmed=False,
                meta={"reference": "Supplier payout", "request": "payout"},
            ),
            lambda: alice.deposit("5.00", meta={"reference": "Cashback"}),
        ]
        for minutes, action in zip((40, 30, 20, 10), waiting, strict=True):
            at(now - timedelta(minutes=minutes), action)

        for moment, _, action in sorted(events, key=lambda event: event[:2]):
            clock.record(moment, action)
        clock.resolved[made["request"].pk] = confirmed_at
        clock.frozen[made["travel"].pk] = frozen_at

    @staticmethod
    def _backdate(clock: Clock) -> None:
        """DEMO DATA ONLY: move the rows just written to the moments their events happened.

        The engine wrote them in time order with the real time; this sets ``created_at``
        (and ``resolved_at`` of rows settled later, the wallets' ``created_at`` and
        ``frozen_at``) with plain SQL UPDATEs. Ledger rows refuse edits through the ORM
        (``LedgerRow.save`` and ``LedgerQuerySet.update`` allow state fields only), as
        they must everywhere else: nothing but this demo command rewrites a timestamp.
        Rows of one event keep their order a second apart, so the history index and the
        balance series read them in the order the balances changed.
        """
        expiry = timedelta(seconds=int(wallets_conf.get("PENDING_EXPIRY_SECONDS") or 0))
        quote = connection.ops.quote_name

        def adapt(moment: datetime) -> Any:
            return connection.ops.adapt_datetimefield_value(moment)

        def table(model: type) -> str:
            return quote(model._meta.db_table)

        def column(model: type, name: str) -> str:
            return quote(model._meta.get_field(name).column)

        tx_rows, transfer_rows = [], []
        for moment, tx_ids, transfer_ids in clock.stamps:
            for offset, tx_id in enumerate(sorted(tx_ids)):
                tx_rows.append((moment + timedelta(seconds=offset), tx_id))
            for offset, transfer_id in enumerate(sorted(transfer_ids)):
                transfer_rows.append((moment + timedelta(seconds=offset), transfer_id))
        created = {tx_id: moment for moment, tx_id in tx_rows}
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {table(Transaction)} SET {column(Transaction, 'created_at')} = %s "
                f"WHERE {column(Transaction, 'id')} = %s",
                [(adapt(moment), tx_id) for moment, tx_id in tx_rows],
            )
            cursor.executemany(
                f"UPDATE {table(Transfer)} SET {column(Transfer, 'created_at')} = %s "
                f"WHERE {column(Transfer, 'id')} = %s",
                [(adapt(moment), transfer_id) for moment, transfer_id in transfer_rows],
            )
            # Rows confirmed later changed the balance when they were resolved.
            cursor.executemany(
                f"UPDATE {table(Transaction)} SET {column(Transaction, 'resolved_at')} = %s "
                f"WHERE {column(Transaction, 'id')} = %s",
                [(adapt(moment), tx_id) for tx_id, moment in clock.resolved.items()],
            )
            pending = Transaction.objects.filter(
                state=Transaction.State.PENDING, id__in=list(created)
            ).values_list("id", flat=True)
            cursor.executemany(
                f"UPDATE {table(Transaction)} SET {column(Transaction, 'expires_at')} = %s "
                f"WHERE {column(Transaction, 'id')} = %s",
                [(adapt(created[tx_id] + expiry), tx_id) for tx_id in pending],
            )
            cursor.executemany(
                f"UPDATE {table(Wallet)} SET {column(Wallet, 'created_at')} = %s "
                f"WHERE {column(Wallet, 'id')} = %s",
                [(adapt(moment), wallet_id) for wallet_id, moment in clock.wallets_opened.items()],
            )
            cursor.executemany(
                f"UPDATE {table(Wallet)} SET {column(Wallet, 'frozen_at')} = %s "
                f"WHERE {column(Wallet, 'id')} = %s",
                [(adapt(moment), wallet_id) for wallet_id, moment in clock.frozen.items()],
            )

    @staticmethod
    def _verify_email(user: User) -> None:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    def _print_logins(self) -> None:
        for username, email, *_ in DEMO_USERS:
            self.stdout.write(f"  log in as {email} / {DEMO_PASSWORD}  ({username})")
