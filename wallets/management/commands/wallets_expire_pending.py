from django.core.management.base import BaseCommand

from wallets.services import wallet_service


class Command(BaseCommand):
    help = "Expire pending transactions past their expiry time and release their holds."

    def handle(self, *args, **options) -> None:
        count = wallet_service().expire_pending()
        self.stdout.write(f"Expired {count} pending transaction(s).")
