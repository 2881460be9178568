"""Production mode refuses unsafe configuration; check --deploy is clean."""

import json
import os

import pytest

from portal.ops.env import production_problems, require_production_environment
from tests.ops.conftest import STRONG_SECRET, production_env, run_manage, run_python

VALID = {
    "SECRET_KEY": STRONG_SECRET,
    "DATABASE_URL": "postgres://u@db:5432/wallets",
    "ALLOWED_HOSTS": "wallet.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://wallet.example.com",
}


def test_a_complete_environment_has_no_problems():
    assert production_problems(VALID) == []
    require_production_environment(VALID)


@pytest.mark.parametrize("missing", sorted(VALID))
def test_each_missing_variable_is_named(missing):
    env = {k: v for k, v in VALID.items() if k != missing}
    problems = production_problems(env)
    assert len(problems) == 1
    assert problems[0].startswith(missing)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", "short"),
        ("SECRET_KEY", "insecure-development-key-change-me"),
        ("SECRET_KEY", "django-insecure-" + "x" * 60),
        ("DATABASE_URL", "sqlite:///db.sqlite3"),
        ("DATABASE_URL", "mysql://u@db/wallets"),
        ("ALLOWED_HOSTS", "*"),
        ("ALLOWED_HOSTS", "wallet.example.com,*"),
        ("ALLOWED_HOSTS", ".example.com"),
        ("CSRF_TRUSTED_ORIGINS", "https://*.example.com"),
        ("CSRF_TRUSTED_ORIGINS", "wallet.example.com"),
        ("DATABASE_REPLICA_URL", "sqlite:///replica.sqlite3"),
        ("TRUSTED_PROXY_COUNT", "one"),
        ("TRUSTED_PROXY_COUNT", "-1"),
        ("WEBHOOK_ALLOW_LOCALHOST_HTTP", "true"),
        ("DB_STATEMENT_TIMEOUT", "5s"),
        ("DB_COMMAND_LOCK_TIMEOUT", "-3"),
    ],
)
def test_unsafe_values_are_refused_naming_the_variable(name, value):
    problems = production_problems(
        {**VALID, name: value}, dev_secret_key="insecure-development-key-change-me"
    )
    assert len(problems) == 1
    assert problems[0].startswith(name)


def test_debug_on_is_refused_in_production():
    problems = production_problems({**VALID, "DEBUG": "true"})
    assert [p.split()[0] for p in problems] == ["DEBUG"]


def test_several_problems_are_reported_together():
    with pytest.raises(Exception) as excinfo:
        require_production_environment({"ALLOWED_HOSTS": "*"})
    message = str(excinfo.value)
    for name in ("SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"):
        assert name in message


SHOW_SETTINGS = """
import django, json
django.setup()
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ENGINE": settings.DATABASES["default"]["ENGINE"],
    "ALIASES": sorted(settings.DATABASES),
    "ROUTERS": list(getattr(settings, "DATABASE_ROUTERS", [])),
    "CACHE": settings.CACHES["default"]["BACKEND"],
    "SESSION_ENGINE": settings.SESSION_ENGINE,
    "HSTS": settings.SECURE_HSTS_SECONDS,
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "CONN_MAX_AGE": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "HEALTH_CHECKS": settings.DATABASES["default"]["CONN_HEALTH_CHECKS"],
}))
"""


def show_settings(env):
    result = run_python(SHOW_SETTINGS, env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_with_nothing_set_it_runs_in_debug_on_sqlite():
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DATABASE_URL",
            "DEBUG",
            "DJANGO_ENV",
            "SECRET_KEY",
            "ALLOWED_HOSTS",
            "CSRF_TRUSTED_ORIGINS",
            "REDIS_URL",
            "DATABASE_REPLICA_URL",
        }
    }
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    shown = show_settings(env)
    assert shown["DEBUG"] is True
    assert shown["ENGINE"] == "django.db.backends.sqlite3"
    assert shown["ALIASES"] == ["default"]
    assert shown["CACHE"] == "django.core.cache.backends.locmem.LocMemCache"
    assert shown["SESSION_COOKIE_SECURE"] is False


def test_production_settings_turn_on_https_redis_and_persistent_connections():
    shown = show_settings(production_env())
    assert shown["DEBUG"] is False
    assert shown["ENGINE"] == "django.db.backends.postgresql"
    assert shown["HSTS"] >= 31536000
    assert shown["SESSION_COOKIE_SECURE"] is True
    assert shown["CACHE"] == "django.core.cache.backends.redis.RedisCache"
    assert shown["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"
    assert shown["CONN_MAX_AGE"] > 0
    assert shown["HEALTH_CHECKS"] is True


def test_replica_url_adds_the_replica_and_its_router():
    shown = show_settings(
        production_env(DATABASE_REPLICA_URL="postgres://reader@replica:5432/wallets")
    )
    assert shown["ALIASES"] == ["default", "replica"]
    assert shown["ROUTERS"] == ["portal.ops.db.ReplicaRouter"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SECRET_KEY", None),
        ("DATABASE_URL", None),
        ("DATABASE_URL", "sqlite:///prod.sqlite3"),
        ("ALLOWED_HOSTS", None),
        ("ALLOWED_HOSTS", "*"),
        ("CSRF_TRUSTED_ORIGINS", None),
    ],
)
def test_production_refuses_to_start_naming_the_variable(name, value):
    result = run_manage("check", env=production_env(**{name: value}))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_debug_false_alone_is_production_mode():
    env = production_env(DJANGO_ENV=None, DEBUG="false", SECRET_KEY=None)
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNING" not in result.stderr


def test_check_deploy_warns_when_the_cache_is_per_process():
    result = run_manage("check", "--deploy", env=production_env(REDIS_URL=None))
    assert "portal.W001" in result.stdout + result.stderr


def test_build_mode_collects_hashed_static_files_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY"}}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DJANGO_ENV="build",
        STATIC_ROOT=str(tmp_path),
        # Even if set, build mode serves no host.
        ALLOWED_HOSTS="wallet.example.com",
    )
    result = run_manage("collectstatic", "--noinput", env=env)
    assert result.returncode == 0, result.stderr
    manifest = json.loads((tmp_path / "staticfiles.json").read_text())
    hashed = manifest["paths"]["admin/css/base.css"]
    assert hashed != "admin/css/base.css"
    assert (tmp_path / hashed).is_file()
    assert (tmp_path / f"{hashed}.gz").is_file()

    shown = show_settings(env)
    assert shown["DEBUG"] is False
    hosts = run_python(
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.ALLOWED_HOSTS)",
        env,
    )
    assert hosts.stdout.strip() == "[]"
