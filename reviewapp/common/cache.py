"""A Redis cache that an unreachable Redis turns into a cache miss instead of an error.

The cache holds what can be lost: import and archive progress, the dashboard's version counter,
throttle counters. In the documented deployment it shares its Redis with the Celery broker, so
when that Redis is down a page that saves work must still answer (the work itself waits in the
outbox): reads miss, writes are dropped, and the log says so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

T = TypeVar("T")
DOWN = (RedisConnectionError, RedisTimeoutError)


def _tolerant(call: Callable[[], T], fallback: T) -> T:
    try:
        return call()
    except DOWN as exc:
        logger.warning("cache unavailable (%s); carrying on without it", exc)
        return fallback


class TolerantRedisCacheClient(RedisCacheClient):
    def add(self, key: Any, value: Any, timeout: Any) -> bool:
        return _tolerant(
            lambda: super(TolerantRedisCacheClient, self).add(key, value, timeout), False
        )

    def get(self, key: Any, default: Any) -> Any:
        return _tolerant(lambda: super(TolerantRedisCacheClient, self).get(key, default), default)

    def set(self, key: Any, value: Any, timeout: Any) -> None:
        _tolerant(lambda: super(TolerantRedisCacheClient, self).set(key, value, timeout), None)

    def touch(self, key: Any, timeout: Any) -> bool:
        return _tolerant(lambda: super(TolerantRedisCacheClient, self).touch(key, timeout), False)

    def delete(self, key: Any) -> bool:
        return _tolerant(lambda: super(TolerantRedisCacheClient, self).delete(key), False)

    def get_many(self, keys: Any) -> dict[Any, Any]:
        return _tolerant(lambda: super(TolerantRedisCacheClient, self).get_many(keys), {})

    def has_key(self, key: Any) -> bool:
        return _tolerant(lambda: super(TolerantRedisCacheClient, self).has_key(key), False)

    def incr(self, key: Any, delta: int) -> int:
        result = _tolerant(lambda: super(TolerantRedisCacheClient, self).incr(key, delta), None)
        if result is None:
            raise ValueError(f"Key '{key}' not found.")  # what a missing key raises
        return int(result)

    def set_many(self, data: Mapping[Any, Any], timeout: Any) -> None:
        _tolerant(lambda: super(TolerantRedisCacheClient, self).set_many(data, timeout), None)

    def delete_many(self, keys: Any) -> None:
        _tolerant(lambda: super(TolerantRedisCacheClient, self).delete_many(keys), None)


class TolerantRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = TolerantRedisCacheClient
