"""Bulk deposits, withdrawals and transfers: many items, one operation.

Each item is validated exactly as the single call would validate it (amount
rules, frozen wallets, available funds counted in item order, its own
idempotency key), but the batch runs as one engine operation: one
transaction, every wallet locked once in primary-key order, the ledger rows
inserted a thousand to a statement (on PostgreSQL, streamed by COPY while the
items are checked: :func:`_new_rows`) and every balance written in one
UPDATE.
It is all or nothing: a refused item raises :class:`BulkItemFailed` naming
it, and nothing of the batch is kept. Signals go out after commit.

Fees are not charged in bulk: an item that a fee policy applies to (see
``wallets.fees``) is refused with :class:`~wallets.exceptions.FeeNotSupported`
before anything is locked; such payments are made one by one.

Transfers whose source the risk policy judges (``risk.judged``: a risk rule
or a ``risk_check`` receiver, for the default policy) are checked one by
one, as single transfers, so the limits count every earlier item; without
any, the batch is set-based.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

from wallets import fees, idempotency, risk, signals
from wallets.amounts import Amount, exact, parse_amount
from wallets.exceptions import BulkItemFailed, IdempotencyConflict, WalletError
from wallets.holders import resolve_wallet
from wallets.ledger import (
    announce_transactions,
    announce_transfers,
    ensure_active,
    ensure_available,
    entry,
    insert_rows,
    transfer_row,
    write_balances,
)
from wallets.models import IdempotencyRecord, TransferHold
from wallets.operations import Context, Operation, run
from wallets.rows import row_stream, streams
from wallets.services.moves import receivers_judge_moves
from wallets.swappable import get_transaction_model, get_transfer_model, get_wallet_model

Wallet = get_wallet_model()
Transaction = get_transaction_model()
Transfer = get_transfer_model()

Kind = Transfer.Kind
M = TypeVar("M")


@dataclass(frozen=True)
class Deposit:
    wallet: Any
    amount: Amount
    meta: dict | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Withdrawal:
    wallet: Any
    amount: Amount
    meta: dict | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class TransferItem:
    source: Any
    destination: Any
    amount: Amount
    meta: dict | None = None
    idempotency_key: str | None = None


@dataclass
class _Item:
    """An item once checked outside the lock: its wallets, exact amount and key."""

    index: int
    wallets: tuple[Wallet, ...]
    value: Decimal
    meta: dict
    key: str | None
    fingerprint: str = ""
    result: Any = None
    replayed: bool = False


def _failed(index: int, error: WalletError) -> BulkItemFailed:
    return BulkItemFailed(index, error)


def _checked(index: int, check: Callable[[], _Item]) -> _Item:
    try:
        return check()
    except BulkItemFailed:
        raise
    except WalletError as error:
        raise _failed(index, error) from error


def _single_items(items: Iterable[Any], kind: type, operation: str, sign: int) -> list[_Item]:
    checked = []
    for index, raw in enumerate(items):
        item = raw if isinstance(raw, kind) else kind(*raw)

        def check(item: Any = item, index: int = index) -> _Item:
            wallet = resolve_wallet(item.wallet)
            value = parse_amount(item.amount, wallet.decimal_places)
            meta = dict(item.meta or {})
            key = idempotency.clean_key(item.idempotency_key)
            # The same fingerprint as the single call, so keys are shared with it.
            print_ = ""
            if key:
                parts = [str(wallet.uuid), str(sign * value), meta, True]
                print_ = idempotency.fingerprint(operation, parts)
            return _Item(index, (wallet,), value, meta, key, print_)

        checked.append(_checked(index, check))
    return checked


def _transfer_items(items: Iterable[Any]) -> list[_Item]:
    from wallets.services.transfer import checked_pair

    checked = []
    for index, raw in enumerate(items):
        item = raw if isinstance(raw, TransferItem) else TransferItem(*raw)

        def check(item: TransferItem = item, index: int = index) -> _Item:
            source = resolve_wallet(item.source)
            destination = resolve_wallet(item.destination)
            value = parse_amount(item.amount, checked_pair(source, destination))
            meta = dict(item.meta or {})
            key = idempotency.clean_key(item.idempotency_key)
            print_ = ""
            if key:
                parts = [str(source.uuid), str(destination.uuid), str(value), meta, Kind.TRANSFER]
                print_ = idempotency.fingerprint("transfer", parts)
            return _Item(index, (source, destination), value, meta, key, print_)

        checked.append(_checked(index, check))
    return checked


def _replay_earlier(items: Sequence[_Item], operation: str) -> None:
    """Items whose key already ran (before, or earlier in this batch) replay it."""
    keyed = [item for item in items if item.key]
    if not keyed:
        return
    scopes = {idempotency.holder_scope(item.wallets[0]) for item in keyed}
    records = {
        (r.scope, r.key): r
        for r in IdempotencyRecord.objects.filter(
            scope__in=scopes, key__in={item.key for item in keyed}
        )
    }
    seen: dict[tuple[str, str], _Item] = {}
    for item in keyed:
        scope_key = (idempotency.holder_scope(item.wallets[0]), item.key)
        record, first = records.get(scope_key), seen.get(scope_key)
        fingerprint = record.fingerprint if record else first.fingerprint if first else None
        if fingerprint is not None and fingerprint != item.fingerprint:
            conflict = IdempotencyConflict(
                f"The idempotency key '{item.key}' was already used for a different request."
            )
            raise _failed(item.index, conflict)
        if record is not None:
            item.replayed, item.result = True, idempotency.load(record.result)
        elif first is not None:
            item.replayed = True  # filled in from the first one once it has run
        else:
            seen[scope_key] = item


def _remember(items: Sequence[_Item], operation: str) -> None:
    first: dict[tuple[str, str], _Item] = {}
    records = []
    for item in items:
        if not item.key:
            continue
        scope_key = (idempotency.holder_scope(item.wallets[0]), item.key)
        if item.replayed and item.result is None:
            item.result = first[scope_key].result
        elif not item.replayed:
            first[scope_key] = item
            records.append(
                IdempotencyRecord(
                    scope=scope_key[0],
                    key=item.key,
                    operation=operation,
                    fingerprint=item.fingerprint,
                    result=idempotency.dump(item.result),
                )
            )
    insert_rows(records)


def _refuse_fees(checked: Sequence[_Item], kind: str, what: str) -> None:
    """Bulk operations charge no fees: an item a fee policy applies to is refused."""
    for item in checked:
        try:
            fees.refuse_in_bulk(fees.plan_for(kind, *item.wallets), what)
        except WalletError as error:
            raise _failed(item.index, error) from error


def _unique(wallets: Iterable[Wallet]) -> list[Wallet]:
    return list({w.pk: w for w in wallets}.values())


@exact
def bulk_single(items: Iterable[Any], *, withdraw: bool) -> list[Transaction]:
    """Bulk deposits (``withdraw=False``) or withdrawals, confirmed."""
    operation, kind, sign = ("withdraw", Withdrawal, -1) if withdraw else ("deposit", Deposit, 1)
    checked = _single_items(items, kind, operation, sign)
    if withdraw:
        _refuse_fees(checked, fees.WITHDRAWAL, "withdrawal")
    pre_signal = signals.pre_withdraw if withdraw else signals.pre_deposit

    def perform(context: Context) -> list[Transaction]:
        _replay_earlier(checked, operation)
        todo = [item for item in checked if not item.replayed]
        heard = receivers_judge_moves()
        with _new_rows(Transaction, len(todo), streamed=not heard) as add:
            for item in todo:
                wallet = context.wallet(item.wallets[0])
                try:
                    ensure_active(wallet)
                    if withdraw:
                        ensure_available(wallet, item.value)
                    if heard:
                        pre_signal.send(
                            sender=Wallet, wallet=wallet, amount=item.value, meta=item.meta
                        )
                    item.result = add(entry(wallet, sign * item.value, meta=item.meta))
                except WalletError as error:
                    raise _failed(item.index, error) from error
        write_balances(*context.locked)
        _remember(checked, operation)
        announce_transactions([item.result for item in todo])
        return [item.result for item in checked]

    return run(
        Operation(f"bulk_{operation}", wallets=_unique(i.wallets[0] for i in checked)),
        perform,
    )


@exact
def bulk_transfer(items: Iterable[Any]) -> list[Transfer | TransferHold]:
    """Bulk transfers; see the module's docstring for risk rules."""
    from wallets.services.transfer import transfer_in_operation

    checked = _transfer_items(items)
    _refuse_fees(checked, fees.TRANSFER, "transfer")
    wallets = _unique(w for item in checked for w in item.wallets)
    judged = risk.judged(_unique(item.wallets[0] for item in checked), Kind.TRANSFER)

    def perform(context: Context) -> list[Transfer | TransferHold]:
        _replay_earlier(checked, "transfer")
        todo = [item for item in checked if not item.replayed]
        heard = receivers_judge_moves()
        pending = []
        with _new_rows(Transaction, 2 * len(todo), streamed=not (judged or heard)) as add:
            for item in todo:
                source, destination = map(context.wallet, item.wallets)
                try:
                    if judged:
                        item.result = transfer_in_operation(
                            source, destination, item.value, item.meta, Kind.TRANSFER
                        )
                        continue
                    ensure_active(source, destination)
                    ensure_available(source, item.value)
                    if heard:
                        signals.pre_withdraw.send(
                            sender=Wallet, wallet=source, amount=item.value, meta=item.meta
                        )
                        signals.pre_deposit.send(
                            sender=Wallet, wallet=destination, amount=item.value, meta=item.meta
                        )
                    legs = (
                        add(entry(source, -item.value, meta=item.meta)),
                        add(entry(destination, item.value, meta=item.meta)),
                    )
                except WalletError as error:
                    raise _failed(item.index, error) from error
                pending.append((item, legs))
        if pending:
            _post_transfers(pending)
            write_balances(*context.locked)
        _remember(checked, "transfer")
        return [item.result for item in checked]

    return run(Operation("bulk_transfer", wallets=wallets), perform)


