"""The client's address behind our load balancers: one setting, applied once per request.

``TRUSTED_PROXY_COUNT`` is how many proxies we run in front of the portal
(0: clients connect directly). Each proxy appends the address it received the
request from to ``X-Forwarded-For``, so with N proxies the client is the N-th
entry from the right; anything left of it was written by the client and can
be forged. :class:`TrustedProxyMiddleware` runs first and puts that address in
``REMOTE_ADDR``, so everything after it (the staff audit log, request logs,
throttles) sees the client without code of its own. allauth reads the same
header with the same count (``ALLAUTH_TRUSTED_PROXY_COUNT``) for its rate
limits; a header too short for the count is removed so allauth falls back to
the connecting address as we do, instead of failing the request.

gunicorn's access log uses :func:`client_address` too (``gunicorn.conf.py``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

XFF_META = "HTTP_X_FORWARDED_FOR"
# The address that connected to us (the last proxy), kept for whoever needs it.
PEER_META = "portal.peer_addr"
NO_CLIENT = "-"

client_ip_var: ContextVar[str] = ContextVar("client_ip", default=NO_CLIENT)


def clean_address(text: str) -> str | None:
    """``text`` as a normalised IP address (a port or IPv6 brackets removed), or None."""
    value = text.strip()
    if value.startswith("["):  # [2001:db8::1]:443
        value = value[1:].split("]", 1)[0]
    elif value.count(":") == 1:  # 203.0.113.7:51234
        value = value.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def forwarded_client(forwarded_for: str | None, trusted_proxies: int) -> str | None:
    """The client entry of ``X-Forwarded-For`` written by our first proxy, or None.

    None when no proxy is trusted, or the header is missing, shorter than the
    number of proxies or malformed where the client's entry should be.
    """
    if trusted_proxies <= 0 or not forwarded_for:
        return None
    entries = forwarded_for.split(",")
    if len(entries) < trusted_proxies:
        return None
    return clean_address(entries[-trusted_proxies])


def client_address(forwarded_for: str | None, peer: str | None, trusted_proxies: int) -> str:
    """The client's address for a request from ``peer``: forwarded, else the peer itself."""
    return forwarded_client(forwarded_for, trusted_proxies) or peer or ""


def trusted_proxy_count() -> int:
    return max(0, int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0))


class TrustedProxyMiddleware:
    """First in ``MIDDLEWARE``: sets ``REMOTE_ADDR`` to the client's address."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        peer = meta.get("REMOTE_ADDR", "")
        count = trusted_proxy_count()
        forwarded = forwarded_client(meta.get(XFF_META), count)
        if forwarded is None and count > 0:
            # Not a chain our proxies wrote: nobody may read a client from it.
            meta.pop(XFF_META, None)
        meta[PEER_META] = peer
        meta["REMOTE_ADDR"] = forwarded or peer
        client_ip_var.set(meta["REMOTE_ADDR"] or NO_CLIENT)
        return self.get_response(request)


@receiver(request_finished, dispatch_uid="portal.ops.client_ip.clear")
def clear_client_ip(**kwargs: object) -> None:
    client_ip_var.set(NO_CLIENT)
