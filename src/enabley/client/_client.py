"""``Client`` and ``AsyncClient``: the entry points, one attribute per resource group."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any

import httpx2

from enabley.client._call import Call, QueryValue
from enabley.client._transport import AsyncEngine, RetryPolicy, Settings, SyncEngine
from enabley.client.resources.admin import Admin, AsyncAdmin
from enabley.client.resources.certificates import AsyncCertificates, Certificates
from enabley.client.resources.channels import AsyncChannels, AsyncMasters, Channels, Masters
from enabley.client.resources.groups import AsyncGroups, Groups
from enabley.client.resources.performance import AsyncCatalog, AsyncPerformance, Catalog, Performance
from enabley.client.resources.profiles import AsyncEntitlements, AsyncProfiles, Entitlements, Profiles
from enabley.client.resources.uploads import AsyncUploads, Uploads
from enabley.client.resources.users import AsyncUsers, Users

DEFAULT_TIMEOUT = 30.0


def _settings(
    base_url: str,
    client_key: str,
    secret: str,
    timeout: float,
    retry: RetryPolicy,
    clock: Callable[[], float],
) -> Settings:
    if not base_url.startswith(("http://", "https://")):
        raise ValueError(f"base_url must start with http:// or https://, not {base_url!r}")
    return Settings(base_url.rstrip("/"), client_key, secret, timeout, retry, clock)


def _raw(method: str, path: str, params: Mapping[str, QueryValue] | None, json: Any) -> Call[httpx2.Response]:
    if not path.startswith("/"):
        path = "/" + path
    return Call(method.upper(), path, lambda response: response, params=params or {}, json=json)


class Client:
    """A client of an Enabley-compatible server.

    ``Client("https://lms.example.com", client_key, secret)`` fetches an access token on the first
    call and renews it shortly before it expires (or once, when the server refuses it). Calls that
    are safe to repeat are retried on 429, 503 and connection failures, ``max_retries`` times at
    most, waiting ``backoff`` seconds doubled each time (with jitter, and at least the server's
    Retry-After). Every failure raises an ``EnableyError``.

    ``http`` is an ``httpx2.Client`` to send through (e.g. Starlette's ``TestClient(app)``); it is
    then left open. ``clock``, ``sleep`` and ``jitter`` exist so that tests need not wait.
    """

    def __init__(
        self,
        base_url: str,
        client_key: str,
        secret: str,
        *,
        http: httpx2.Client | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        retry = RetryPolicy(max_retries=max_retries, backoff=backoff, max_wait=max_wait, jitter=jitter)
        settings = _settings(base_url, client_key, secret, timeout, retry, clock)
        self._engine = SyncEngine(settings, http, sleep)
        self.users = Users(self._engine)
        self.groups = Groups(self._engine)
        self.profiles = Profiles(self._engine)
        self.entitlements = Entitlements(self._engine)
        self.channels = Channels(self._engine)
        self.masters = Masters(self._engine)
        self.catalog = Catalog(self._engine)
        self.certificates = Certificates(self._engine)
        self.performance = Performance(self._engine)
        self.uploads = Uploads(self._engine)
        self.admin = Admin(self._engine)

    @property
    def base_url(self) -> str:
        return self._engine.settings.base_url

    def token(self) -> str:
        """The current access token, fetched or renewed when needed."""
        return self._engine.token()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
    ) -> httpx2.Response:
        """Any call, with the token and retries handled: the answer as it came, errors included."""
        return self._engine.request(_raw(method, path, params, json))

    def close(self) -> None:
        """Close the HTTP client, unless it was given."""
        self._engine.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncClient:
    """The asyncio twin of ``Client``: the same resource groups, whose methods are awaited and whose
    ``iter()``/``pages()`` are async iterators. ``http`` is an ``httpx2.AsyncClient``."""

    def __init__(
        self,
        base_url: str,
        client_key: str,
        secret: str,
        *,
        http: httpx2.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        retry = RetryPolicy(max_retries=max_retries, backoff=backoff, max_wait=max_wait, jitter=jitter)
        settings = _settings(base_url, client_key, secret, timeout, retry, clock)
        self._engine = AsyncEngine(settings, http, sleep)
        self.users = AsyncUsers(self._engine)
        self.groups = AsyncGroups(self._engine)
        self.profiles = AsyncProfiles(self._engine)
        self.entitlements = AsyncEntitlements(self._engine)
        self.channels = AsyncChannels(self._engine)
        self.masters = AsyncMasters(self._engine)
        self.catalog = AsyncCatalog(self._engine)
        self.certificates = AsyncCertificates(self._engine)
        self.performance = AsyncPerformance(self._engine)
        self.uploads = AsyncUploads(self._engine)
        self.admin = AsyncAdmin(self._engine)

    @property
    def base_url(self) -> str:
        return self._engine.settings.base_url

    async def token(self) -> str:
        return await self._engine.token()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
    ) -> httpx2.Response:
        return await self._engine.request(_raw(method, path, params, json))

    async def aclose(self) -> None:
        await self._engine.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()
