"""Idempotency keys: a retried call returns its first result and moves no money.

The operation door (:mod:`wallets.operations`) is the only caller: it looks a
key up after taking the operation's locks, so two concurrent calls with one
key queue and the second sees the first one's record.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.apps import apps
from django.db import IntegrityError, connections, models

from wallets.exceptions import IdempotencyConflict
from wallets.models import IdempotencyRecord
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

MAX_KEY_LENGTH = 200


def holder_scope(wallet: Wallet) -> str:
    """Keys belong to the holder making the call, so holders never collide."""
    return f"{wallet.holder_type_id}:{wallet.holder_id}"


def fingerprint(operation: str, parts: Any) -> str:
    payload = json.dumps([operation, parts], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def _ref(instance: models.Model) -> list[Any]:
    return [instance._meta.label_lower, instance.pk]


def dump(result: Any) -> dict:
    """A stored reference to an operation's result: a model row, a list of them, or None."""
    if result is None:
        return {"none": True}
    if isinstance(result, models.Model):
        return {"ref": _ref(result)}
    if isinstance(result, list | tuple) and all(isinstance(r, models.Model) for r in result):
        return {"refs": [_ref(r) for r in result]}
    raise TypeError(f"Cannot record {result!r} as an idempotent result")


def _load_ref(ref: list[Any]) -> models.Model:
    label, pk = ref
    return apps.get_model(label)._default_manager.get(pk=pk)


def load(stored: dict) -> Any:
    if "none" in stored:
        return None
    if "ref" in stored:
        return _load_ref(stored["ref"])
    if "refs" in stored:
        return [_load_ref(ref) for ref in stored["refs"]]
    # Records written before results were stored as generic references.
    if "transaction" in stored:
        return Transaction.objects.select_related("wallet").get(uuid=stored["transaction"])
    if "transfer" in stored:
        return Transfer.objects.get(uuid=stored["transfer"])
    by_uuid = {str(t.uuid): t for t in Transfer.objects.filter(uuid__in=stored["transfers"])}
    return [by_uuid[u] for u in stored["transfers"]]


def clean_key(key: Any) -> str | None:
    if key is None or key == "":
        return None
    key = str(key)
    if len(key) > MAX_KEY_LENGTH or "\x00" in key:
        raise IdempotencyConflict(
            f"An idempotency key is at most {MAX_KEY_LENGTH} characters, without NUL."
        )
    return key


def earlier_result(scope: str, key: str, operation: str, print_: str) -> tuple[bool, Any]:
    """``(True, result)`` when this scope already ran the same call with ``key``."""
    record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if record is None:
        return False, None
    if record.fingerprint != print_:
        raise IdempotencyConflict(
            f"The idempotency key '{key}' was already used for a different request."
        )
    return True, load(record.result)


def claim(scope: str, key: str, operation: str, print_: str, using: str) -> tuple[int | None, Any]:
    """Claim the key before anything else is locked (PostgreSQL).

    Inserts the record with ``ON CONFLICT DO NOTHING``: a concurrent call with
    the same key waits on the key's index entry until this transaction ends,
    then finds the record and replays it. Returns ``(record id, None)`` for the
    caller to fill in with :func:`settle`, or ``(None, earlier result)``.
    """
    table = IdempotencyRecord._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (scope, key, operation, fingerprint, result, created_at) "
            "VALUES (%s, %s, %s, %s, '{}', now()) ON CONFLICT (scope, key) DO NOTHING "
            "RETURNING id",
            [scope, key, operation[:32], print_],
        )
        row = cursor.fetchone()
    if row is not None:
        return row[0], None
    replayed, earlier = earlier_result(scope, key, operation, print_)
    if not replayed:
        raise IdempotencyConflict(
            f"The idempotency key '{key}' was used at the same time for another request."
        )
    return None, earlier


def settle(record_id: int, result: Any) -> None:
    """Store the result of a call whose key was claimed."""
    IdempotencyRecord.objects.filter(pk=record_id).update(result=dump(result))


def remember(scope: str, key: str, operation: str, print_: str, result: Any) -> None:
    # No savepoint of its own: a failure here undoes the whole operation anyway.
    try:
        IdempotencyRecord.objects.create(
            scope=scope,
            key=key,
            operation=operation[:32],
            fingerprint=print_,
            result=dump(result),
        )
    except IntegrityError:
        raise IdempotencyConflict(
            f"The idempotency key '{key}' was used at the same time for another request."
        ) from None
