"""Driving the engine's admin as staff do: open an action's confirmation page, then
confirm it; and what the tests check afterwards."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from wallets.models import AuditEntry, RiskRule, TransferHold
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

WALLETS_URL = f"/admin/{Wallet._meta.app_label}/{Wallet._meta.model_name}/"
TX_URL = f"/admin/{Transaction._meta.app_label}/{Transaction._meta.model_name}/"
TRANSFERS_URL = f"/admin/{Transfer._meta.app_label}/{Transfer._meta.model_name}/"
HOLDS_URL = "/admin/wallets/transferhold/"
AUDIT_URL = "/admin/wallets/auditentry/"
DASHBOARD_URL = f"{WALLETS_URL}dashboard/"
KEY_INPUT = re.compile(r'name="idempotency_key" value="([^"]+)"')


# Driving the admin as staff do: open the confirmation page, then confirm it.


def action_page(client: Client, url: str, action: str, objects, **data: Any):
    """The confirmation page of an action: nothing is done yet."""
    payload = {"action": action, ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **data}
    return client.post(url, payload)


def page_key(response) -> str:
    match = KEY_INPUT.search(response.content.decode())
    assert match, "the page carries no idempotency key"
    return match.group(1)


def confirm_action(client: Client, url: str, action: str, objects, *, key=None, **data: Any):
    """Confirm an action with the key its page was shown with (or the ``key`` given)."""
    if key is None:
        key = page_key(action_page(client, url, action, objects))
    payload = {
        "action": action,
        ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects],
        "confirm": "yes",
        "idempotency_key": key,
        **data,
    }
    return client.post(url, payload, follow=True)


def text(response) -> str:
    return response.content.decode()


def fresh(wallet: Wallet) -> Wallet:
    return Wallet.objects.get(pk=wallet.pk)


def the_entry(action: str, target, *, actor, reason: str, amount=None) -> AuditEntry:
    """The one audit entry there is, and what it says."""
    entry = AuditEntry.objects.get()
    assert entry.action == action
    assert entry.actor == actor and entry.actor_label == actor.email
    assert entry.target_type == ContentType.objects.get_for_model(target)
    assert entry.target_id == str(target.pk)
    assert entry.reason == reason
    assert entry.ip_address == "127.0.0.1"
    assert entry.amount == amount and entry.unit == "USD"
    assert entry.idempotency_key  # the page's key for this row
    return entry


def hold_rule() -> RiskRule:
    rule, _ = RiskRule.objects.get_or_create(
        name="Big", defaults={"max_single": Decimal("50"), "on_breach": RiskRule.OnBreach.HOLD}
    )
    return rule


def held_transfer(holder, other, amount: str = "60.00") -> TransferHold:
    hold_rule()
    hold = holder.transfer(other, amount)
    assert isinstance(hold, TransferHold)
    return hold


def rename(client: Client, wallet: Wallet, name: str, reason: str = "typo", key=None):
    """Rename on the wallet's admin page, with the key the page was shown with."""
    url = f"{WALLETS_URL}{wallet.pk}/change/"
    if key is None:
        key = page_key(client.get(url))
    data = {"name": name, "reason": reason, "idempotency_key": key, "_save": "Save"}
    return client.post(url, data, follow=True)
