"""/healthz, /readyz and /metrics: cheap, unauthenticated probes and a token-protected scrape."""

import pytest
from django.test import Client
from prometheus_client import REGISTRY

from portal.ops import health

TOKEN = "scrape-token-0123456789abcdef"


@pytest.fixture
def fresh_readiness(monkeypatch):
    monkeypatch.setattr(health, "_migrations_applied", False)


def test_healthz_answers_without_the_database(client):
    # No db fixture: any query here would raise.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_readyz_is_ready_with_the_database_migrated(client, fresh_readiness):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": True, "migrations": True}}


@pytest.mark.django_db
def test_readyz_is_unavailable_while_migrations_are_pending(client, fresh_readiness, monkeypatch):
    monkeypatch.setattr(health, "unapplied_migrations", lambda alias="default": ["shop.0099_x"])
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "migrations": False}


@pytest.mark.django_db
def test_readyz_is_unavailable_when_the_database_is_down(client, fresh_readiness, monkeypatch):
    monkeypatch.setattr(health, "database_reachable", lambda alias="default": False)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "checks": {"database": False, "migrations": False},
    }


@pytest.mark.django_db
def test_probes_skip_host_checks_https_redirect_and_csrf(settings, fresh_readiness):
    # Kubelets probe the pod IP over plain HTTP.
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["wallet.example.com"]
    client = Client(enforce_csrf_checks=True)
    for path in ("/healthz", "/readyz"):
        response = client.get(path, HTTP_HOST="10.1.2.3:8000")
        assert response.status_code == 200, path
    # Other paths still get the redirect.
    assert client.get("/accounts/login/", HTTP_HOST="wallet.example.com").status_code == 301


def test_probes_only_answer_reads(client):
    assert client.post("/healthz").status_code == 405


def test_metrics_does_not_exist_without_a_configured_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_metrics_refuses_without_the_token(client, settings, header):
    settings.METRICS_TOKEN = TOKEN
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get("/metrics", **extra)
    assert response.status_code == 403
    assert b"portal_http_requests_total" not in response.content


@pytest.mark.django_db
def test_metrics_exposes_request_counts_with_the_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    labels = {"method": "GET", "view": "account_login", "status": "200"}
    before = REGISTRY.get_sample_value("portal_http_requests_total", labels) or 0
    assert client.get("/accounts/login/").status_code == 200
    assert REGISTRY.get_sample_value("portal_http_requests_total", labels) == before + 1

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert 'portal_http_requests_total{method="GET",status="200",view="account_login"}' in body
    assert "portal_http_request_duration_seconds_bucket" in body
    assert "portal_wallet_operations_total" in body
    assert "portal_webhook_deliveries_total" in body


@pytest.mark.django_db
def test_scrapes_and_probes_are_not_counted_as_traffic(client, settings):
    settings.METRICS_TOKEN = TOKEN
    client.get("/healthz")
    client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    views = {
        sample.labels.get("view")
        for metric in REGISTRY.collect()
        if metric.name == "portal_http_requests"
        for sample in metric.samples
    }
    assert not views & {"healthz", "metrics", "readyz"}


def test_unresolved_paths_share_one_label(client):
    labels = {"method": "GET", "view": "<unresolved>", "status": "404"}
    before = REGISTRY.get_sample_value("portal_http_requests_total", labels) or 0
    client.get("/no/such/page/12345/")
    client.get("/no/such/page/67890/")
    assert REGISTRY.get_sample_value("portal_http_requests_total", labels) == before + 2


def test_unhandled_exceptions_are_counted_as_5xx(settings):
    settings.ROOT_URLCONF = "tests.ops.urls"
    client = Client(raise_request_exception=False)
    errors = {"method": "GET", "view": "ops-test-boom", "status": "500"}
    before = REGISTRY.get_sample_value("portal_http_requests_total", errors) or 0
    raised = REGISTRY.get_sample_value(
        "portal_http_exceptions_total", {"exception": "OpsTestError"}
    )
    response = client.get("/ops-test/boom")
    assert response.status_code == 500
    assert REGISTRY.get_sample_value("portal_http_requests_total", errors) == before + 1
    assert (
        REGISTRY.get_sample_value("portal_http_exceptions_total", {"exception": "OpsTestError"})
        == (raised or 0) + 1
    )
