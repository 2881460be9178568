"""Routes for the operational endpoints.

``OpsEndpointsMiddleware`` normally answers these paths first; the routes keep them
reversible and working if that middleware is ever left out.
"""

from django.urls import path

from portal.ops.errors import unavailable
from portal.ops.health import healthz, readyz
from portal.ops.metrics import metrics_view

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    # Where an htmx money form is sent when its request failed (portal.ops.errors).
    path("unavailable/", unavailable, name="unavailable"),
]
