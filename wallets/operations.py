"""The door for money: every change to money or wallet state runs through :func:`run`.

An operation owns five things, and nothing above the engine adds them again:

- the database transaction (an operation called inside another one joins it;
  on PostgreSQL an operation that is one statement is a transaction by itself);
- the locks: products first, then wallets by primary key (``wallets.locking``,
  which refuses any other order);
- the idempotency key, looked up once the locks are held, so a retry returns
  the first result and moves nothing;
- the audit entry, when a :class:`~wallets.staff.StaffActor` is given, after
  the actor's permission and reason are checked;
- the after-commit signals, which the ledger queues in the operation's outbox
  and the operation hands to ``on_commit`` in one hook (``wallets.outbox``).

Layers above the engine add policy through hooks that the operation calls
under its locks (``perform`` here, the risk policy, the product protocol).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db import connections, router
from django.db import transaction as db_transaction

from wallets import idempotency
from wallets.audit import AuditDraft, wallet_snapshot, write_entry
from wallets.locking import (
    forget_locks,
    lock_products,
    lock_wallets,
    product_key,
    product_row_locked,
    sync_instance,
)
from wallets.outbox import close_outbox, open_outbox
from wallets.staff import StaffActor
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

T = TypeVar("T")


@dataclass
class Operation:
    """What an operation touches and on whose behalf; ``run`` does the rest."""

    name: str
    wallets: Sequence[Wallet] = ()
    products: Iterable[Any] = ()
    idempotency_key: Any = None
    # Whose keys these are; by default the holder of the first wallet, or the staff actor.
    scope: str | None = None
    fingerprint: Any = ()
    actor: StaffActor | None = None
    # The audit action; required when an actor is given.
    action: str | None = None
    # True: on PostgreSQL ``perform`` locks, checks and writes with a single
    # statement of its own (``wallets.one_statement``) instead of the door
    # locking the wallets first; outside any transaction, with no key and no
    # actor, the door then opens none (one statement is atomic by itself).
    one_statement: bool = False


@dataclass
class Context:
    """What ``perform`` works with: fresh, locked copies of the rows."""

    locked: list[Wallet]
    products: dict[tuple[int, Any], Any]
    actor: StaffActor | None
    # Every wallet the outermost operation holds, by id: shared with the
    # operations nested in it (``_Running.locked``).
    held: dict[Any, Wallet]
    reason: str = ""
    audit: AuditDraft = field(default_factory=AuditDraft)

    def wallet(self, wallet: Wallet) -> Wallet:
        """The locked copy of ``wallet``."""
        locked = self.held.get(wallet.pk)
        if locked is None:
            raise LookupError(f"Wallet {wallet.pk} is not locked by this operation.")
        return locked

    def product(self, product: Any) -> Any:
        return self.products[product_key(product)]

    def adopt(self, wallet: Wallet) -> Wallet:
        """A wallet ``perform`` locked itself becomes one of this operation's rows."""
        self.held[wallet.pk] = wallet
        self.locked.append(wallet)
        return wallet

    @property
    def by(self) -> Any:
        """The staff user acting, if any."""
        return self.actor.user if self.actor else None

    def staff_meta(self, action: str) -> dict:
        """What a staff action's ledger row says about who posted it and why."""
        if self.actor is None:
            return {}
        return {"staff_action": action, "staff": self.actor.user.pk, "reason": self.reason[:200]}


@dataclass
class _Running:
    """The operations running on one connection: how deep, and what they locked."""

    depth: int = 0
    # One locked copy per wallet for the whole outermost operation, so a
    # nested operation works on (and updates) the same objects as its caller.
    locked: dict[Any, Wallet] = field(default_factory=dict)


def _running(using: str) -> _Running:
    connection = connections[using]
    running = getattr(connection, "_wallets_running", None)
    if running is None:
        running = connection._wallets_running = _Running()
    return running


def in_operation(using: str | None = None) -> bool:
    return _running(using or router.db_for_write(Wallet)).depth > 0


def _lock(running: _Running, wallets: Sequence[Wallet]) -> list[Wallet]:
    new = [w for w in wallets if w.pk not in running.locked]
    for fresh in lock_wallets(*new) if new else ():
        running.locked[fresh.pk] = fresh
    return [running.locked[w.pk] for w in wallets]


def run(op: Operation, perform: Callable[[Context], T]) -> T:
    """Run ``perform`` as one engine operation and return its result."""
    if op.actor is not None and op.action is None:
        raise ValueError(f"The '{op.name}' operation has an actor but no audit action.")
    reason = op.actor.authorize(op.action) if op.actor is not None else ""
    key = idempotency.clean_key(op.idempotency_key)
    using = router.db_for_write(Wallet)
    running = _running(using)
    if _alone(op, key, running, using):
        return _run_alone(op, perform, running, using)
    outermost = running.depth == 0
    # Nested operations join the outer one's transaction: no savepoint, since
    # a failure inside fails the whole operation.
    with (
        db_transaction.atomic(using=using, savepoint=outermost),
        _entered(running, using, op.name, outermost=outermost),
    ):
        once = _Once(op, key, using, claim_first=outermost)
        if once.replayed:
            return once.result
        products = lock_products(op.products)
        locked = _lock(running, op.wallets) if _locks_first(op, running, using) else []
        context = Context(
            locked=locked,
            products=products,
            actor=op.actor,
            held=running.locked,
            reason=reason,
        )
        if not once.claimed:
            once.check_after_locks()
            if once.replayed:
                return once.result
        result = _perform(op, key, context, perform)
        once.settle(result)
    _sync(op, context)
    return result


