"""The one place that locks wallets and products.

Every money path locks everything it touches in a single fixed order:
products first (by content type, then primary key), then wallets by primary
key. Two operations that touch the same rows therefore always queue in the
same order and can never deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models

from wallets.exceptions import WalletNotFound
from wallets.models import Wallet


def lock_wallets(*wallets: Wallet) -> list[Wallet]:
    """Lock the given wallets and return fresh copies in the order given."""
    ids = sorted({w.pk for w in wallets})
    locked = {w.pk: w for w in Wallet.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = set(ids) - locked.keys()
    if missing:
        raise WalletNotFound(f"Wallet {sorted(missing)[0]} does not exist.")
    return [locked[w.pk] for w in wallets]


def lock_products(products: Iterable[Any]) -> dict[tuple[int, Any], Any]:
    """Lock model-backed products and return fresh copies keyed by product_key()."""
    keyed = {product_key(p): p for p in products}
    fresh: dict[tuple[int, Any], Any] = {}
    for key in sorted(keyed, key=lambda k: (k[0], str(k[1]))):
        product = keyed[key]
        if isinstance(product, models.Model) and product.pk is not None:
            manager = type(product)._default_manager
            fresh[key] = manager.select_for_update().get(pk=product.pk)
        else:
            fresh[key] = product
    return fresh


def product_key(product: Any) -> tuple[int, Any]:
    if isinstance(product, models.Model):
        return (ContentType.objects.get_for_model(product).pk, product.pk)
    return (0, id(product))


def sync_instance(target: Any, source: Wallet) -> None:
    """Copy the state read under lock onto the caller's wallet object.

    Callers may have passed a holder instead of a wallet: nothing to copy then."""
    if target is source or not isinstance(target, Wallet):
        return
    for field in (
        "balance",
        "held",
        "is_frozen",
        "frozen_reason",
        "frozen_at",
        "frozen_by_id",
        "updated_at",
    ):
        setattr(target, field, getattr(source, field))
