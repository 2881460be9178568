from django.apps import AppConfig

from wallets.swappable import install_defaults


class WalletsConfig(AppConfig):
    name = "wallets"
    verbose_name = "Wallets"
    default_auto_field = "django.db.models.BigAutoField"

    def __init__(self, app_name, app_module):
        super().__init__(app_name, app_module)
        # Before any model is imported: foreign keys and migrations read these names.
        install_defaults()
