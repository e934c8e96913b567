"""The SDK sends one Idempotency-Key per write, the same on each retry: a write whose answer was
lost is retried and runs once."""

from __future__ import annotations

import asyncio

import httpx2
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from enabley.client import AsyncClient, Client, UserData
from enabley.models import User
from tests import factories
from tests.client.mock import TOKEN_PATH, Script, error, ok

BASE = "http://testserver"


class LosesFirstAnswer(httpx2.BaseTransport):
    """Delivers every request to the app, but loses the answer to the first write: the client sees
    a read timeout after the server has done the work."""

    def __init__(self, inner: httpx2.BaseTransport) -> None:
        self.inner = inner
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self.inner.handle_request(request)
        if request.url.path == TOKEN_PATH or request.method == "GET":
            return response
        self.keys.append(request.headers.get("idempotency-key"))
        if len(self.keys) == 1:
            response.read()
            raise httpx2.ReadTimeout("the answer was lost on the way back", request=request)
        return response


def test_a_write_whose_answer_was_lost_runs_once(app, db, account, http: TestClient):
    key, secret = factories.make_client(db, account)
    transport = LosesFirstAnswer(http._transport)
    waits: list[float] = []
    with Client(BASE, key, secret, http=httpx2.Client(transport=transport), sleep=waits.append) as client:
        user, created = client.users.upsert(UserData(identifier="sdk-1", email="sdk-1@example.com"))
    assert (user.identifier, created) == ("sdk-1", True), "the first answer (201 created), replayed"
    assert len(transport.keys) == 2 and transport.keys[0] == transport.keys[1] is not None
    assert len(waits) == 1
    assert db.scalar(select(func.count()).select_from(User).where(User.external_id == "sdk-1")) == 1


def test_each_call_has_its_own_key_and_reads_have_none():
    script = Script(ok(), ok(), ok([]))
    client = Client(BASE, "key", "secret", http=httpx2.Client(transport=httpx2.MockTransport(script)))
    client.channels.force_complete("c1", "ana")
    client.channels.force_complete("c1", "ana")
    client.profiles.get_many(["p1"])
    sent = [r for r in script.requests if r.url.path != TOKEN_PATH]
    first, second, read_only = (r.headers.get("idempotency-key") for r in sent)
    assert first and second and first != second
    assert read_only is None, "a read-only POST needs no key"
    token_request = next(r for r in script.requests if r.url.path == TOKEN_PATH)
    assert "idempotency-key" not in token_request.headers


def test_the_async_client_retries_a_running_duplicate_under_the_same_key():
    running = error(409, "invalid_request", "still running", headers={"Retry_After": "1"})
    script = Script(error(503, "service_unavailable"), running, ok())
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def scenario() -> None:
        http = httpx2.AsyncClient(transport=httpx2.MockTransport(script))
        async with AsyncClient(BASE, "key", "secret", http=http, sleep=sleep) as client:
            await client.channels.force_complete("c1", "ana")

    asyncio.run(scenario())
    keys = {r.headers.get("idempotency-key") for r in script.requests if r.url.path != TOKEN_PATH}
    assert len(keys) == 1 and None not in keys
    assert len(waits) == 2 and waits[1] >= 1.0
