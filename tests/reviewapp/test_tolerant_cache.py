"""With its Redis unreachable the cache misses instead of failing the request."""

import pytest
from django.core.cache import caches

from tests.integration.test_outbox import _free_port


@pytest.fixture
def unreachable(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "reviewapp.common.cache.TolerantRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_free_port()}/0",  # nothing listens there
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    return caches["default"]


def test_an_unreachable_cache_misses_and_drops_writes(unreachable):
    unreachable.set("progress", {"percent": 5})
    assert unreachable.get("progress", "missing") == "missing"
    assert unreachable.add("counter", 1) is False
    assert unreachable.get_many(["a", "b"]) == {}
    assert unreachable.touch("counter") is False
    unreachable.delete("counter")
    with pytest.raises(ValueError):
        unreachable.incr("counter")  # what a missing key raises: callers handle it already
