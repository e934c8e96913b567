"""Sending calls: the bearer token, retries with backoff, and turning answers into results or errors.

The sync and async engines share every decision (``RetryPolicy``, ``TokenCache``); only the waiting
and the sending differ.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx2
from pydantic import ValidationError

from enabley import __version__
from enabley.client._call import Call, Progress, model
from enabley.client.errors import (
    ConnectionFailed,
    InvalidResponse,
    error_from_response,
    retry_after_seconds,
)
from enabley.client.models.org import TokenResponse

T = TypeVar("T")

USER_AGENT = f"enabley-python/{__version__}"
CHUNK_SIZE = 64 * 1024
RETRY_STATUSES = frozenset({429, 503})
IDEMPOTENCY_KEY = "Idempotency-Key"

# The request never left: safe to send again whatever the method.
_NOT_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)
# The request may have reached the server: only calls that are safe to repeat are sent again.
_MAYBE_SENT = (httpx2.TimeoutException, httpx2.NetworkError, httpx2.RemoteProtocolError)


class _RedactSecret(logging.Filter):
    """httpx2 logs every request's URL at INFO, and the token request's URL carries the secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(arg) if isinstance(arg, httpx2.URL) else arg for arg in record.args)
        return True


def _redacted(url: httpx2.URL) -> httpx2.URL:
    return url.copy_set_param("secret", "***") if "secret" in url.params else url


