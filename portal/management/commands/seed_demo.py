"""Demo data so a fresh portal looks lived-in: users, an organization, wallets, history."""

from django.core.management.base import BaseCommand
from django.db import transaction

from portal.models import User
from shop.models import Membership, Organization
from wallets.services import exchange_service, transfer_service, wallet_service

DEMO_PASSWORD = "demo-pass-1234"
DEMO_USERS = [
    ("alice", "alice@example.com", "Alice", "Archer"),
    ("bob", "bob@example.com", "Bob", "Baker"),
    ("staff", "staff@example.com", "Sam", "Staff"),
]


class Command(BaseCommand):
    help = "Create demo users (printed with their password), an organization and wallet history."

    def handle(self, *args, **options) -> None:
        if User.objects.filter(username="alice").exists():
            self.stdout.write("Demo data already present.")
            self._print_logins()
            return
        with transaction.atomic():
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
            alice, bob = users["alice"], users["bob"]
            org = Organization.objects.create(
                name="Acme Coffee", slug="acme-coffee", kind=Organization.Kind.MERCHANT
            )
            Membership.objects.create(organization=org, user=alice, role=Membership.Role.OWNER)
            Membership.objects.create(organization=org, user=bob, role=Membership.Role.MEMBER)

            wallets = wallet_service()
            alice.deposit("250.00", meta={"reference": "Welcome credit"})
            bob.deposit("80.00", meta={"reference": "Welcome credit"})
            org.deposit("1200.00", meta={"reference": "Opening float"})
            alice.get_wallet("eur", name="Euro savings", unit="EUR").deposit("40.00")
            points = alice.get_wallet("points", name="Reward points", unit="PTS", decimal_places=0)
            points.deposit(1500)
            transfer_service().transfer(alice, bob, "12.50", meta={"note": "Lunch"})
            transfer_service().transfer(bob, alice, "4.20", meta={"note": "Coffee"})
            transfer_service().transfer(org, alice, "30.00", meta={"note": "Expenses"})
            alice.withdraw("20.00", confirmed=False, meta={"reference": "Payout to bank"})
            bob.deposit("50.00", confirmed=False, meta={"reference": "Bank transfer #4411"})
            wallets.deposit(alice.wallet, "5.00", meta={"reference": "Cashback"})
            self._lived_in(alice, bob, org)
        self.stdout.write(self.style.SUCCESS("Demo data created."))
        self._print_logins()

    @staticmethod
    def _lived_in(alice: User, bob: User, org: Organization) -> None:
        """Enough history to page through, an exchange, a team and a frozen wallet."""
        for week, (amount, shop) in enumerate(
            [("3.80", "Bakery"), ("4.20", "Books"), ("2.50", "Bus"), ("1.99", "Music")] * 8
        ):
            alice.withdraw(amount, meta={"reference": f"{shop} · week {week + 1}"})
        exchange_service().exchange(alice, "default", "eur", "25.00")
        team = Organization.objects.create(
            name="Weekend Climbers", slug="weekend-climbers", kind=Organization.Kind.TEAM
        )
        Membership.objects.create(organization=team, user=bob, role=Membership.Role.MANAGER)
        Membership.objects.create(organization=team, user=alice, role=Membership.Role.MEMBER)
        team.deposit("320.00", meta={"reference": "Membership fees"})
        transfer_service().transfer(team, bob, "45.00", meta={"note": "Rope"})
        travel = alice.get_wallet("travel", name="Travel fund", unit="USD")
        travel.deposit("60.00", meta={"reference": "Birthday gift"})
        wallet_service().freeze(
            travel,
            note="Card reported lost by phone; reissue pending.",
            message="Frozen at your request while your card is replaced.",
        )
        org.withdraw("150.00", confirmed=False, meta={"reference": "Supplier payout"})

    @staticmethod
    def _verify_email(user: User) -> None:
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)

    def _print_logins(self) -> None:
        for username, email, *_ in DEMO_USERS:
            self.stdout.write(f"  log in as {email} / {DEMO_PASSWORD}  ({username})")
