"""Idempotency keys: a retried call returns its first result and moves no money."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError
from django.db import transaction as db_transaction

from wallets.exceptions import IdempotencyConflict
from wallets.models import IdempotencyRecord, Transaction, Transfer, Wallet


def scope_for(wallet: Wallet) -> str:
    """Keys belong to the holder making the call, so holders never collide."""
    return f"{wallet.holder_type_id}:{wallet.holder_id}"


def fingerprint(operation: str, *parts: Any) -> str:
    payload = json.dumps([operation, *parts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def dump(result: Any) -> dict:
    if isinstance(result, Transaction):
        return {"transaction": str(result.uuid)}
    if isinstance(result, Transfer):
        return {"transfer": str(result.uuid)}
    if isinstance(result, list):
        return {"transfers": [str(t.uuid) for t in result]}
    raise TypeError(f"Cannot record {result!r} as an idempotent result")


def load(stored: dict) -> Any:
    if "transaction" in stored:
        return Transaction.objects.select_related("wallet").get(uuid=stored["transaction"])
    if "transfer" in stored:
        return Transfer.objects.get(uuid=stored["transfer"])
    by_uuid = {str(t.uuid): t for t in Transfer.objects.filter(uuid__in=stored["transfers"])}
    return [by_uuid[u] for u in stored["transfers"]]


def run_once(
    key: str | None,
    wallet: Wallet,
    operation: str,
    parts: list[Any],
    perform: Callable[[], Any],
) -> Any:
    """Run ``perform`` unless this holder already ran the same call with ``key``.

    Called inside the operation's transaction, after the wallets are locked,
    so two concurrent calls with one key queue and the second sees the first.
    """
    if not key:
        return perform()
    key = str(key)
    scope = scope_for(wallet)
    print_ = fingerprint(operation, *parts)
    record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if record is not None:
        if record.fingerprint != print_:
            raise IdempotencyConflict(
                f"The idempotency key '{key}' was already used for a different request."
            )
        return load(record.result)
    result = perform()
    try:
        with db_transaction.atomic():
            IdempotencyRecord.objects.create(
                scope=scope, key=key, operation=operation, fingerprint=print_, result=dump(result)
            )
    except IntegrityError:
        raise IdempotencyConflict(
            f"The idempotency key '{key}' was used at the same time for another request."
        ) from None
    return result
