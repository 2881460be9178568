"""Mixins that give any model wallets (holders) or make it buyable (products)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.db.models.signals import post_delete, pre_delete

from wallets import conf
from wallets.amounts import Amount


class WalletMixin:
    """Add to any model (users, organizations, teams) to make it a wallet holder.

    Primary keys may be integers, UUIDs or strings. The money methods act on
    the default wallet; ``get_wallet(slug)`` reaches the others.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Holders with ledger history cannot be deleted; empty wallets go with them.
        pre_delete.connect(_protect_holder_wallets, sender=cls, weak=False)
        post_delete.connect(_delete_empty_wallets, sender=cls, weak=False)

    def delete(self, *args: Any, **kwargs: Any):
        # Checked before Django opens its delete transaction, so a refused
        # delete leaves the caller's transaction usable; the pre_delete
        # receiver still guards queryset deletes.
        _protect_holder_wallets(type(self), self)
        return super().delete(*args, **kwargs)

    # Reading

    @property
    def balance(self) -> Decimal:
        """Confirmed balance of the default wallet (0 if it was never opened)."""
        from wallets.selectors import stored_balance

        return stored_balance(self, conf.get("DEFAULT_SLUG"))

    @property
    def wallet(self):
        """The default wallet, opened on first use."""
        cache = self.__dict__.setdefault("_wallet_cache", {})
        slug = conf.get("DEFAULT_SLUG")
        if slug not in cache:
            cache[slug] = self.get_wallet(slug)
        return cache[slug]

    def get_wallet(self, slug: str | None = None, **create_fields: Any):
        """The wallet ``slug``, opened with ``create_fields`` if it does not exist."""
        from wallets.holders import get_or_create_wallet

        return get_or_create_wallet(self, slug, **create_fields)

    def has_wallet(self, slug: str) -> bool:
        from wallets.holders import wallets_of

        return wallets_of(self).filter(slug=slug).exists()

    def get_wallets(self):
        from wallets.holders import wallets_of

        return wallets_of(self).order_by("created_at", "pk")

    def get_pending_transactions(self, slug: str | None = None):
        from wallets.holders import wallets_of
        from wallets.swappable import get_transaction_model

        Transaction = get_transaction_model()
        wallets = wallets_of(self)
        if slug is not None:
            wallets = wallets.filter(slug=slug)
        return Transaction.objects.filter(
            wallet__in=wallets, state=Transaction.State.PENDING
        ).order_by("created_at", "pk")

    # Moving money (the default wallet)

    def deposit(
        self,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
    ):
        return self.wallet.deposit(amount, meta, confirmed, idempotency_key)

    def withdraw(
        self,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
    ):
        return self.wallet.withdraw(amount, meta, confirmed, idempotency_key)

    def force_withdraw(
        self,
        amount: Amount,
        meta: dict | None = None,
        confirmed: bool = True,
        idempotency_key: str | None = None,
    ):
        return self.wallet.force_withdraw(amount, meta, confirmed, idempotency_key)

    def transfer(
        self,
        to: Any,
        amount: Amount,
        meta: dict | None = None,
        idempotency_key: str | None = None,
    ):
        return self.wallet.transfer(to, amount, meta, idempotency_key)

    def pay(
        self,
        product: Any,
        quantity: int = 1,
        meta: dict | None = None,
        idempotency_key: str | None = None,
    ):
        from wallets.services import purchase_service

        return purchase_service().pay(
            self, product, quantity=quantity, meta=meta, idempotency_key=idempotency_key
        )

    def gift(
        self,
        to: Any,
        product: Any,
        quantity: int = 1,
        meta: dict | None = None,
        idempotency_key: str | None = None,
    ):
        from wallets.services import transfer_service

        return transfer_service().gift(
            self.wallet,
            to,
            product,
            quantity=quantity,
            meta=meta,
            idempotency_key=idempotency_key,
        )

    def exchange(
        self,
        from_slug: str,
        to_slug: str,
        amount: Amount,
        meta: dict | None = None,
        idempotency_key: str | None = None,
        **create_fields: Any,
    ):
        """Exchange between two of the holder's wallets; a missing destination
        opens (in ``unit`` if given, else its slug upper-cased)."""
        from wallets.services import exchange_service

        return exchange_service().exchange(
            self,
            from_slug,
            to_slug,
            amount,
            meta=meta,
            idempotency_key=idempotency_key,
            create_fields=create_fields or None,
        )

    def freeze_wallet(
        self, slug: str | None = None, reason: str = "", by: Any = None, *, message: str = ""
    ):
        """Freeze a wallet. ``reason`` is a private note; ``message`` is what the
        holder is told (a neutral default when empty)."""
        from wallets.holders import find_wallet
        from wallets.services import wallet_service

        return wallet_service().freeze(
            find_wallet(self, slug or conf.get("DEFAULT_SLUG")),
            note=reason,
            message=message,
            by=by,
        )

    def unfreeze_wallet(self, slug: str | None = None, by: Any = None):
        from wallets.holders import find_wallet
        from wallets.services import wallet_service

        return wallet_service().unfreeze(find_wallet(self, slug or conf.get("DEFAULT_SLUG")), by=by)


