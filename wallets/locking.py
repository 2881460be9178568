"""The one place that locks wallets and products.

Every money path locks everything it touches in a single fixed order:
products first (by content type, then primary key), then wallets by primary
key. Two operations that touch the same rows therefore always queue in the
same order and can never deadlock.

The order is also enforced: within one database transaction, locking a
wallet whose primary key is lower than one already locked (and not itself
held yet), or a product after any wallet, raises :class:`LockOrderViolation`.
Such code would deadlock against a concurrent operation in production; here
it fails at once, in every test that runs it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connections, models, router

from wallets.exceptions import WalletNotFound
from wallets.mixins import product_needs_lock
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()


class LockOrderViolation(RuntimeError):
    """A programming error: locks taken out of the engine's fixed order."""


@dataclass
class _HeldLocks:
    """What the current transaction of one connection has locked."""

    # Django replaces this list when a transaction (or savepoint) ends, so
    # holding it tells whether the transaction that took the locks is the
    # current one.
    hooks: list
    # The outermost atomic block that is not a test case's wrapper: a test's
    # operations each run in a transaction of their own in production.
    block: Any
    wallet_ids: set[Any] = field(default_factory=set)
    highest_wallet_id: Any = None
    product_keys: set[tuple[int, Any]] = field(default_factory=set)


def _outermost_block(connection: Any) -> Any:
    for block in connection.atomic_blocks:
        if not getattr(block, "_from_testcase", False):
            return block
    return None


def _held_locks(using: str) -> _HeldLocks:
    connection = connections[using]
    held = getattr(connection, "_wallets_held_locks", None)
    block = _outermost_block(connection)
    if held is None or held.hooks is not connection.run_on_commit or held.block is not block:
        held = _HeldLocks(hooks=connection.run_on_commit, block=block)
        connection._wallets_held_locks = held
    return held


def forget_locks(using: str) -> None:
    """Locks taken by a statement outside any transaction ended with it."""
    connections[using]._wallets_held_locks = None


def held_wallet_ids(using: str = "default") -> frozenset[Any]:
    """Primary keys of the wallets locked in the current transaction."""
    return frozenset(_held_locks(using).wallet_ids)


def _check_wallet_order(held: _HeldLocks, ids: list[Any]) -> None:
    new = [pk for pk in ids if pk not in held.wallet_ids]
    if new and held.highest_wallet_id is not None and new[0] < held.highest_wallet_id:
        raise LockOrderViolation(
            f"Wallet {new[0]} is locked after wallet {held.highest_wallet_id} in one "
            "transaction: wallets must be locked in primary-key order. Lock every wallet "
            "the operation touches at its start."
        )


def _note_locked(held: _HeldLocks, ids: list[Any]) -> None:
    held.wallet_ids.update(ids)
    if ids:
        held.highest_wallet_id = max(ids[-1], held.highest_wallet_id or ids[-1])


def lock_wallets(*wallets: Wallet) -> list[Wallet]:
    """Lock the given wallets and return fresh copies in the order given."""
    ids = sorted({w.pk for w in wallets})
    using = router.db_for_write(Wallet)
    held = _held_locks(using)
    _check_wallet_order(held, ids)
    connection = connections[using]
    # Plain SQL: the ORM would rebuild this statement on every money path.
    for_update = " FOR UPDATE" if connection.features.has_select_for_update else ""
    placeholders = ", ".join(["%s"] * len(ids))
    locked = {
        w.pk: w
        for w in Wallet.objects.raw(
            f"SELECT * FROM {Wallet._meta.db_table} WHERE id IN ({placeholders}) "
            f"ORDER BY id{for_update}",
            ids,
        ).using(using)
    }
    missing = set(ids) - locked.keys()
    if missing:
        raise WalletNotFound(f"Wallet {sorted(missing)[0]} does not exist.")
    _note_locked(held, ids)
    return [locked[w.pk] for w in wallets]


@contextmanager
def locking_by_update(*wallet_ids: Any) -> Iterator[None]:
    """Around a statement that locks wallet rows itself, in primary-key order
    (``wallets.one_statement``): the same order check, and the locks are recorded."""
    ids = sorted(set(wallet_ids))
    held = _held_locks(router.db_for_write(Wallet))
    _check_wallet_order(held, ids)
    yield
    _note_locked(held, ids)


def lock_products(products: Iterable[Any]) -> dict[tuple[int, Any], Any]:
    """Lock model-backed products that decide under their lock (``can_buy``,
    stock: see ``wallets.mixins.product_needs_lock``) and return fresh copies,
    keyed by product_key(); other products are returned as given."""
    keyed = {product_key(p): p for p in products}
    if not keyed:
        return {}
    held = _held_locks(router.db_for_write(Wallet))
    if held.wallet_ids and not keyed.keys() <= held.product_keys:
        raise LockOrderViolation(
            "A product is locked after a wallet in one transaction: products are locked first."
        )
    fresh: dict[tuple[int, Any], Any] = {}
    for key in sorted(keyed, key=lambda k: (k[0], str(k[1]))):
        product = keyed[key]
        if product_row_locked(product):
            manager = type(product)._default_manager
            fresh[key] = manager.select_for_update().get(pk=product.pk)
            held.product_keys.add(key)
        else:
            fresh[key] = product
    return fresh


def product_row_locked(product: Any) -> bool:
    """Whether paying for ``product`` locks its row: a saved model instance
    that decides under its lock (``wallets.mixins.product_needs_lock``)."""
    return (
        isinstance(product, models.Model) and product.pk is not None and product_needs_lock(product)
    )


def product_key(product: Any) -> tuple[int, Any]:
    if isinstance(product, models.Model):
        return (ContentType.objects.get_for_model(product).pk, product.pk)
    return (0, id(product))


STATE_FIELDS = (
    "name",
    "balance",
    "held",
    "credit_limit",
    "is_frozen",
    "frozen_message",
    "frozen_note",
    "frozen_at",
    "frozen_by_id",
    "updated_at",
)


def sync_instance(target: Any, source: Wallet) -> None:
    """Copy the state read under lock onto the caller's wallet object.

    Callers may have passed a holder instead of a wallet: nothing to copy then."""
    if target is source or not isinstance(target, Wallet) or target.pk != source.pk:
        return
    for name in STATE_FIELDS:
        setattr(target, name, getattr(source, name))
