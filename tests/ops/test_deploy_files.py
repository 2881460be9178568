"""The deployment examples parse and fit the code: probes, commands, variables, metrics."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands
from prometheus_client import REGISTRY

from portal.ops.outbox import WebhookOutboxCollector
from tests.ops.conftest import ROOT

DEPLOY = ROOT / "docs" / "deploy"
REQUIRED_IN_PRODUCTION = {"SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"}
# Variables the secretRef supplies; the rest must be in the ConfigMap.
SECRET_VARIABLES = {"SECRET_KEY", "DATABASE_URL"}


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    docs = list(yaml.safe_load_all((DEPLOY / "kubernetes.yaml").read_text()))
    for doc in docs:
        assert {"apiVersion", "kind", "metadata"} <= doc.keys(), doc
    names = [(doc["kind"], doc["metadata"]["name"]) for doc in docs]
    assert len(names) == len(set(names))
    return docs


@pytest.fixture(scope="module")
def manifests(documents) -> dict[str, dict]:
    """One document per kind: the one named wallet-portal (the web app) when several."""
    by_kind: dict[str, dict] = {}
    for doc in documents:
        if doc["kind"] not in by_kind or doc["metadata"]["name"] == "wallet-portal":
            by_kind[doc["kind"]] = doc
    return by_kind


def pod_specs(doc: dict) -> list[dict]:
    spec = doc.get("spec", {})
    if doc["kind"] == "CronJob":
        return [spec["jobTemplate"]["spec"]["template"]["spec"]]
    if "template" in spec:
        return [spec["template"]["spec"]]
    return []


def web_container(deployment: dict) -> dict:
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_the_manifest_has_every_required_object(manifests):
    assert {
        "Deployment",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Job",
        "Service",
        "ConfigMap",
    } <= manifests.keys()
    assert manifests["HorizontalPodAutoscaler"]["apiVersion"] == "autoscaling/v2"
    assert manifests["PodDisruptionBudget"]["apiVersion"] == "policy/v1"


def test_the_deployment_probes_the_health_endpoints(manifests):
    container = web_container(manifests["Deployment"])
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    readiness = container["readinessProbe"]["httpGet"]
    liveness = container["livenessProbe"]["httpGet"]
    assert readiness["path"] == "/readyz"
    assert liveness["path"] == "/healthz"
    assert readiness["port"] in ports and liveness["port"] in ports
    env = {item["name"]: item["value"] for item in container.get("env", [])}
    assert int(env["PORT"]) == ports[readiness["port"]]


def test_the_deployment_runs_gunicorn_with_the_config_and_production_settings(manifests):
    container = web_container(manifests["Deployment"])
    assert container["command"][:2] == ["gunicorn", "portal.wsgi:application"]
    assert "gunicorn.conf.py" in container["command"]
    sources = {
        next(iter(source)): next(iter(source.values()))["name"] for source in container["envFrom"]
    }
    assert sources == {"configMapRef": "wallet-portal", "secretRef": "wallet-portal"}
    config = manifests["ConfigMap"]["data"]
    assert config["DJANGO_ENV"] == "production"
    assert config.keys() >= REQUIRED_IN_PRODUCTION - SECRET_VARIABLES
    assert "*" not in config["ALLOWED_HOSTS"]
    assert all(isinstance(value, str) for value in config.values())


def test_selectors_autoscaler_and_budget_point_at_the_web_pods(manifests):
    deployment = manifests["Deployment"]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    assert manifests["Service"]["spec"]["selector"].items() <= pod_labels.items()
    pdb = manifests["PodDisruptionBudget"]["spec"]
    assert pdb["selector"]["matchLabels"].items() <= pod_labels.items()

    hpa = manifests["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
    assert hpa["metrics"]
    # Draining a node can never take the portal below its budget to zero.
    assert 0 < pdb["minAvailable"] < hpa["minReplicas"]


def test_the_migration_job_migrates_with_the_same_image_and_settings(manifests):
    job = manifests["Job"]["spec"]["template"]["spec"]
    (container,) = job["containers"]
    assert container["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert job["restartPolicy"] in {"Never", "OnFailure"}
    web = web_container(manifests["Deployment"])
    assert container["image"] == web["image"]
    assert container["envFrom"] == web["envFrom"]


def known_metric_names() -> set[str]:
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    names = set()
    outbox = WebhookOutboxCollector()
    outbox.read = lambda: dict.fromkeys(  # the families, without a database
        ("pending", "retrying", "failed", "oldest_due_seconds"), 0.0
    )
    for metric in [*REGISTRY.collect(), *outbox.collect()]:
        names.add(metric.name)
        names.update(metric.name + suffix for suffix in suffixes.get(metric.type, ()))
    return names


def test_alert_rules_are_complete_and_use_existing_metrics():
    rules_file = yaml.safe_load((DEPLOY / "prometheus-alerts.yaml").read_text())
    rules = [rule for group in rules_file["groups"] for rule in group["rules"]]
    assert all(group["name"] for group in rules_file["groups"])
    names = [rule["alert"] for rule in rules]
    assert len(names) == len(set(names))
    known = known_metric_names()
    for rule in rules:
        assert {"alert", "expr", "for", "labels", "annotations"} <= rule.keys(), rule
        assert rule["labels"]["severity"] in {"page", "ticket"}
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smh]", rule["for"]), rule["for"]
        for metric in re.findall(r"\bportal_[a-z_]+", rule["expr"]):
            assert metric in known, f"{rule['alert']} uses unknown metric {metric}"
    exprs = " ".join(rule["expr"] for rule in rules)
    # The three: error rate, latency, webhook failures.
    assert 'status=~"5.."' in exprs
    assert "portal_http_request_duration_seconds_bucket" in exprs
    assert 'portal_webhook_deliveries_total{outcome="failed"}' in exprs
    assert 'portal_webhook_outbox_deliveries{status="failed"}' in exprs


def environment_variables_read_by_the_code() -> set[str]:
    from portal.ops import db_timeouts

    readers = r"environ\.get\(\s*|environ\[\s*|env_bool\(\s*|env_list\(\s*|env_int\(\s*"
    pattern = re.compile(rf"""(?:{readers})["']([A-Z][A-Z0-9_]+)["']""")
    names = set()
    for path in (ROOT / "portal" / "settings.py", ROOT / "gunicorn.conf.py"):
        names.update(pattern.findall(path.read_text()))
    # The database timeouts are read by name per kind of process.
    names.add("DB_TIMEOUT_ROLE")
    for prefix in db_timeouts.PREFIXES.values():
        names.update(prefix + name for name in db_timeouts.NAMES)
    return names


def test_the_env_example_documents_every_variable_with_a_comment():
    lines = (ROOT / ".env.production.example").read_text().splitlines()
    variable = re.compile(r"^#?\s?([A-Z][A-Z0-9_]+)=")
    documented = {}
    for index, line in enumerate(lines):
        match = variable.match(line)
        if not match:
            continue
        # A variable is explained by the comment above its group of variables.
        above = index - 1
        while above >= 0 and variable.match(lines[above]):
            above -= 1
        documented[match.group(1)] = above >= 0 and lines[above].startswith("# ")
    read = environment_variables_read_by_the_code() - {"DJANGO_SETTINGS_MODULE"}
    assert read >= REQUIRED_IN_PRODUCTION
    missing = read - documented.keys()
    assert not missing, f"add these to .env.production.example: {sorted(missing)}"
    undocumented = [name for name, has_comment in documented.items() if not has_comment]
    assert not undocumented


def test_the_procfile_migrates_on_release_and_serves_with_the_gunicorn_config():
    entries = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert entries["release"] == "python manage.py migrate --noinput"
    assert entries["web"].startswith("gunicorn portal.wsgi:application")
    assert "gunicorn.conf.py" in entries["web"]
    assert Path(ROOT / "gunicorn.conf.py").is_file()


def test_the_image_collects_static_at_build_and_matches_the_manifest(manifests):
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "RUN DJANGO_ENV=build python manage.py collectstatic --noinput" in dockerfile
    pod = manifests["Deployment"]["spec"]["template"]["spec"]
    assert f"USER {pod['securityContext']['runAsUser']}" in dockerfile
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.MULTILINE)
    assert cmd and yaml.safe_load(cmd.group(1)) == web_container(manifests["Deployment"])["command"]
    for copied in re.findall(r"^COPY (\S+) ", dockerfile, re.MULTILINE):
        assert (ROOT / copied).exists(), copied


