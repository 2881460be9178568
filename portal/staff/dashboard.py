"""The shop's panel on the admin's staff dashboard (the engine cannot count webhooks)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from portal.staff.selectors import failed_webhook_deliveries
from wallets.admin import dashboard_panels


@receiver(dashboard_panels, dispatch_uid="portal.staff.webhook_panel")
def webhook_panel(sender: Any, **kwargs: Any) -> list[tuple[str, int]]:
    return [("Failed webhook deliveries", failed_webhook_deliveries())]
