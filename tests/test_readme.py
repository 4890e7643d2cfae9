"""The README's first minutes stay true to the code."""

from reviewapp.demo import DEMO_PASSWORD, DEMO_USERS
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def test_the_readme_gives_the_demo_logins_the_demo_creates():
    assert f"`{DEMO_PASSWORD}`" in README
    for username, _email, _roles in DEMO_USERS:
        assert f"`{username}`" in README


def test_the_readme_says_how_to_choose_the_port():
    assert "make run PORT=" in README
    assert "PORT ?= 8000" in (REPO / "Makefile").read_text()
