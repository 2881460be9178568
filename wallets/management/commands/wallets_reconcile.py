from django.core.management.base import BaseCommand, CommandError

from wallets.reconciliation import reconcile_wallets
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()


class Command(BaseCommand):
    help = "Check every wallet's balance and held amount against its transactions."

    def handle(self, *args, **options) -> None:
        problems = reconcile_wallets()
        for problem in problems:
            self.stderr.write(f"MISMATCH {problem}")
        if problems:
            raise CommandError(f"{len(problems)} mismatch(es) found.")
        self.stdout.write(f"OK: {Wallet.objects.count()} wallets match their transactions.")
