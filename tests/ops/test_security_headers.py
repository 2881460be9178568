"""CSP without inline script, framing denied except where a response allows one origin."""

import pytest

from portal.ops.security import normalize_origin


@pytest.fixture
def framing_urls(settings):
    settings.ROOT_URLCONF = "tests.ops.urls"


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.django_db
def test_pages_get_a_strict_csp_and_deny_framing(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    csp = csp_directives(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_response_can_allow_one_framing_origin(client, framing_urls):
    response = client.get("/ops-test/framed", {"origin": "https://Shop.Example.com:8443"})
    assert csp_directives(response)["frame-ancestors"] == ["https://shop.example.com:8443"]
    assert csp_directives(response)["script-src"] == ["'self'"]
    assert "X-Frame-Options" not in response


def test_other_responses_stay_unframeable(client, framing_urls):
    client.get("/ops-test/framed", {"origin": "https://shop.example.com"})
    response = client.get("/ops-test/plain")
    assert csp_directives(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    "origin",
    [
        "*",
        "https://*.example.com",
        "https://shop.example.com/path",
        "shop.example.com",
        "javascript:alert(1)",
        "https://user@shop.example.com",
        "https://shop.example.com; script-src *",
        "https://shop.example.com?x=1",
    ],
)
def test_only_plain_origins_can_be_allowed(origin):
    with pytest.raises(ValueError):
        normalize_origin(origin)
