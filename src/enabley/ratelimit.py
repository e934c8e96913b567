"""Rate limits (token buckets) and failed-login counters.

Both live in Redis when ENABLEY_REDIS_URL is set, so every worker and server process shares
them; otherwise in this process, in tables of bounded size that evict what was used least
recently (a flood of made-up keys or addresses never resets anyone else's count). A Redis that
can't be reached lets requests through (and says so in the log) rather than taking the API down
with it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from cachetools import LRUCache
from starlette.types import Scope

log = logging.getLogger("enabley.ratelimit")

_REFILL_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local now = redis.call('TIME')
local t = tonumber(now[1]) + tonumber(now[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or t
tokens = math.min(burst, tokens + math.max(0, t - ts) * rate)
"""

_BUCKET_LUA = (
    _REFILL_LUA
    + """
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(t))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return {allowed, tostring(tokens)}
"""
)

_PEEK_LUA = _REFILL_LUA + "return tostring(tokens)\n"

_FAILURES_LUA = """
local out = {}
for _, name in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', name) or '0')
  out[#out + 1] = n
  out[#out + 1] = n > 0 and redis.call('TTL', name) or 0
end
return out
"""

_RECORD_LUA = """
for _, name in ipairs(KEYS) do
  if redis.call('INCR', name) == 1 then redis.call('EXPIRE', name, ARGV[1]) end
end
return 0
"""

MAX_LOCAL_KEYS = 100_000
"""Entries of each in-process table: a bucket or counter takes about a hundred bytes."""


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
    async def hit(self, key: str) -> Decision | None:
        """Count one request against ``key``; None when no limit applies."""
        ...

    async def refusal(self, key: str) -> Decision | None:
        """The decision refusing a request of ``key`` now, counting nothing; None when it may go on."""
        ...


class Unlimited:
    async def hit(self, key: str) -> Decision | None:
        return None

    async def refusal(self, key: str) -> Decision | None:
        return None


class LocalBuckets:
    """Token buckets in this process: the fallback without Redis.

    Evicting the bucket used least recently only refills it early: that bucket has been idle
    the longest, so it is the one most likely full already.
    """

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: LRUCache[str, tuple[float, float]] = LRUCache(MAX_LOCAL_KEYS)

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        return min(self.burst, tokens + (now - last) * self.rate)

    async def hit(self, key: str) -> Decision | None:
        now = time.monotonic()
        tokens = self._tokens(key, now)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        self._buckets[key] = (tokens, now)
        return _decide(allowed, tokens, self.rate, self.burst)

    async def refusal(self, key: str) -> Decision | None:
        tokens = self._tokens(key, time.monotonic())
        return None if tokens >= 1 else _decide(False, tokens, self.rate, self.burst)


class RedisBuckets:
    def __init__(self, redis: Any, rate: float, burst: int, *, namespace: str = "rate") -> None:
        self.rate, self.burst = rate, burst
        self._prefix = f"enabley:{namespace}:"
        self._hit = redis.register_script(_BUCKET_LUA)
        self._peek = redis.register_script(_PEEK_LUA)

    async def hit(self, key: str) -> Decision | None:
        try:
            allowed, tokens = await self._hit(keys=[self._prefix + key], args=[self.rate, self.burst])
        except Exception as exc:
            log.warning("rate limit not applied, Redis unavailable: %s", type(exc).__name__)
            return None
        return _decide(bool(allowed), float(tokens), self.rate, self.burst)

    async def refusal(self, key: str) -> Decision | None:
        try:
            tokens = float(await self._peek(keys=[self._prefix + key], args=[self.rate, self.burst]))
        except Exception as exc:
            log.warning("rate limit not applied, Redis unavailable: %s", type(exc).__name__)
            return None
        return None if tokens >= 1 else _decide(False, tokens, self.rate, self.burst)


@lru_cache(maxsize=4096)
def _address_key(host: str) -> str:
    if ":" not in host:
        return host
    try:
        address = ipaddress.IPv6Address(host.split("%", 1)[0])
    except ValueError:
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    # One host or site is handed a whole /64: counting its addresses apart would give it 2**64 budgets.
    return f"{ipaddress.IPv6Network((address, 64), strict=False).network_address}/64"


def client_address(scope: Scope) -> str:
    """The address a request's unauthenticated work counts against (an IPv6 client by its /64)."""
    client = scope.get("client")
    return _address_key(client[0]) if client else "-"


@dataclass(frozen=True, slots=True)
class FailurePolicy:
    """When failed token requests throttle (OWASP: throttle the attacker, never lock the owner out).

    Counted per (clientKey, address), per address and per clientKey, each over a fixed window.
    A correct secret is refused only from an address that is itself throttled: for that key
    (``pair`` failures there), or for every key (``address`` failures there). A key guessed
    from many addresses is never locked; once its failures reach ``key``, each address gets one
    failure on it per window instead of ``pair``.
    """

    pair: int
    address: int
    key: int
    window: int

    def wait(self, pair: tuple[int, int], address: tuple[int, int], key: tuple[int, int]) -> int:
        """Seconds the request must wait, from each counter's (failures, seconds left); 0 to go on."""
        pair_limit = 1 if key[0] >= self.key else self.pair
        waits = [
            left for (count, left), limit in ((pair, pair_limit), (address, self.address)) if count >= limit
        ]
        return max(1, *waits) if waits else 0


