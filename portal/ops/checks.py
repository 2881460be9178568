"""Deployment checks for ``manage.py check --deploy``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, Warning, register


@register(Tags.caches, deploy=True)
def shared_cache_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith("LocMemCache"):
        return [
            Warning(
                "The cache is local to each process, so login rate limits are per web "
                "process and cached values differ between them.",
                hint="Set REDIS_URL so every web process shares one cache.",
                id="portal.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def metrics_token_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    token = getattr(settings, "METRICS_TOKEN", "")
    if token and len(token) < 24:
        return [
            Warning(
                "METRICS_TOKEN is short enough to guess.",
                hint="Use at least 24 random characters.",
                id="portal.W002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def trusted_proxy_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    behind_proxy = getattr(settings, "SECURE_PROXY_SSL_HEADER", None) is not None
    if behind_proxy and getattr(settings, "TRUSTED_PROXY_COUNT", 0) == 0:
        return [
            Warning(
                "X-Forwarded-Proto is trusted, so the portal runs behind a proxy, but "
                "TRUSTED_PROXY_COUNT is 0: rate limits, request logs and the staff audit log "
                "see the proxy's address instead of the client's.",
                hint="Set TRUSTED_PROXY_COUNT to the number of proxies in front (1 behind "
                "the load balancer), or TRUST_X_FORWARDED_PROTO=false if there is none.",
                id="portal.W003",
            )
        ]
    return []
