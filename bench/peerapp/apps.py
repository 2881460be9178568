from django.apps import AppConfig


class PeerBenchConfig(AppConfig):
    name = "bench.peerapp"
    label = "bench_peer"
    default_auto_field = "django.db.models.BigAutoField"
