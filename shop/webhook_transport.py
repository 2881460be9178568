"""One signed POST to a checked address: no redirects, TLS verified against the host name.

``http.client`` rather than ``urllib``: it follows no redirects, and its
connection classes let ``connect`` dial the address ``shop.webhook_targets``
approved instead of resolving the name again (a second answer could point
inside the network). The certificate is still checked against the URL's host
name, so pinning the address weakens nothing.
"""

from __future__ import annotations

import http.client
import socket
import ssl

from shop.webhook_targets import Target


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to ``address``, with SNI and certificate checks for ``host``."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        address: str,
        timeout: float,
        context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


class PinnedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to ``address`` (loopback receivers in development only)."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def post(
    target: Target,
    address: str,
    body: bytes,
    headers: dict[str, str],
    timeout: float,
    context: ssl.SSLContext | None = None,
) -> int:
    """POST ``body`` to ``target`` at ``address``; the HTTP status (a 3xx is not followed).

    Raises OSError (TLS errors included) or http.client.HTTPException when no
    valid response came back. The response body is never read.
    """
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = PinnedHTTPSConnection(
            target.host,
            target.port,
            address=address,
            timeout=timeout,
            context=context or ssl.create_default_context(),
        )
    else:
        connection = PinnedHTTPConnection(
            target.host, target.port, address=address, timeout=timeout
        )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()