@contextmanager
def _new_rows(model: type[M], count: int, *, streamed: bool) -> Iterator[Callable[[M], M]]:
    """Where a batch's new ledger rows or transfers go, one by one as they are made
    (``add(row)``). Where it can, the batch streams them into the table
    (``wallets.rows.row_stream``), and the database takes each in while the
    next is made. It does not for a small batch (``wallets.rows.streams``),
    nor with ``streamed`` off: for items that run statements of their own,
    or when ``pre_withdraw``/``pre_deposit`` has receivers (they may query,
    and no statement can run while the COPY is open). Then the rows are
    kept, and inserted once all are made."""
    if streamed and streams(model, count):
        with row_stream(model, count) as add:
            yield add
        return
    made: list[M] = []

    def keep(row: M) -> M:
        made.append(row)
        return row

    yield keep
    insert_rows(made)


def _post_transfers(pending: list[tuple[_Item, tuple[Transaction, Transaction]]]) -> None:
    """The transfers joining the legs already written."""
    with _new_rows(Transfer, len(pending), streamed=True) as add:
        for item, (withdraw, deposit) in pending:
            item.result = add(transfer_row(withdraw, deposit, kind=Kind.TRANSFER, meta=item.meta))
    transfers = [item.result for item, _ in pending]
    announce_transactions([leg for _, legs in pending for leg in legs])
    announce_transfers(transfers)