_REDACT_SECRET = _RedactSecret()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to send a call again, and how long to wait first.

    Calls that are safe to repeat are retried on 429, 503 and connection failures: every call,
    since each write carries an ``Idempotency-Key`` (the same on each of its retries) that makes
    the server run it once and answer a retry with the first answer; a keyed call is retried on a
    409 with ``Retry-After`` too (its first attempt still runs on the server). The wait
    doubles from ``backoff`` seconds with jitter, is at least the answer's ``Retry-After``, and a
    ``Retry-After`` longer than ``max_wait`` is not waited for: the error is raised at once.
    """

    max_retries: int = 3
    backoff: float = 0.5
    max_wait: float = 60.0
    jitter: Callable[[], float] = random.random
    """A number in [0, 1): which part of the second half of each wait is spent."""

    def after_failure(self, call: Call[Any], exc: httpx2.TransportError, attempt: int) -> float | None:
        """Seconds to wait before sending again after no answer came, or ``None`` to give up."""
        if attempt >= self.max_retries:
            return None
        if isinstance(exc, _NOT_SENT) or (call.safe_to_repeat and isinstance(exc, _MAYBE_SENT)):
            return self._wait(attempt, None)
        return None

    def after_answer(self, call: Call[Any], response: httpx2.Response, attempt: int) -> float | None:
        """Seconds to wait before sending again after this answer, or ``None`` to keep it."""
        if attempt >= self.max_retries:
            return None
        still_running = response.status_code == 409 and call.keyed and "retry-after" in response.headers
        if response.status_code not in RETRY_STATUSES and not still_running:
            return None
        if not call.safe_to_repeat:
            return None
        return self._wait(attempt, retry_after_seconds(response))

    def _wait(self, attempt: int, retry_after: float | None) -> float | None:
        ceiling = min(self.max_wait, self.backoff * 2.0**attempt)
        wait = ceiling / 2 + self.jitter() * ceiling / 2
        if retry_after is None:
            return wait
        if retry_after > self.max_wait:
            return None
        return max(wait, retry_after)


@dataclass(slots=True)
class TokenCache:
    """The current access token, renewed shortly before it expires (``expires_in`` is in ms)."""

    clock: Callable[[], float]
    margin: float = 60.0
    """Renew this many seconds early (at most a tenth of the token's lifetime)."""
    _token: str | None = None
    _renew_at: float = field(default=0.0)

    def current(self) -> str | None:
        if self._token is not None and self.clock() < self._renew_at:
            return self._token
        return None

    def store(self, token: TokenResponse, requested_at: float) -> str:
        lifetime = max(token.expires_in, 0) / 1000
        self._token = token.access_token
        self._renew_at = requested_at + lifetime - min(self.margin, lifetime / 10)
        return token.access_token

    def discard(self, token: str) -> None:
        if self._token == token:
            self._token = None


@dataclass(frozen=True, slots=True)
class Settings:
    base_url: str
    client_key: str
    secret: str = field(repr=False)
    timeout: float
    retry: RetryPolicy
    clock: Callable[[], float]

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path

    def token_call(self) -> Call[TokenResponse]:
        return Call(
            "POST",
            "/api/v1/token",
            model(TokenResponse),
            params={"clientKey": self.client_key, "secret": self.secret},
            idempotent=True,
            authenticated=False,
        )


def new_idempotency_key(call: Call[Any]) -> str | None:
    """One key per call, sent on each of its attempts."""
    return str(uuid.uuid4()) if call.keyed else None


def _headers(call: Call[Any], token: str | None, key: str | None) -> dict[str, str]:
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if key is not None:
        headers[IDEMPOTENCY_KEY] = key
    if call.json is not None:
        headers["Content-Type"] = "application/json"
    return headers


def _encode(call: Call[Any]) -> bytes | None:
    if call.json is None:
        return None
    return json.dumps(call.json, ensure_ascii=False, separators=(",", ":")).encode()


def _chunks(data: bytes, progress: Progress) -> Iterator[bytes]:
    total = len(data)
    progress(0, total)
    for start in range(0, total, CHUNK_SIZE):
        chunk = data[start : start + CHUNK_SIZE]
        yield chunk
        progress(min(start + CHUNK_SIZE, total), total)


async def _achunks(data: bytes, progress: Progress) -> AsyncIterator[bytes]:
    for chunk in _chunks(data, progress):
        yield chunk


def _stale_token(response: httpx2.Response) -> bool:
    """A 401 ``access_denied``: the server no longer takes the token (expired, keys rotated...)."""
    if response.status_code != 401:
        return False
    try:
        return bool(json.loads(response.content).get("error") == "access_denied")
    except (ValueError, AttributeError, UnicodeDecodeError):
        return False


def _result(call: Call[T], response: httpx2.Response) -> T:
    if response.is_error:
        raise error_from_response(response)
    try:
        return call.read(response)
    except (ValidationError, ValueError) as exc:
        raise InvalidResponse(
            f"unexpected answer to {call.method} {call.path}: {str(exc).splitlines()[0]}",
            status=response.status_code,
            error="invalid_response",
        ) from exc


def _no_answer(call: Call[Any], settings: Settings, exc: httpx2.TransportError) -> ConnectionFailed:
    reason = str(exc) or type(exc).__name__
    return ConnectionFailed(
        f"no answer from {settings.url(call.path)}: {reason}", status=None, error="connection_failed"
    )


class SyncEngine:
    def __init__(
        self, settings: Settings, http: httpx2.Client | None, sleep: Callable[[float], None]
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http or httpx2.Client(timeout=settings.timeout)
        self._sleep = sleep
        self._tokens = TokenCache(settings.clock)
        self._lock = threading.Lock()
        logging.getLogger("httpx2").addFilter(_REDACT_SECRET)

    def send(self, call: Call[T]) -> T:
        return _result(call, self.request(call))

    def token(self) -> str:
        current = self._tokens.current()
        if current is not None:
            return current
        with self._lock:
            current = self._tokens.current()
            if current is not None:
                return current
            requested_at = self.settings.clock()
            return self._tokens.store(self.send(self.settings.token_call()), requested_at)

    def request(self, call: Call[Any]) -> httpx2.Response:
        """Send until an answer is final: the token renewed once on a 401, retries as the policy says."""
        policy, attempt, renewed = self.settings.retry, 0, False
        key = new_idempotency_key(call)
        while True:
            token = self.token() if call.authenticated else None
            try:
                response = self._send_once(call, token, key)
            except httpx2.TransportError as exc:
                wait = policy.after_failure(call, exc, attempt)
                if wait is None:
                    raise _no_answer(call, self.settings, exc) from exc
                self._sleep(wait)
                attempt += 1
                continue
            if token is not None and not renewed and _stale_token(response):
                renewed = True
                self._tokens.discard(token)
                continue
            wait = policy.after_answer(call, response, attempt)
            if wait is None:
                return response
            self._sleep(wait)
            attempt += 1

    def _send_once(self, call: Call[Any], token: str | None, key: str | None) -> httpx2.Response:
        data = _encode(call)
        headers = _headers(call, token, key)
        content: bytes | Iterator[bytes] | None = data
        if data is not None and call.progress is not None:
            headers["Content-Length"] = str(len(data))
            content = _chunks(data, call.progress)
        # Without a timeout of its own, a call keeps the HTTP client's (ours, or the one given).
        extra: dict[str, Any] = {"timeout": call.timeout} if call.timeout is not None else {}
        return self._http.request(
            call.method,
            self.settings.url(call.path),
            params=call.query(),
            headers=headers,
            content=content,
            **extra,
        )

    def close(self) -> None:
        if self._owns_http:
            self._http.close()


class AsyncEngine:
    def __init__(
        self,
        settings: Settings,
        http: httpx2.AsyncClient | None,
        sleep: Callable[[float], Awaitable[None]],
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http or httpx2.AsyncClient(timeout=settings.timeout)
        self._sleep = sleep
        self._tokens = TokenCache(settings.clock)
        self._lock = asyncio.Lock()
        logging.getLogger("httpx2").addFilter(_REDACT_SECRET)

    async def send(self, call: Call[T]) -> T:
        return _result(call, await self.request(call))

    async def token(self) -> str:
        current = self._tokens.current()
        if current is not None:
            return current
        async with self._lock:
            current = self._tokens.current()
            if current is not None:
                return current
            requested_at = self.settings.clock()
            return self._tokens.store(await self.send(self.settings.token_call()), requested_at)

    async def request(self, call: Call[Any]) -> httpx2.Response:
        """Send until an answer is final: the token renewed once on a 401, retries as the policy says."""
        policy, attempt, renewed = self.settings.retry, 0, False
        key = new_idempotency_key(call)
        while True:
            token = await self.token() if call.authenticated else None
            try:
                response = await self._send_once(call, token, key)
            except httpx2.TransportError as exc:
                wait = policy.after_failure(call, exc, attempt)
                if wait is None:
                    raise _no_answer(call, self.settings, exc) from exc
                await self._sleep(wait)
                attempt += 1
                continue
            if token is not None and not renewed and _stale_token(response):
                renewed = True
                self._tokens.discard(token)
                continue
            wait = policy.after_answer(call, response, attempt)
            if wait is None:
                return response
            await self._sleep(wait)
            attempt += 1

    async def _send_once(self, call: Call[Any], token: str | None, key: str | None) -> httpx2.Response:
        data = _encode(call)
        headers = _headers(call, token, key)
        content: bytes | AsyncIterator[bytes] | None = data
        if data is not None and call.progress is not None:
            headers["Content-Length"] = str(len(data))
            content = _achunks(data, call.progress)
        extra: dict[str, Any] = {"timeout": call.timeout} if call.timeout is not None else {}
        return await self._http.request(
            call.method,
            self.settings.url(call.path),
            params=call.query(),
            headers=headers,
            content=content,
            **extra,
        )

    async def close(self) -> None:
        if self._owns_http:
            await self._http.aclose()