@lru_cache(maxsize=1024)
def _key_digest(client_key: str) -> str:
    """clientKeys come from requests (up to 512 characters, any of them): names hold a digest,
    made once for the keys met often (SCIM's one key is checked on every SCIM request)."""
    return hashlib.blake2b(client_key.encode(), digest_size=12).hexdigest()


def _failure_names(client_key: str, address: str) -> list[str]:
    key = _key_digest(client_key)
    return [f"pair:{key}:{address}", f"addr:{address}", f"key:{key}"]


class FailureCounter(Protocol):
    policy: FailurePolicy

    async def blocked_for(self, client_key: str, address: str) -> int:
        """Seconds to wait before a token request for ``client_key`` from ``address``, else 0."""
        ...

    async def record(self, client_key: str, address: str) -> None: ...


class LocalFailures:
    def __init__(self, policy: FailurePolicy) -> None:
        self.policy = policy
        # (failures, window start); a read checks the window, and the table evicts what was used
        # least recently (an address that keeps trying keeps its count).
        self._counts: LRUCache[str, tuple[int, float]] = LRUCache(MAX_LOCAL_KEYS)

    def _current(self, name: str, now: float) -> tuple[int, float]:
        count, start = self._counts.get(name, (0, now))
        return (0, now) if now - start >= self.policy.window else (count, start)

    async def blocked_for(self, client_key: str, address: str) -> int:
        if not self._counts:
            return 0
        names = _failure_names(client_key, address)
        if not any(name in self._counts for name in names):
            # Nothing counted against any of them (what every request of a good client meets).
            return 0
        now = time.monotonic()
        counts = []
        for name in names:
            count, start = self._current(name, now)
            counts.append((count, math.ceil(start + self.policy.window - now)))
        return self.policy.wait(*counts)

    async def record(self, client_key: str, address: str) -> None:
        now = time.monotonic()
        for name in _failure_names(client_key, address):
            count, start = self._current(name, now)
            self._counts[name] = (count + 1, start)


class RedisFailures:
    def __init__(self, redis: Any, policy: FailurePolicy) -> None:
        self.policy = policy
        self._read = redis.register_script(_FAILURES_LUA)
        self._record = redis.register_script(_RECORD_LUA)

    async def blocked_for(self, client_key: str, address: str) -> int:
        names = [f"enabley:fail:{n}" for n in _failure_names(client_key, address)]
        try:
            flat = [int(v) for v in await self._read(keys=names)]
        except Exception as exc:
            log.warning("login throttling not applied, Redis unavailable: %s", type(exc).__name__)
            return 0
        return self.policy.wait((flat[0], flat[1]), (flat[2], flat[3]), (flat[4], flat[5]))

    async def record(self, client_key: str, address: str) -> None:
        names = [f"enabley:fail:{n}" for n in _failure_names(client_key, address)]
        try:
            await self._record(keys=names, args=[self.policy.window])
        except Exception as exc:
            log.warning("failed login not counted, Redis unavailable: %s", type(exc).__name__)


@dataclass(frozen=True, slots=True)
class Limits:
    clients: Limiter
    """Per API client: its calls, and (under ``token:<clientKey>``) its successful token requests."""
    anonymous: Limiter
    """Per client address: requests without a valid bearer token."""
    pdfs: Limiter
    """Per client address: certificate PDFs, whatever the request carries."""
    failures: FailureCounter


def build(settings: Any) -> Limits:
    policy = FailurePolicy(
        pair=settings.token_failure_limit,
        address=settings.token_failure_address_limit,
        key=settings.token_failure_key_limit,
        window=settings.token_failure_window_seconds,
    )
    budgets = {
        "rate": (settings.rate_limit, settings.rate_limit_burst),
        "anon": (settings.anonymous_rate_limit, settings.anonymous_rate_limit_burst),
        "pdf": (settings.pdf_rate_limit, settings.pdf_rate_limit_burst),
    }
    limiters: dict[str, Limiter] = {}
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url, socket_timeout=0.5, socket_connect_timeout=0.5)
        for name, (rate, burst) in budgets.items():
            limiters[name] = RedisBuckets(redis, rate, burst, namespace=name) if rate else Unlimited()
        failures: FailureCounter = RedisFailures(redis, policy)
    else:
        for name, (rate, burst) in budgets.items():
            limiters[name] = LocalBuckets(rate, burst) if rate else Unlimited()
        failures = LocalFailures(policy)
    return Limits(
        clients=limiters["rate"], anonymous=limiters["anon"], pdfs=limiters["pdf"], failures=failures
    )
