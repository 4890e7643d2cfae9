"""The image's own steps, run here: collectstatic with the production settings (the Dockerfile's
RUN line), then the image's command (migrate, gunicorn), then a signed-in walk of the main
pages. Without collected static files every page fails, and so must the health check."""

import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from django.urls import reverse

from tests.conftest import needs
from tests.populated import populate

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parent.parent.parent
PASSWORD = "walk-the-production-pages-2026"

# Page name -> the populated review's URL keywords it takes.
PAGES = {
    "review_list": (), "api_tokens": (),
    "review_detail": ("review_pk",), "review_settings": ("review_pk",), "team": ("review_pk",),
    "review_history": ("review_pk",), "library": ("review_pk",), "imports": ("review_pk",),
    "import_detail": ("review_pk", "batch_pk"), "record_detail": ("review_pk", "record_pk"),
    "duplicates": ("review_pk",), "screening_home": ("review_pk",),
    "conflicts": ("review_pk", "stage"), "prisma": ("review_pk",),
    "fulltext_list": ("review_pk",), "extraction_home": ("review_pk",),
    "extraction_outcomes": ("review_pk",), "extraction_form_builder": ("review_pk", "form_pk"),
    "rob_home": ("review_pk",), "dashboard": ("review_pk",), "analysis_list": ("review_pk",),
    "analysis_detail": ("review_pk", "analysis_pk"), "summary_of_findings": ("review_pk",),
}  # fmt: skip


def _dockerfile() -> tuple[dict[str, str], str, str]:
    """The image's ENV, its collectstatic RUN command and its CMD, as written in Dockerfile."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    collect = next(
        ln for ln in text.splitlines() if ln.startswith("RUN ") and "collectstatic" in ln
    )
    cmd = next(ln for ln in text.splitlines() if ln.startswith("CMD "))
    argv = json.loads(cmd.removeprefix("CMD "))
    assert argv[:2] == ["sh", "-c"], "the test runs the image's command through sh"
    return env, collect.removeprefix("RUN "), argv[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Image:
    """The image's steps on this machine: its ENV, with paths under tmp and our database."""

    def __init__(self, tmp_path: Path) -> None:
        image_env, self.collect, self.cmd = _dockerfile()
        db = connection.settings_dict
        self.env = {
            **os.environ,
            **image_env,
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",  # python, gunicorn
            "STATIC_ROOT": str(tmp_path / "staticfiles"),
            "MEDIA_ROOT": str(tmp_path / "media"),
            "SECRET_KEY": secrets.token_urlsafe(50),
            "DATABASE_URL": (
                f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}"
                f":{db['PORT'] or 5432}/{db['NAME']}"
            ),
            "ALLOWED_HOSTS": "127.0.0.1",
            # Plain HTTP on localhost, as docker-compose.yml's defaults.
            "SECURE_COOKIES": "false",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_HSTS_SECONDS": "0",
            "WEB_CONCURRENCY": "1",
        }
        self.env.pop("DEMO_LOGINS", None)
        self.servers: list[subprocess.Popen] = []
        # A file, not a pipe: nobody reads a pipe while the test runs, and once its buffer is
        # full of tracebacks gunicorn blocks writing its log.
        self.log = tmp_path / "gunicorn.log"

    def collectstatic(self) -> None:
        subprocess.run(["sh", "-c", self.collect], cwd=REPO, env=self.env, check=True,
                       capture_output=True)  # fmt: skip
        assert (Path(self.env["STATIC_ROOT"]) / "staticfiles.json").exists()

    def serve(self) -> str:
        port = _free_port()
        log = self.log.open("ab")
        server = subprocess.Popen(
            ["sh", "-c", self.cmd], cwd=REPO, env={**self.env, "PORT": str(port)},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self.servers.append(server)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"the image's command exited:\n{self.log.read_text()[-5000:]}")
            try:
                requests.get(f"{base}/healthz", timeout=10)
                return base
            except (requests.ConnectionError, requests.Timeout):  # migrating, or booting
                time.sleep(0.3)
        pytest.fail("gunicorn did not answer")

    def stop(self) -> None:
        for server in self.servers:
            if server.poll() is None:
                os.killpg(server.pid, signal.SIGTERM)
                server.wait(timeout=30)


@pytest.fixture
def image(tmp_path):
    needs(connection.vendor == "postgresql", "the production settings need PostgreSQL")
    built = Image(tmp_path)
    yield built
    built.stop()


def _set_password(user) -> None:
    # The suite hashes with MD5 for speed; the production settings accept only their own.
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    user.save(update_fields=["password"])


def _login(base: str, username: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}{reverse('login')}", timeout=30)
    assert page.status_code == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert token, "the login page has no CSRF token"
    response = session.post(
        f"{base}{reverse('login')}",
        data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": token[1]},
        headers={"Referer": f"{base}{reverse('login')}"},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def test_the_image_serves_every_main_page_to_a_signed_in_lead(image):
    populated = populate()
    _set_password(populated.lead)
    image.collectstatic()
    base = image.serve()
    assert requests.get(f"{base}/healthz", timeout=30).status_code == 200
    session = _login(base, populated.lead.username)
    ids = {**populated.ids, "stage": "ta"}
    statics: set[str] = set()
    for name, keys in PAGES.items():
        response = session.get(base + reverse(name, kwargs={k: ids[k] for k in keys}), timeout=60)
        assert response.status_code == 200, f"{name}: {response.status_code}"
        statics.update(re.findall(r'(?:href|src)="(/static/[^"]+)"', response.text))
    # The pages name the hashed, collected files, and WhiteNoise serves them.
    assert statics and all(re.search(r"\.[0-9a-f]{12}\.", path) for path in statics)
    for path in sorted(statics):
        assert session.get(base + path, timeout=30).status_code == 200, path


def test_without_collected_static_files_the_health_check_fails_with_the_pages(image):
    populated = populate()
    _set_password(populated.lead)
    base = image.serve()  # collectstatic never ran: the manifest is missing
    health = requests.get(f"{base}/healthz", timeout=30)
    assert health.status_code == 503 and "unhealthy" in health.text
    page = requests.get(f"{base}{reverse('login')}", timeout=30)
    assert page.status_code == 500
