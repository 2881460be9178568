from django.apps import AppConfig


class EngineBenchConfig(AppConfig):
    name = "bench.engineapp"
    label = "bench_engine"
    default_auto_field = "django.db.models.BigAutoField"
