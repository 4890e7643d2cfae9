"""Named personas on one review: lead, screener_a, screener_b, arbiter, viewer, outsider."""

import os
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, ReviewFactory, UserFactory

REPO = Path(__file__).resolve().parent.parent
# shared/ lies beside the checkout; REVIEWAPP_SHARED_DIR points elsewhere (e.g. a git worktree).
SHARED = Path(os.environ.get("REVIEWAPP_SHARED_DIR") or REPO.parent / "shared")
SHARED_SCREENING = SHARED / "data" / "screening"
# Real database exports, trimmed, with their sources in tests/fixtures/README.md.
SHARED_REFERENCES = SHARED / "data" / "references"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
REQUIRE_SERVICES = os.environ.get("REVIEWAPP_REQUIRE_SERVICES") == "1"


def needs(condition: bool, reason: str) -> None:
    """Skip locally when a service is missing; in CI (REVIEWAPP_REQUIRE_SERVICES=1) fail."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"CI requires this: {reason}")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def review(db):
    return ReviewFactory(title="One-to-one peer support in mental health services")


@pytest.fixture
def lead(review):
    return MembershipFactory(review=review, user=UserFactory(username="lead"), is_lead=True).user


@pytest.fixture
def screener_a(review):
    return MembershipFactory(
        review=review, user=UserFactory(username="screener_a"), is_reviewer=True
    ).user


@pytest.fixture
def screener_b(review):
    return MembershipFactory(
        review=review, user=UserFactory(username="screener_b"), is_reviewer=True
    ).user


@pytest.fixture
def arbiter(review):
    return MembershipFactory(
        review=review, user=UserFactory(username="arbiter"), is_arbiter=True
    ).user


@pytest.fixture
def viewer(review):
    return MembershipFactory(review=review, user=UserFactory(username="viewer")).user


@pytest.fixture
def outsider(db):
    return UserFactory(username="outsider")


@pytest.fixture
def client_for(client):
    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    def login(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return login
