"""New ledger rows built and inserted off the ORM's slow path, yet as the ORM would."""

from decimal import Decimal

import pytest
from django.db.models.signals import post_init

from wallets.rows import build, insert_rows, loaded, relate
from wallets.swappable import get_transaction_model, get_transfer_model

Transaction = get_transaction_model()
Transfer = get_transfer_model()

pytestmark = pytest.mark.django_db


def field_values(row):
    return {f.attname: getattr(row, f.attname) for f in row._meta.concrete_fields}


def test_a_built_row_is_the_row_the_model_makes(alice):
    wallet = alice.wallet
    values = {"wallet": wallet, "type": "deposit", "amount": Decimal("2.5"), "state": "confirmed"}
    built, made = build(Transaction, **values), Transaction(**values)
    ours, theirs = field_values(built), field_values(made)
    # Each row draws its own uuid; everything else matches, defaults included.
    assert ours.pop("uuid") != theirs.pop("uuid")
    assert ours == theirs
    assert built.meta == {} and built.meta is not build(Transaction, **values).meta
    assert built.wallet is wallet
    assert built._state.adding and built._state.db is None


def test_relating_a_row_is_what_assigning_the_relation_does(alice, bob):
    ours, theirs = build(Transaction, amount=Decimal(1)), build(Transaction, amount=Decimal(1))
    relate(ours, "wallet", alice.wallet)
    theirs.wallet = alice.wallet
    assert ours.wallet_id == theirs.wallet_id == alice.wallet.pk
    assert ours.wallet is alice.wallet
    # A one-to-one also caches the reverse side: relate leaves it to Django.
    withdraw = build(Transaction, wallet=alice.wallet, amount=Decimal(-1))
    transfer = build(Transfer, from_wallet=alice.wallet, to_wallet=bob.wallet)
    relate(transfer, "withdraw", withdraw)
    assert transfer.withdraw is withdraw
    assert Transfer._meta.get_field("withdraw").remote_field.is_cached(withdraw)


def test_a_loaded_row_is_the_row_from_db_makes(alice):
    alice.deposit(5)
    stored = Transaction.objects.get(wallet=alice.wallet)
    names = tuple(f.attname for f in Transaction._meta.concrete_fields)
    values = [getattr(stored, name) for name in names]
    ours, theirs = (
        loaded(Transaction, "default", names, values),
        Transaction.from_db("default", list(names), values),
    )
    assert field_values(ours) == field_values(theirs)
    assert not ours._state.adding and ours._state.db == "default"


def test_a_field_the_model_lacks_is_refused(alice):
    with pytest.raises(TypeError, match="no fields"):
        build(Transaction, wallet=alice.wallet, amont=Decimal(1))


def test_inserted_rows_read_back_as_written(alice, bob):
    def confirmed(wallet, amount, **extra):
        amount = Decimal(amount)
        return build(
            Transaction, wallet=wallet, type="deposit" if amount > 0 else "withdraw",
            amount=amount, state="confirmed", balance_after=amount.max(0), **extra,
        )  # fmt: skip

    legs = [
        confirmed(alice.wallet, "-1.5", meta={"note": "tab\there"}),
        confirmed(bob.wallet, "1.5"),
    ]
    rows = legs + [
        build(Transaction, wallet=bob.wallet, type="deposit", amount=Decimal(n), state="pending")
        for n in range(1, 30)
    ]  # past the size where PostgreSQL switches to COPY
    insert_rows(rows)
    assert all(row.pk and not row._state.adding for row in rows)
    stored = {tx.pk: tx for tx in Transaction.objects.filter(pk__in=[r.pk for r in rows])}
    for row in rows:
        again = stored[row.pk]
        assert (again.uuid, again.amount, again.state, again.meta) == (
            row.uuid,
            row.amount,
            row.state,
            row.meta,
        )
        assert again.created_at == row.created_at
    # One statement's rows share the moment they were written, as one save() would.
    assert len({row.created_at for row in rows}) == 1


def test_json_values_of_a_large_batch_read_back_exactly(alice):
    shared = {"order": "A-1", "lines": [1, 2.5, None, True], "nested": {"k": "v"}}
    metas = [
        {},
        shared,
        shared,
        {"text": 'back\\slash, new\nline, tab\t, quote " and é ✓'},
        {"empty": {}, "list": []},
        {"big": 10**30, "small": -0.125},
    ]
    rows = [
        build(
            Transaction,
            wallet=alice.wallet,
            type="deposit",
            amount=Decimal(n + 1),
            state="pending",
            meta=metas[n % len(metas)],
        )
        for n in range(3 * len(metas) + 5)
    ]  # past the size where PostgreSQL switches to COPY
    insert_rows(rows)
    stored = dict(Transaction.objects.filter(pk__in=[r.pk for r in rows]).values_list("pk", "meta"))
    assert [stored[row.pk] for row in rows] == [row.meta for row in rows]


def test_a_model_with_init_receivers_is_built_the_ordinary_way(alice):
    seen = []

    def receiver(sender, instance, **kwargs):
        seen.append(instance)

    post_init.connect(receiver, sender=Transaction)
    try:
        row = build(Transaction, wallet=alice.wallet, type="deposit", amount=1, state="pending")
    finally:
        post_init.disconnect(receiver, sender=Transaction)
    assert seen == [row]


def test_a_model_that_overrides_init_is_built_by_it(alice, monkeypatch):
    made = []
    original = Transaction.__init__

    def counting_init(self, *args, **kwargs):
        made.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Transaction, "__init__", counting_init)
    row = build(Transaction, wallet=alice.wallet, type="deposit", amount=1, state="pending")
    assert len(made) == 1 and made[0]["type"] == "deposit"
    assert row.wallet is alice.wallet and row._state.adding