@contextmanager
def _entered(
    running: _Running, using: str, name: str, *, outermost: bool, alone: bool = False
) -> Iterator[None]:
    """An operation's bookkeeping on its connection: how deep it runs, what
    the outermost one locked, and its outbox, handed to ``on_commit`` when it
    ends without an error (dropped otherwise). ``alone``: no transaction
    holds its locks past its statement."""
    if outermost:
        running.locked = {}
        open_outbox(using, name)
    running.depth += 1
    committing = False
    try:
        yield
        committing = True
    finally:
        running.depth -= 1
        if outermost:
            running.locked = {}
            if alone:
                forget_locks(using)
            close_outbox(using, committing=committing)


def _sync(op: Operation, context: Context) -> None:
    """The caller's wallet objects take the values the operation left."""
    for original, fresh in zip(op.wallets, context.locked, strict=False):
        sync_instance(original, fresh)


def _locks_first(op: Operation, running: _Running, using: str) -> bool:
    """Whether the door locks the operation's wallets before ``perform`` runs.

    Only a one-statement operation, on PostgreSQL, on wallets no outer
    operation holds yet, lets ``perform`` lock them by its statement."""
    return (
        not op.one_statement
        or connections[using].vendor != "postgresql"
        or any(w.pk in running.locked for w in op.wallets)
    )


def _alone(op: Operation, key: str | None, running: _Running, using: str) -> bool:
    """Whether the operation is a single statement with nothing around it:
    no transaction open, no key to claim, no audit entry to write, no product
    row to lock."""
    connection = connections[using]
    return (
        op.one_statement
        and key is None
        and op.actor is None
        and not any(map(product_row_locked, op.products))
        and running.depth == 0
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.get_autocommit()
    )


def _run_alone(op: Operation, perform: Callable[[Context], T], running: _Running, using: str) -> T:
    """Run a one-statement operation without a transaction of its own.

    PostgreSQL applies a single statement atomically, so BEGIN and COMMIT
    would add two round trips and nothing else. Its locks end with the
    statement, and the outbox's signals go out as soon as it has run."""
    with _entered(running, using, op.name, outermost=True, alone=True):
        context = Context(locked=[], products={}, actor=None, held=running.locked)
        result = perform(context)
    _sync(op, context)
    return result


class _Once:
    """The operation's idempotency key: claimed first where the database allows it.

    On PostgreSQL an outermost operation claims its key before it locks
    anything, so a concurrent call with the same key waits on the key alone
    and then replays; elsewhere the key is checked once the locks are held.
    """

    def __init__(self, op: Operation, key: str | None, using: str, *, claim_first: bool) -> None:
        self.op, self.key = op, key
        self.replayed, self.result = False, None
        self.claimed: int | None = None
        if key is None:
            return
        self.scope = _scope(op)
        self.print = idempotency.fingerprint(op.name, op.fingerprint)
        if claim_first and connections[using].vendor == "postgresql":
            self.claimed, earlier = idempotency.claim(self.scope, key, op.name, self.print, using)
            if self.claimed is None:
                self.replayed, self.result = True, earlier

    def check_after_locks(self) -> None:
        if self.key is not None:
            self.replayed, self.result = idempotency.earlier_result(
                self.scope, self.key, self.op.name, self.print
            )

    def settle(self, result: Any) -> None:
        if self.claimed is not None:
            idempotency.settle(self.claimed, result)
        elif self.key is not None:
            idempotency.remember(self.scope, self.key, self.op.name, self.print, result)


def _scope(op: Operation) -> str:
    if op.scope:
        return op.scope
    if op.actor is not None:
        return op.actor.idempotency_scope
    if op.wallets:
        return idempotency.holder_scope(op.wallets[0])
    raise ValueError(f"The '{op.name}' operation needs a scope for its idempotency key.")


def _perform(
    op: Operation, key: str | None, context: Context, perform: Callable[[Context], T]
) -> T:
    before = {str(w.uuid): wallet_snapshot(w) for w in context.locked} if op.actor else {}
    result = perform(context)
    if op.actor is not None:
        write_entry(
            op.actor,
            op.action,
            context.reason,
            context.audit,
            wallets_before=before,
            wallets_after={str(w.uuid): wallet_snapshot(w) for w in context.locked},
            idempotency_key=key or "",
        )
    return result
