"""Where webhooks may be sent: https to a host whose every address is public.

Checked when a merchant registers a URL and again before every delivery, since
DNS answers change. Names are resolved here, and the delivery connects to the
address that was checked (``shop.webhook_transport``), so a name cannot be
switched to an internal address between the check and the connection.
Loopback, private, link-local, multicast, reserved, shared and unspecified
addresses are refused in IPv4 and IPv6, written as literals (``127.1``,
``2130706433``, ``[::ffff:127.0.0.1]``) or reached through a name.

``WEBHOOK_ALLOW_LOCALHOST_HTTP`` (development only; production mode refuses to
start with it) lets http and https go to loopback addresses, for a receiver on
the developer's machine.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from shop.exceptions import ShopError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_URL_LENGTH = 500
# Well-known prefix for NAT64 (RFC 6052): the last 32 bits are an IPv4 address.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_HOST_NAME = re.compile(r"[A-Za-z0-9.-]+")


class WebhookURLInvalid(ShopError):
    default_message = "Webhook URLs must use https and a public host name."
    code = "webhook_url_invalid"


class WebhookAddressRefused(WebhookURLInvalid):
    """The host resolves to an address webhooks may not reach (or to none)."""

    default_message = "The webhook URL's host does not resolve to a public address."
    code = "webhook_address_refused"


class WebhookHostNotFound(WebhookAddressRefused):
    default_message = "The webhook URL's host name does not resolve."
    code = "webhook_host_not_found"


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str


def loopback_allowed() -> bool:
    return bool(getattr(settings, "WEBHOOK_ALLOW_LOCALHOST_HTTP", False))


def parse_target(url: str) -> Target:
    """The parts of a webhook URL, or WebhookURLInvalid; resolves nothing."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH or not url.isprintable():
        raise WebhookURLInvalid()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:  # a bad port or a malformed IPv6 literal
        raise WebhookURLInvalid() from None
    scheme = parts.scheme.lower()
    host = _ascii_host(parts.hostname or "")
    if scheme not in ("https", "http") or not host or parts.username or parts.password:
        raise WebhookURLInvalid()
    if scheme == "http" and not loopback_allowed():
        raise WebhookURLInvalid()
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def _ascii_host(host: str) -> str:
    if ":" in host:  # an IPv6 literal; urlsplit removed its brackets
        return host
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""
    return host.lower() if _HOST_NAME.fullmatch(host) else ""


def literal_address(host: str) -> Address | None:
    """``host`` as an IP address if it is written as one, in any form libc accepts.

    ``inet_aton`` reads the historic forms (``127.1``, ``0x7f.0.0.1``,
    ``2130706433``, octal) that resolvers would also turn into addresses.
    """
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not re.fullmatch(r"[0-9A-Fa-fXx.]+", host):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address stands for (mapped, 6to4, Teredo, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and not is_public(inner):
            return False
        if address.ipv4_mapped is not None:
            # ::ffff:0:0/96 is "private" as IPv6; the IPv4 inside decides.
            return True
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def _is_loopback(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def resolve(host: str, port: int) -> list[Address]:
    """Every address ``host`` stands for: the literal itself, or the resolver's answers."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise WebhookHostNotFound() from None
    addresses: list[Address] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        # An IPv6 answer may carry a scope ("fe80::1%eth0"); it is link-local anyway.
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise WebhookHostNotFound()
    return addresses


def checked_address(target: Target) -> str:
    """The address to connect to for ``target``, once every address it has is allowed.

    All of a name's addresses must pass, not just one: a resolver may answer a
    public and a private address and the connection must not depend on which is
    tried first.
    """
    addresses = resolve(target.host, target.port)
    if loopback_allowed() and all(_is_loopback(a) for a in addresses):
        return str(addresses[0])
    if target.scheme != "https" or not all(is_public(a) for a in addresses):
        raise WebhookAddressRefused()
    return str(addresses[0])


def check_url(url: str, *, allow_unresolved: bool = False) -> Target:
    """Refuse a URL webhooks may not be sent to (syntax, then every address of its host).

    ``allow_unresolved`` accepts a name that does not resolve yet (a merchant
    registering before their DNS is set up): it has no address to refuse, and
    every delivery resolves and checks it again.
    """
    target = parse_target(url)
    try:
        checked_address(target)
    except WebhookHostNotFound:
        if not allow_unresolved:
            raise
    return target
