"""Named personas on one review: lead, screener_a, screener_b, arbiter, viewer, outsider."""

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

from tests.factories import MembershipFactory, ReviewFactory, UserFactory
from tests.skip_guard import (  # noqa: F401 -- the hooks are used by pytest, by name
    THIRD_PARTY_LEFT_OUT,
    pytest_sessionfinish,
    pytest_terminal_summary,
)

REPO = Path(__file__).resolve().parent.parent
# The shared data sets live beside the checkout (as in CI); a checkout elsewhere, such as a git
# worktree, names the folder in REVIEWAPP_SHARED_DIR.
SHARED = Path(os.environ.get("REVIEWAPP_SHARED_DIR") or REPO.parent / "shared")
SHARED_SCREENING = SHARED / "data" / "screening"
# Real database exports, trimmed, with their sources in tests/fixtures/README.md.
SHARED_REFERENCES = SHARED / "data" / "references"
NO_SHARED_DATA = (
    f"the shared data sets are not in {SHARED} "
    "(put shared/ beside the checkout or set REVIEWAPP_SHARED_DIR)"
)
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out tests of third-party exports when shared/data/references is absent.

    Those files come from public repositories under their own licences, so this repository
    does not carry them (tests/fixtures/README.md names each source); the hand-written records
    in each database's shape still run everywhere. Deselecting is not skipping: the summary
    says how many were left out and why, and CI runs them once shared/ holds the folder.
    """
    if SHARED_REFERENCES.is_dir():
        return
    kept = [item for item in items if item.get_closest_marker("third_party_data") is None]
    left_out = [item for item in items if item.get_closest_marker("third_party_data")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
        config.stash[THIRD_PARTY_LEFT_OUT] = len(left_out)


# Speed is measured in benchmarks/, never asserted in tests: Hypothesis's 200 ms deadline per
# example failed property tests whenever other suites shared the two cores.
hypothesis_settings.register_profile("reviewapp", deadline=None)
hypothesis_settings.load_profile("reviewapp")
# The accounting identity (tests/test_accounting_identity.py): 500 short random histories of a
# review, each at most ten steps, so that CI runs many histories rather than a few long ones.
hypothesis_settings.register_profile(
    "accounting",
    parent=hypothesis_settings.get_profile("reviewapp"),
    max_examples=500,
    stateful_step_count=10,
    suppress_health_check=list(HealthCheck),
    database=None,
)


def require_services() -> bool:
    """CI's mode: whatever a test needs must be there."""
    return os.environ.get("REVIEWAPP_REQUIRE_SERVICES") == "1"


def needs(condition: bool, reason: str) -> None:
    """Skip locally when a service, tool or data set is missing; in CI
    (REVIEWAPP_REQUIRE_SERVICES=1) fail, so a green run means everything ran."""
    if condition:
        return
    if require_services():
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
