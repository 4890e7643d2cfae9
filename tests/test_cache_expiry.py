"""Cache keys made per review, record or import expire; none is kept forever."""

import ast
import time

import pytest

from analysis import services
from tests.conftest import REPO

APPS = ("reviewapp", "screening", "extraction", "analysis")
WRITES = {"set", "add", "set_many", "get_or_set", "touch"}


def _cache_writes_without_expiry() -> list[str]:
    found = []
    for app in APPS:
        for path in (REPO / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr in WRITES
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id == "cache"
                ):
                    continue
                timeout = next((k.value for k in node.keywords if k.arg == "timeout"), None)
                if timeout is None or (isinstance(timeout, ast.Constant) and timeout.value is None):
                    found.append(f"{path.relative_to(REPO)}:{node.lineno}")
    return found


def test_every_cache_write_names_its_expiry():
    # Spelled out as timeout=, and never None, which keeps the key for good.
    assert _cache_writes_without_expiry() == []


@pytest.mark.django_db
def test_the_dashboard_counter_expires_and_never_repeats_a_value(review, monkeypatch):
    monkeypatch.setattr(services, "REVIEW_VERSION_TTL", 1)
    services.bump_review_version(review.pk)
    services.bump_review_version(review.pk)
    seen = services.review_version(review.pk)
    assert seen != 0

    time.sleep(1.5)
    assert services.review_version(review.pk) == 0  # nothing left behind for this review

    services.bump_review_version(review.pk)
    assert services.review_version(review.pk) not in (0, seen)
