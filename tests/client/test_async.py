"""The AsyncClient: against the real application through an ASGI transport, and a scripted server."""

from __future__ import annotations

import asyncio

import httpx2
import pytest

from enabley.client import AsyncClient, ChannelData, NotFound, UserData
from tests.client.conftest import BASE_URL, FakeClock
from tests.client.mock import Script, error, ok, user


def test_async_client_against_the_application(app, client, credentials, page_size):
    page_size(2)
    key, secret = credentials

    async def scenario() -> None:
        http = httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app))
        async with http, AsyncClient(BASE_URL, key, secret, http=http) as sdk:
            for i in range(5):
                _, created = await sdk.users.upsert(
                    UserData(identifier=f"a{i}", email=f"a{i}@acme.example.com")
                )
                assert created
            assert [u.identifier async for u in sdk.users.iter(email_substring="@acme")] == [
                f"a{i}" for i in range(5)
            ]
            assert [len(p.items) async for p in sdk.users.pages()] == [2, 2, 1]
            assert (await sdk.users.get("a3")).email == "a3@acme.example.com"
            await sdk.channels.upsert(ChannelData(identifier="c1", name="Course"))
            await sdk.channels.assign_user("c1", "a1")
            assert await sdk.channels.count_learners("c1") == 1
            with pytest.raises(NotFound):
                await sdk.users.get("nobody")
        assert http.is_closed

    asyncio.run(scenario())


def test_async_retries_wait_with_the_given_sleep_and_renew_refused_tokens():
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    script = Script(
        error(503, "service_unavailable"),
        error(429, "access_denied", headers={"Retry_After": "3"}),
        error(401, "access_denied"),
        ok(user()),
        error(503, "service_unavailable"),
        ok(),
    )

    async def scenario() -> None:
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(script))
        sdk = AsyncClient(
            "https://lms.example.com", "k", "s", http=http, sleep=sleep, jitter=lambda: 0.0, clock=FakeClock()
        )
        assert (await sdk.users.get("ana")).identifier == "ana"
        # A write carries an Idempotency-Key, the same on its retry: retried like a read.
        await sdk.channels.force_complete("c1", "ana")
        await http.aclose()

    asyncio.run(scenario())
    assert sleeps == [0.25, 3.0, 0.25]
    assert script.bearers == ["Bearer t1", "Bearer t1", "Bearer t1", "Bearer t2", "Bearer t2", "Bearer t2"]
