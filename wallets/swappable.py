"""Which models hold wallets, transactions and transfers, as ``AUTH_USER_MODEL`` does it.

A project that extends ``AbstractWallet`` (or ``AbstractTransaction``,
``AbstractTransfer``) names its model in settings before its first migration::

    WALLETS_WALLET_MODEL = "billing.Wallet"
    WALLETS_TRANSACTION_MODEL = "billing.Transaction"
    WALLETS_TRANSFER_MODEL = "billing.Transfer"

Every service, the locking, the selectors, the admin and the foreign keys then
use that model. Code asks ``get_wallet_model()`` (and the two others) for the
class, and foreign keys point at ``settings.WALLETS_WALLET_MODEL``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import apps as django_apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

if TYPE_CHECKING:
    from wallets.abstract_models import AbstractTransaction, AbstractTransfer, AbstractWallet

WALLET_MODEL_SETTING = "WALLETS_WALLET_MODEL"
TRANSACTION_MODEL_SETTING = "WALLETS_TRANSACTION_MODEL"
TRANSFER_MODEL_SETTING = "WALLETS_TRANSFER_MODEL"

DEFAULT_MODELS = {
    WALLET_MODEL_SETTING: "wallets.Wallet",
    TRANSACTION_MODEL_SETTING: "wallets.Transaction",
    TRANSFER_MODEL_SETTING: "wallets.Transfer",
}


def install_defaults() -> None:
    """Give settings their default model names, so migrations and foreign keys can
    read ``settings.WALLETS_WALLET_MODEL`` in a project that never set it."""
    for setting, default in DEFAULT_MODELS.items():
        if not hasattr(settings, setting):
            setattr(settings, setting, default)


def model_name(setting: str) -> str:
    return getattr(settings, setting, DEFAULT_MODELS[setting])


def _get_model(setting: str):
    label = model_name(setting)
    try:
        return django_apps.get_model(label, require_ready=False)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"{setting} must be of the form 'app_label.ModelName'."
        ) from error
    except LookupError as error:
        raise ImproperlyConfigured(
            f"{setting} refers to model '{label}' that has not been installed."
        ) from error


def get_wallet_model() -> type[AbstractWallet]:
    """The wallet model in use (``settings.WALLETS_WALLET_MODEL``)."""
    return _get_model(WALLET_MODEL_SETTING)


def get_transaction_model() -> type[AbstractTransaction]:
    """The transaction model in use (``settings.WALLETS_TRANSACTION_MODEL``)."""
    return _get_model(TRANSACTION_MODEL_SETTING)


def get_transfer_model() -> type[AbstractTransfer]:
    """The transfer model in use (``settings.WALLETS_TRANSFER_MODEL``)."""
    return _get_model(TRANSFER_MODEL_SETTING)
