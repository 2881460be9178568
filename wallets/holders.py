"""Wallets belong to any model instance: finding and opening them."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models
from django.db import transaction as db_transaction

from wallets import conf, signals
from wallets.abstract_models import AbstractWallet
from wallets.exceptions import (
    AmountInvalid,
    WalletAlreadyExists,
    WalletError,
    WalletInvalid,
    WalletNotFound,
)
from wallets.ledger import after_commit
from wallets.mixins import WalletMixin
from wallets.swappable import get_wallet_model

Wallet = get_wallet_model()

SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]+$")
UNIT_RE = re.compile(r"^[A-Z0-9_]{1,16}$")


def holder_filter(holder: models.Model) -> dict[str, Any]:
    if holder.pk is None:
        raise WalletError("Save the holder before using its wallets.")
    return {
        "holder_type": ContentType.objects.get_for_model(holder),
        "holder_id": str(holder.pk),
    }


def holder_label(holder: Any) -> str:
    """A stable text naming a holder: ``app.model:pk`` for model instances."""
    meta = getattr(holder, "_meta", None)
    return f"{meta.label_lower}:{holder.pk}" if meta else str(holder)


def wallets_of(holder: models.Model) -> models.QuerySet[Wallet]:
    return Wallet.objects.filter(**holder_filter(holder))


def find_wallet(holder: models.Model, slug: str) -> Wallet:
    try:
        return wallets_of(holder).get(slug=slug)
    except Wallet.DoesNotExist:
        raise WalletNotFound(f"{holder} has no wallet '{slug}'.") from None


def clean_create_fields(slug: str, fields: dict[str, Any]) -> dict[str, Any]:
    if not slug or not SLUG_RE.match(slug) or len(slug) > 64:
        raise WalletInvalid(f"'{slug}' is not a valid wallet slug (letters, digits, - and _).")
    unit = str(fields.get("unit") or conf.get("DEFAULT_UNIT")).strip().upper()
    if not UNIT_RE.match(unit):
        raise WalletInvalid(f"'{unit}' is not a valid unit code.")
    places = fields.get("decimal_places", conf.get("DEFAULT_DECIMAL_PLACES"))
    max_places = conf.get("MAX_DECIMAL_PLACES")
    if isinstance(places, bool) or not isinstance(places, int) or not 0 <= places <= max_places:
        raise AmountInvalid(f"Decimal places must be a whole number from 0 to {max_places}.")
    default_name = conf.get("DEFAULT_NAME") if slug == conf.get("DEFAULT_SLUG") else slug
    cleaned = {
        "name": (fields.get("name") or default_name)[:100],
        "unit": unit,
        "decimal_places": places,
        "meta": fields.get("meta") or {},
    }
    project_fields = set(fields) & project_wallet_fields()
    cleaned.update({name: fields[name] for name in project_fields})
    unknown = set(fields) - {"name", "unit", "decimal_places", "meta"} - project_fields
    if unknown:
        raise WalletInvalid(f"Unknown wallet fields: {', '.join(sorted(unknown))}.")
    return cleaned


def project_wallet_fields() -> set[str]:
    """Fields a project's own wallet model adds to ``AbstractWallet`` (see
    ``WALLETS_WALLET_MODEL``): set when the wallet opens, like its name. The
    engine's own fields (balance, held, frozen...) are never set this way."""
    engine = {field.name for field in AbstractWallet._meta.get_fields()}
    return {
        field.name
        for field in Wallet._meta.concrete_fields
        if field.name not in engine and not field.primary_key
    }


def _create(holder: models.Model, lookup: dict[str, Any], slug: str, values: dict) -> Wallet:
    """Insert the wallet row; IntegrityError when the slug is taken (race-safe)."""
    with db_transaction.atomic():
        wallet = Wallet.objects.create(**lookup, slug=slug, **values)
    after_commit(signals.wallet_created, Wallet, wallet=wallet, holder=holder)
    return wallet


def get_or_create_wallet(holder: models.Model, slug: str | None = None, **fields: Any) -> Wallet:
    """Return the holder's wallet ``slug``, opening it if needed (race-safe)."""
    slug = slug or conf.get("DEFAULT_SLUG")
    lookup = holder_filter(holder)
    existing = Wallet.objects.filter(**lookup, slug=slug).first()
    if existing is not None:
        return existing
    values = clean_create_fields(slug, fields)
    try:
        return _create(holder, lookup, slug, values)
    except IntegrityError:
        # Another request opened it between our read and our insert.
        return Wallet.objects.get(**lookup, slug=slug)


def open_wallet(holder: models.Model, slug: str, **fields: Any) -> Wallet:
    """Open a new wallet ``slug``; ``WalletAlreadyExists`` if the holder has one."""
    lookup = holder_filter(holder)
    values = clean_create_fields(slug, fields)
    taken = WalletAlreadyExists(f"{holder} already has a wallet with the slug '{slug}'.")
    if Wallet.objects.filter(**lookup, slug=slug).exists():
        raise taken
    try:
        return _create(holder, lookup, slug, values)
    except IntegrityError:
        raise taken from None


def peek_wallet(target: Any, *, must_exist: bool = False) -> Wallet | None:
    """A Wallet stays itself; a holder gives its default wallet without opening it."""
    if isinstance(target, Wallet):
        return target
    if not isinstance(target, models.Model):
        raise WalletError(f"{target!r} is neither a wallet nor a wallet holder.")
    wallet = wallets_of(target).filter(slug=conf.get("DEFAULT_SLUG")).first()
    if wallet is None and must_exist:
        raise WalletNotFound(f"{target} has no wallet yet.")
    return wallet


def unopened_wallet(holder: models.Model, slug: str | None = None, **fields: Any) -> Wallet:
    """The wallet ``slug`` (default: the default one) the holder would get on
    first use, unsaved: what previews and quotes are computed against."""
    slug = slug or conf.get("DEFAULT_SLUG")
    return Wallet(**holder_filter(holder), slug=slug, **clean_create_fields(slug, fields))


def resolve_wallet(target: Any, slug: str | None = None) -> Wallet:
    """A Wallet stays itself; a holder becomes its wallet ``slug`` (default).

    A holder's default wallet is the one ``holder.wallet`` keeps: paying the
    same merchant again costs no lookup. Only its id and unit are used before
    the operation locks it, and the operation leaves its fresh values on it."""
    if isinstance(target, Wallet):
        return target
    if slug is None and isinstance(target, WalletMixin):
        return target.wallet
    if isinstance(target, models.Model):
        return get_or_create_wallet(target, slug)
    raise WalletError(f"{target!r} is neither a wallet nor a wallet holder.")
