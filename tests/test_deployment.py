"""The production shape: docker-compose.yml and .env.example stay in step with the settings."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import needs

REPO = Path(__file__).resolve().parent.parent


def test_compose_runs_postgres_redis_web_worker_and_beat_with_health_checks():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert "command" not in services["web"]  # the image's own command: migrate, gunicorn
    assert "gunicorn" in _dockerfile_cmd()
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]
    assert {"pgdata", "redisdata", "media"} <= set(compose["volumes"])
    env = services["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["CELERY_BROKER_URL"].startswith("redis://")
    assert env["SECRET_KEY"].startswith("${SECRET_KEY:?")  # required, no default


def _dockerfile_cmd() -> str:
    lines = (REPO / "Dockerfile").read_text().splitlines()
    line = next(ln for ln in lines if ln.startswith("CMD "))
    return " ".join(json.loads(line.removeprefix("CMD ")))


def test_the_image_collects_static_files_for_the_production_manifest_and_has_chromium():
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "DJANGO_SETTINGS_MODULE=reviewapp.settings.production" in dockerfile
    assert "collectstatic" in dockerfile and "settings.base" not in dockerfile
    assert re.search(r"apt-get install [^\n]*\bchromium\b", dockerfile)


def _compose_config(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("docker-compose")
    needs(binary is not None, "docker-compose is not installed (apt-get install docker-compose)")
    clean = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    return subprocess.run(
        [binary, "config", "-q"], cwd=REPO, capture_output=True, text=True, check=False,
        env={**clean, **env},
    )  # fmt: skip


def test_compose_file_is_valid_for_docker_compose():
    result = _compose_config({"SECRET_KEY": STRONG_KEY})
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_a_secret_key():
    result = _compose_config({})
    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr


STRONG_KEY = "Qm3v-8xT_2pLk9sWz4Rb7nYc1HdJf6Ga0UeVo5Ki-Ar_Ns2Xq8Mt3Lw"


def _production(extra_env: dict[str, str], *command: str) -> subprocess.CompletedProcess[str]:
    # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests for this process only; a deployment
    # never has it, and `check --deploy` rightly refuses it.
    drop = ("SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"DJANGO_SETTINGS_MODULE": "reviewapp.settings.production", **extra_env})
    args = command or ("-c", "import django; django.setup()")
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    "key",
    [None, "insecure-development-key-change-me", "change-me-in-production-please", "change-me",
     "short-but-random-Zx81", "a" * 60],
)  # fmt: skip
def test_production_settings_refuse_a_missing_published_or_weak_secret_key(key):
    result = _production({} if key is None else {"SECRET_KEY": key})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr and "ImproperlyConfigured" in result.stderr


def test_production_settings_start_with_a_strong_key():
    result = _production({"SECRET_KEY": STRONG_KEY})
    assert result.returncode == 0, result.stderr


def test_check_deploy_reports_nothing_with_production_settings():
    result = _production({"SECRET_KEY": STRONG_KEY}, "manage.py", "check", "--deploy",
                         "--fail-level", "WARNING")  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_api_schema_validates_without_warnings(tmp_path):
    result = _production({"SECRET_KEY": STRONG_KEY}, "manage.py", "spectacular", "--validate",
                         "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_environment_variable_the_settings_read_is_in_env_example():
    settings_text = (REPO / "reviewapp" / "settings" / "base.py").read_text()
    read = set(re.findall(r'env_(?:str|bool|int|list)\(\s*"([A-Z_]+)"', settings_text))
    documented = set(re.findall(r"^([A-Z_]+)=", (REPO / ".env.example").read_text(), re.M))
    assert read, "no settings found: the pattern is stale"
    assert read - documented == set()


def _storage_backend(extra_env: dict[str, str]) -> str:
    code = (
        "import django; django.setup(); "
        "from django.core.files.storage import storages; "
        "s = storages['default']; print(type(s).__module__ + '.' + type(s).__name__)"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("S3_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update({"DJANGO_SETTINGS_MODULE": "reviewapp.settings.dev", **extra_env})
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_uploads_go_to_media_root_unless_a_bucket_is_configured():
    assert _storage_backend({}) == "django.core.files.storage.filesystem.FileSystemStorage"
    backend = _storage_backend(
        {"S3_BUCKET": "review-files", "S3_ENDPOINT_URL": "http://127.0.0.1:9000"}
    )
    assert backend == "storages.backends.s3.S3Storage"
