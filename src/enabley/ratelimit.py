"""Rate limits per API client (token buckets) and failed-login counters.

Both live in Redis when ENABLEY_REDIS_URL is set, so every worker and server process shares
them; otherwise in this process. A Redis that can't be reached lets requests through (and says
so in the log) rather than taking the API down with it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

log = logging.getLogger("enabley.ratelimit")

_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - ts) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(t))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, tostring(tokens)}
"""

_FAILURE_LUA = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('TTL', KEYS[1])}
"""


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int
    """Seconds until the bucket is full again."""
    retry_after: int
    """Seconds until the next request is allowed (0 when it is)."""

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]


def _decide(allowed: bool, tokens: float, rate: float, burst: int) -> Decision:
    return Decision(
        allowed=allowed,
        limit=burst,
        remaining=max(0, math.floor(tokens)),
        reset=math.ceil((burst - tokens) / rate),
        retry_after=0 if allowed else max(1, math.ceil((1 - tokens) / rate)),
    )


class Limiter(Protocol):
    async def hit(self, key: str) -> Decision | None: ...


class Unlimited:
    async def hit(self, key: str) -> Decision | None:
        return None


class LocalBuckets:
    """Token buckets in this process: the fallback without Redis."""

    MAX_KEYS = 100_000

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}

    async def hit(self, key: str) -> Decision | None:
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        if len(self._buckets) >= self.MAX_KEYS:
            self._buckets.clear()
        self._buckets[key] = (tokens, now)
        return _decide(allowed, tokens, self.rate, self.burst)


class RedisBuckets:
    def __init__(self, redis: Any, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._script = redis.register_script(_BUCKET_LUA)

    async def hit(self, key: str) -> Decision | None:
        try:
            allowed, tokens = await self._script(keys=[f"enabley:rate:{key}"], args=[self.rate, self.burst])
        except Exception as exc:
            log.warning("rate limit not applied, Redis unavailable: %s", type(exc).__name__)
            return None
        return _decide(bool(allowed), float(tokens), self.rate, self.burst)


class FailureCounter(Protocol):
    async def blocked_for(self, keys: list[str]) -> int:
        """Seconds to wait when any key reached the limit, else 0."""
        ...

    async def record(self, keys: list[str]) -> None: ...


class LocalFailures:
    MAX_KEYS = 100_000

    def __init__(self, limit: int, window: int) -> None:
        self.limit, self.window = limit, window
        self._counts: dict[str, tuple[int, float]] = {}

    def _current(self, key: str, now: float) -> tuple[int, float]:
        count, start = self._counts.get(key, (0, now))
        return (0, now) if now - start >= self.window else (count, start)

    async def blocked_for(self, keys: list[str]) -> int:
        now = time.monotonic()
        waits = [
            math.ceil(start + self.window - now)
            for key in keys
            for count, start in [self._current(key, now)]
            if count >= self.limit
        ]
        return max(waits, default=0)

    async def record(self, keys: list[str]) -> None:
        now = time.monotonic()
        if len(self._counts) >= self.MAX_KEYS:
            self._counts.clear()
        for key in keys:
            count, start = self._current(key, now)
            self._counts[key] = (count + 1, start)


class RedisFailures:
    def __init__(self, redis: Any, limit: int, window: int) -> None:
        self.limit, self.window = limit, window
        self._redis = redis
        self._script = redis.register_script(_FAILURE_LUA)

    async def blocked_for(self, keys: list[str]) -> int:
        try:
            names = [f"enabley:fail:{k}" for k in keys]
            counts = await self._redis.mget(names)
            waits = []
            for name, count in zip(names, counts, strict=True):
                if count is not None and int(count) >= self.limit:
                    waits.append(max(1, int(await self._redis.ttl(name))))
            return max(waits, default=0)
        except Exception as exc:
            log.warning("login throttling not applied, Redis unavailable: %s", type(exc).__name__)
            return 0

    async def record(self, keys: list[str]) -> None:
        try:
            for key in keys:
                await self._script(keys=[f"enabley:fail:{key}"], args=[self.window])
        except Exception as exc:
            log.warning("failed login not counted, Redis unavailable: %s", type(exc).__name__)


def build(settings: Any) -> tuple[Limiter, FailureCounter]:
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        limiter: Limiter = (
            RedisBuckets(redis, settings.rate_limit, settings.rate_limit_burst)
            if settings.rate_limit
            else Unlimited()
        )
        return limiter, RedisFailures(
            redis, settings.token_failure_limit, settings.token_failure_window_seconds
        )
    limiter = (
        LocalBuckets(settings.rate_limit, settings.rate_limit_burst) if settings.rate_limit else Unlimited()
    )
    return limiter, LocalFailures(settings.token_failure_limit, settings.token_failure_window_seconds)
