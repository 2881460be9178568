"""Deliver the webhook outbox: one pass by default, or forever with --loop."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from shop.checkout.services import expire_due_sessions
from shop.webhooks import deliver_due


class Command(BaseCommand):
    help = "Send due webhook deliveries (signed), retrying failures with back-off."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep running.")
        parser.add_argument("--interval", type=float, default=5.0, help="Seconds between passes.")
        parser.add_argument("--limit", type=int, default=100, help="Deliveries per pass.")
        parser.add_argument("--timeout", type=float, default=10.0, help="HTTP timeout.")

    def handle(self, *args, loop: bool, interval: float, limit: int, timeout: float, **options):
        while True:
            # Sessions that ran out of time get their "expired" event here.
            expired = expire_due_sessions()
            report = deliver_due(limit=limit, timeout=timeout)
            self.stdout.write(
                f"expired {expired} sessions; delivered {report.delivered}, "
                f"retrying {report.retrying}, failed {report.failed}"
            )
            if not loop:
                return
            time.sleep(interval)
