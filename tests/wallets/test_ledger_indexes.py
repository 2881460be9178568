"""Every index of the ledger's tables is written on each of its inserts, so none
is kept twice: no plain index is a leading part of another index of its table
(a foreign key's own index included, where a composite one starts with it)."""

import pytest
from django.db import connection

from wallets.models import Purchase
from wallets.swappable import get_transaction_model, get_transfer_model

pytestmark = pytest.mark.django_db

LEDGER_MODELS = (get_transaction_model(), get_transfer_model(), Purchase)


def indexes_of(table: str) -> dict[str, dict]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, table)
    return {name: spec for name, spec in found.items() if spec["index"] and spec["columns"]}


@pytest.mark.parametrize("model", LEDGER_MODELS, ids=lambda model: model.__name__)
def test_no_plain_index_is_the_start_of_another(model):
    indexes = indexes_of(model._meta.db_table)
    assert {index.name for index in model._meta.indexes} <= indexes.keys()  # all seen
    kept_twice = [
        (name, other)
        for name, spec in indexes.items()
        if not spec["unique"] and not spec["primary_key"]
        for other, wider in indexes.items()
        if other != name and wider["columns"][: len(spec["columns"])] == spec["columns"]
    ]
    assert kept_twice == []