class WalletOperationsMixin:
    """A wallet's own money methods, for ``wallet.deposit(5000)``: each calls the
    configured service, like the holder's methods."""

    def deposit(self, amount, meta=None, confirmed=True, idempotency_key=None):
        from wallets.services import wallet_service

        return wallet_service().deposit(
            self, amount, meta=meta, confirmed=confirmed, idempotency_key=idempotency_key
        )

    def withdraw(self, amount, meta=None, confirmed=True, idempotency_key=None):
        from wallets.services import wallet_service

        return wallet_service().withdraw(
            self, amount, meta=meta, confirmed=confirmed, idempotency_key=idempotency_key
        )

    def force_withdraw(self, amount, meta=None, confirmed=True, idempotency_key=None):
        from wallets.services import wallet_service

        return wallet_service().force_withdraw(
            self, amount, meta=meta, confirmed=confirmed, idempotency_key=idempotency_key
        )

    def transfer(self, to, amount, meta=None, idempotency_key=None):
        from wallets.services import transfer_service

        return transfer_service().transfer(
            self, to, amount, meta=meta, idempotency_key=idempotency_key
        )

    def pay(self, product, quantity=1, meta=None, idempotency_key=None):
        from wallets.services import purchase_service

        return purchase_service().pay(
            self, product, quantity=quantity, meta=meta, idempotency_key=idempotency_key
        )

    def freeze(self, note: str = "", *, message: str = "", by=None):
        from wallets.services import wallet_service

        return wallet_service().freeze(self, note=note, message=message, by=by)

    def unfreeze(self, by=None):
        from wallets.services import wallet_service

        return wallet_service().unfreeze(self, by=by)


class ProductMixin:
    """Make a model buyable with wallets.

    ``get_amount_product(customer)`` is required. The money goes to
    ``get_product_recipient()``: a wallet or a holder (its default wallet);
    by default the product itself, when the product is a wallet holder, and
    otherwise nobody: the buyer is charged (a ``Purchase``).

    A purchase locks the product's row when the product decides something
    under it: when its class overrides ``can_buy``, ``purchase_refusal`` or
    ``after_purchase`` (stock, seats, one per customer...). A product that
    decides nothing is not locked, so its buyers do not queue on its row;
    ``lock_on_purchase = True`` (or ``False``) says so explicitly.
    """

    lock_on_purchase: bool | None = None

    def get_amount_product(self, customer: Any) -> Amount:
        raise NotImplementedError("Products must implement get_amount_product(customer).")

    def can_buy(self, customer: Any, quantity: int = 1) -> bool:
        return True

    def purchase_refusal(self, customer: Any, quantity: int = 1) -> str | None:
        """Why ``customer`` cannot buy ``quantity`` now, or ``None`` when they can.

        Asked under the product's lock; the text is the ``ProductNotAvailable``
        message. Override it to say why; by default it follows ``can_buy``."""
        return None if self.can_buy(customer, quantity) else f"'{self}' is not available."

    def get_meta_product(self) -> dict:
        return {}

    def get_product_recipient(self) -> Any:
        """Who is paid: a holder or a Wallet; by default the product itself when it
        holds wallets. ``None``: no wallet receives the price (see
        ``WALLETS["REVENUE_WALLET"]``), and paying charges the buyer."""
        return self if isinstance(self, WalletMixin) else None

    def after_purchase(self, customer: Any, quantity: int, transfer: Any) -> None:
        """Called inside the purchase's transaction, with this product locked:
        the place to decrement stock."""


# The hooks that decide under the product's lock (see ProductMixin).
PRODUCT_LOCKING_HOOKS = ("can_buy", "purchase_refusal", "after_purchase")


def product_needs_lock(product: Any) -> bool:
    """Whether a purchase must lock ``product``'s row (see ``ProductMixin``)."""
    explicit = getattr(product, "lock_on_purchase", None)
    if explicit is not None:
        return bool(explicit)
    return not product_decides_nothing(product)


def product_decides_nothing(product: Any) -> bool:
    """Whether ``product`` keeps ``ProductMixin``'s ``can_buy``,
    ``purchase_refusal`` and ``after_purchase``: paying for it asks it nothing
    but its price and its meta."""
    cls = type(product)
    return all(
        getattr(cls, hook, None) is getattr(ProductMixin, hook) for hook in PRODUCT_LOCKING_HOOKS
    )


def get_wallet_mixin() -> type:
    """The holder mixin configured by ``WALLETS["WALLET_MIXIN_CLASS"]``."""
    return conf.get_class("WALLET_MIXIN_CLASS")


def _protect_holder_wallets(sender: type, instance: models.Model, **kwargs: Any) -> None:
    from django.db.models import ProtectedError

    from wallets.holders import wallets_of
    from wallets.swappable import get_transaction_model

    Transaction = get_transaction_model()
    if instance.pk is None:
        return
    wallets = wallets_of(instance)
    if Transaction.objects.filter(wallet__in=wallets).exists():
        raise ProtectedError(
            f"{instance} has wallets with transactions; the ledger keeps them.",
            set(wallets),
        )


def _delete_empty_wallets(sender: type, instance: models.Model, **kwargs: Any) -> None:
    from wallets.holders import wallets_of

    wallets_of(instance).delete()