def gunicorn_config(**env: str) -> dict[str, str]:
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "--print-config", "portal.wsgi:application"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    config = {}
    for line in result.stdout.splitlines():
        name, sep, value = line.partition("=")
        if sep:
            config[name.strip()] = value.strip()
    return config


def test_gunicorn_conf_takes_workers_and_timeouts_from_the_environment():
    config = gunicorn_config(WEB_CONCURRENCY="5", GUNICORN_TIMEOUT="17", PORT="8123")
    assert config["workers"] == "5"
    assert config["timeout"] == "17"
    assert config["bind"] == "['0.0.0.0:8123']"
    assert config["accesslog"] == "-"
    assert int(config["max_requests"]) > 0


def test_gunicorn_conf_defaults_to_several_workers(monkeypatch):
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("GUNICORN_TIMEOUT", raising=False)
    config = gunicorn_config()
    assert int(config["workers"]) >= 2
    assert config["timeout"] == "30"


def test_every_workload_runs_this_image_with_the_same_settings(documents, manifests):
    web = web_container(manifests["Deployment"])
    known_commands = get_commands()
    workloads = [spec for doc in documents for spec in pod_specs(doc)]
    assert len(workloads) >= 5  # web, webhooks worker, migration Job, two CronJobs
    for spec in workloads:
        for container in spec["containers"]:
            assert container["image"] == web["image"]
            assert container["envFrom"] == web["envFrom"]
            command = container["command"]
            if command[0] == "python":
                assert command[1] == "manage.py"
                assert command[2] in known_commands, command
            else:
                assert command[0] == "gunicorn"


def test_procfile_processes_run_existing_commands():
    entries = dict(
        line.split(": ", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    for process in ("release", "worker"):
        command = entries[process].split()
        assert command[:2] == ["python", "manage.py"]
        assert command[2] in get_commands(), process
