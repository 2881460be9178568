"""Where webhooks may go: every refused address form, and the pinned TLS connection."""

import datetime
import ipaddress
import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from shop.webhook_targets import (
    Target,
    WebhookAddressRefused,
    WebhookHostNotFound,
    WebhookURLInvalid,
    check_url,
    is_public,
)
from shop.webhook_transport import post
from tests.shop.test_webhooks import fake_dns


@pytest.fixture(autouse=True)
def production_rules(settings):
    settings.WEBHOOK_ALLOW_LOCALHOST_HTTP = False


LITERALS = [
    "https://127.0.0.1/hooks",
    "https://127.1/hooks",  # inet_aton shorthand
    "https://2130706433/hooks",  # one decimal number
    "https://0x7f000001/hooks",  # hexadecimal
    "https://0x7f.0.0.1/hooks",
    "https://017700000001/hooks",  # octal
    "https://0.0.0.0/hooks",
    "https://0/hooks",
    "https://10.0.0.5/hooks",
    "https://172.16.3.4/hooks",
    "https://192.168.1.1/hooks",
    "https://100.64.0.1/hooks",  # shared address space (carrier NAT)
    "https://169.254.169.254/latest/meta-data",  # cloud metadata (link-local)
    "https://224.0.0.1/hooks",  # multicast
    "https://240.0.0.1/hooks",  # reserved
    "https://255.255.255.255/hooks",
    "https://192.0.2.10/hooks",  # documentation range
    "https://[::1]/hooks",
    "https://[::]/hooks",
    "https://[0:0:0:0:0:0:0:1]/hooks",
    "https://[::ffff:127.0.0.1]/hooks",  # IPv4-mapped
    "https://[::ffff:7f00:1]/hooks",
    "https://[::ffff:10.1.2.3]/hooks",
    "https://[::ffff:169.254.169.254]/hooks",
    "https://[::127.0.0.1]/hooks",  # IPv4-compatible (deprecated)
    "https://[fe80::1]/hooks",
    "https://[fe80::1%25eth0]/hooks",
    "https://[fc00::1]/hooks",
    "https://[fd12:3456::1]/hooks",
    "https://[fec0::1]/hooks",
    "https://[ff02::1]/hooks",
    "https://[2001:db8::1]/hooks",
    "https://[2002:7f00:1::1]/hooks",  # 6to4 of 127.0.0.1
    "https://[2002:a00:1::1]/hooks",  # 6to4 of 10.0.0.1
    "https://[64:ff9b::a00:1]/hooks",  # NAT64 of 10.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hooks",  # Teredo
]


@pytest.mark.parametrize("url", LITERALS)
def test_every_internal_literal_is_refused(url, monkeypatch):
    fake_dns(monkeypatch, {})  # a literal never needs the resolver
    with pytest.raises(WebhookAddressRefused):
        check_url(url)


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/",  # http is for loopback in development only
        "ftp://hooks.example.com/",
        "javascript:alert(1)",
        "https:///no-host",
        "https://user:secret@hooks.example.com/",
        "https://hooks.example.com:99999/",
        "https://[::1/",
        "https://hooks.example.com/\x00",
        "https://hooks example.com/",
        "https://" + "a" * 600 + ".com/",
        "",
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url):
    with pytest.raises(WebhookURLInvalid):
        check_url(url)


@pytest.mark.parametrize(
    "answers",
    [
        ["127.0.0.1"],
        ["127.0.1.1"],
        ["10.20.30.40"],
        ["172.31.255.255"],
        ["192.168.0.10"],
        ["169.254.169.254"],
        ["100.100.100.200"],
        ["0.0.0.0"],
        ["224.0.0.251"],
        ["::1"],
        ["fe80::1%eth0"],
        ["fd00::5"],
        ["::ffff:10.0.0.1"],
        ["ff02::1"],
        ["93.184.216.34", "10.0.0.1"],  # one bad answer is enough
        ["2606:2800:220:1::1", "::1"],
    ],
)
def test_names_resolving_to_internal_addresses_are_refused(monkeypatch, answers):
    fake_dns(monkeypatch, {"hooks.example.com": answers, "localhost": ["127.0.0.1"]})
    with pytest.raises(WebhookAddressRefused):
        check_url("https://hooks.example.com/wallet")
    with pytest.raises(WebhookAddressRefused):
        check_url("https://localhost/wallet")


def test_names_resolving_to_public_addresses_are_accepted(monkeypatch):
    fake_dns(monkeypatch, {"hooks.example.com": ["93.184.216.34", "2606:2800:220:1::1"]})
    target = check_url("https://Hooks.Example.com:8443/wallet?x=1")
    assert target == Target("https", "hooks.example.com", 8443, "/wallet?x=1")
    assert check_url("https://93.184.216.34/wallet").host == "93.184.216.34"


def test_a_name_that_does_not_resolve(monkeypatch):
    fake_dns(monkeypatch, {})
    with pytest.raises(WebhookHostNotFound):
        check_url("https://hooks.example.com/")
    # Registration may accept it (the merchant's DNS may come later); delivery will not.
    assert check_url("https://hooks.example.com/", allow_unresolved=True).host


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
        ("2002:808:808::1", True),
        ("127.0.0.1", False),
        ("::ffff:192.168.0.1", False),
    ],
)
def test_the_public_address_rule(address, public):
    assert is_public(ipaddress.ip_address(address)) is public


# The pinned connection: it dials the checked address, and still verifies the
# certificate against the URL's host name.


def certificate_for(name: str, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(tmp_path):
    """An HTTPS receiver on 127.0.0.1 whose certificate names hooks.merchant.test."""
    cert, key = certificate_for("hooks.merchant.test", tmp_path)
    seen = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            seen["host"] = self.headers["Host"]
            seen["path"] = self.path
            seen["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.__setitem__("sni", name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    client_context = ssl.create_default_context(cafile=str(cert))
    yield server.server_port, client_context, seen
    server.shutdown()
    server.server_close()


def test_the_connection_goes_to_the_pinned_address_with_the_hosts_tls(tls_receiver):
    port, context, seen = tls_receiver
    target = Target("https", "hooks.merchant.test", port, "/wallet")
    # hooks.merchant.test resolves nowhere: only the pinned address can be reached.
    status = post(target, "127.0.0.1", b"{}", {"Content-Type": "application/json"}, 5, context)
    assert status == 204
    assert seen["sni"] == "hooks.merchant.test"
    assert seen["host"] == f"hooks.merchant.test:{port}"
    assert seen["path"] == "/wallet" and seen["body"] == b"{}"


def test_a_certificate_for_another_name_is_refused(tls_receiver):
    port, context, _ = tls_receiver
    target = Target("https", "other.merchant.test", port, "/wallet")
    with pytest.raises(ssl.SSLCertVerificationError):
        post(target, "127.0.0.1", b"{}", {}, 5, context)


def test_an_untrusted_certificate_is_refused(tls_receiver):
    port, _, _ = tls_receiver
    target = Target("https", "hooks.merchant.test", port, "/wallet")
    with pytest.raises(ssl.SSLCertVerificationError):
        post(target, "127.0.0.1", b"{}", {}, 5)


def test_nothing_listening_is_an_os_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(OSError):
        post(Target("http", "localhost", port, "/"), "127.0.0.1", b"{}", {}, 2)
