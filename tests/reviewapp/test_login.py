"""The login page of a demo install names the demo logins; no other install does."""

import os
import secrets
import subprocess
import sys

import pytest
from django.urls import reverse

from reviewapp.demo import DEMO_PASSWORD, load_demo
from tests.conftest import REPO
from tests.factories import MembershipFactory, UserFactory

DEMO_USERNAMES = ("lead", "reviewer1", "reviewer2", "arbiter")


def _login_page(client) -> str:
    response = client.get(reverse("login"))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_login_page_of_a_demo_install_lists_the_demo_logins(client, settings):
    settings.DEMO_LOGINS = True
    load_demo()

    page = _login_page(client)

    assert "Demo logins" in page and DEMO_PASSWORD in page
    for username in DEMO_USERNAMES:
        assert f"<code>{username}</code>" in page
    assert "<code>reviewer1</code>: reviewer" in page


@pytest.mark.django_db
def test_it_names_nobody_before_the_demo_is_loaded(client, settings, review):
    settings.DEMO_LOGINS = True
    # A real team with a user who happens to be called "lead".
    MembershipFactory(review=review, user=UserFactory(username="lead"), is_lead=True)

    page = _login_page(client)

    assert "Demo logins" not in page and DEMO_PASSWORD not in page


@pytest.mark.django_db
def test_it_names_nobody_where_demo_logins_are_off(client, settings):
    settings.DEMO_LOGINS = False
    load_demo()

    page = _login_page(client)

    assert "Demo logins" not in page and DEMO_PASSWORD not in page


@pytest.mark.django_db
def test_it_leaves_out_a_deactivated_demo_user(client, settings, django_user_model):
    settings.DEMO_LOGINS = True
    load_demo()
    django_user_model.objects.filter(username="arbiter").update(is_active=False)

    page = _login_page(client)

    assert "<code>lead</code>" in page and "<code>arbiter</code>" not in page


def test_production_settings_never_list_demo_logins_whatever_the_environment_says():
    # A key production accepts (long, not repetitive): the settings refuse weak ones.
    key = secrets.token_urlsafe(50)
    env = {**os.environ, "DEMO_LOGINS": "true", "SECRET_KEY": key}
    code = "import reviewapp.settings.production as s; print(s.DEMO_LOGINS)"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_development_settings_list_them_unless_turned_off():
    code = "import reviewapp.settings.dev as s; print(s.DEMO_LOGINS)"
    for value, expected in (("", "True"), ("false", "False")):
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=REPO,
            env={**os.environ, "DEMO_LOGINS": value},
            capture_output=True,
            text=True,
        )
        assert out.stdout.strip() == expected, out.stderr
