from django.contrib.auth.models import AbstractUser
from django.db import models

from wallets.mixins import WalletMixin


class User(WalletMixin, AbstractUser):
    """A person using the portal; a wallet holder from the first migration."""

    email = models.EmailField("email address", unique=True)

    def __str__(self) -> str:
        return self.get_full_name() or self.username
