"""What must hold after the run, whatever was killed: each check is PASS or FAIL."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

import psycopg
from browser import Outcome
from stack import START_BALANCE, Stack, manage


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


def reconciliation(stack: Stack) -> Check:
    """The engine's own proof: every balance equals the sum of its ledger."""
    result = manage(stack, "wallets_reconcile")
    text = (result.stdout + result.stderr).strip().splitlines()
    last = text[-1] if text else ""
    return Check("reconciliation (wallets_reconcile)", result.returncode == 0, last)


def conservation(stack: Stack, users: int) -> Check:
    """Transfers move money between the seeded wallets; the total never changes."""
    expected = Decimal(START_BALANCE) * users
    with psycopg.connect(stack.database_url, connect_timeout=10) as conn:
        total, held = conn.execute("SELECT SUM(balance), SUM(held) FROM wallets_wallet").fetchone()
    return Check(
        "conservation",
        Decimal(total) == expected and Decimal(held) == 0,
        f"total {Decimal(total):.2f} (expected {expected:.2f}), held {Decimal(held):.2f}",
    )


def legs(stack: Stack) -> Check:
    """No one-legged transfer: both of its ledger rows exist, confirmed, for its amount."""
    with psycopg.connect(stack.database_url, connect_timeout=10) as conn:
        (broken,) = conn.execute(
            """
            SELECT COUNT(*) FROM wallets_transfer t
            LEFT JOIN wallets_transaction w ON w.id = t.withdraw_id
            LEFT JOIN wallets_transaction d ON d.id = t.deposit_id
            WHERE w.id IS NULL OR d.id IS NULL OR w.state <> 'confirmed'
               OR d.state <> 'confirmed' OR w.amount <> -t.amount OR d.amount <> t.received
            """
        ).fetchone()
    return Check("no one-legged transfers", broken == 0, f"{broken} broken transfers")


def duplicates(stack: Stack, outcomes: list[Outcome]) -> Check:
    """Each form (idempotency key) moved money at most once, and as its user was told."""
    with psycopg.connect(stack.database_url, connect_timeout=10) as conn:
        rows = conn.execute(
            "SELECT meta->>'note', uuid::text FROM wallets_transfer WHERE meta ? 'note'"
        ).fetchall()
    per_note = Counter(note for note, _ in rows)
    transfer_of = {note: uuid for note, uuid in rows}
    repeated = [note for note, count in per_note.items() if count > 1]
    wrong = [
        o.key
        for o in outcomes
        if (o.result == "ok" and transfer_of.get(o.note) != o.transfer)
        or (o.result == "refused" and o.note in transfer_of)
    ]
    unknown = [o for o in outcomes if o.result == "unknown"]
    committed_unknown = sum(1 for o in unknown if o.note in transfer_of)
    return Check(
        "no duplicates (one transfer per form)",
        not repeated and not wrong,
        f"{len(rows)} transfers for {len(outcomes)} forms; {len(repeated)} repeated, "
        f"{len(wrong)} not as reported; {len(unknown)} left unknown "
        f"({committed_unknown} of them committed)",
    )
