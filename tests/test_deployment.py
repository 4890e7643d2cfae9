"""The production shape: docker-compose.yml and .env.example stay in step with the settings."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import needs

REPO = Path(__file__).resolve().parent.parent


def test_compose_runs_postgres_redis_web_and_worker_with_health_checks():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "web", "worker"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert "gunicorn" in services["web"]["command"]
    assert "celery" in services["worker"]["command"]
    assert {"pgdata", "redisdata", "media"} <= set(compose["volumes"])
    env = services["web"]["environment"]
    assert env["DATABASE_URL"].startswith("postgres://")
    assert env["CELERY_BROKER_URL"].startswith("redis://")


def test_compose_file_is_valid_for_docker_compose():
    binary = shutil.which("docker-compose")
    needs(binary is not None, "docker-compose is not installed (apt-get install docker-compose)")
    result = subprocess.run(
        [binary, "config", "-q"], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


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
