from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Portal"

    def ready(self) -> None:
        # Operational hooks: deploy checks, money logs and counters on the engine's signals.
        from portal.ops import checks, receivers  # noqa: F401

        receivers.connect()
