"""What an upload costs the process: a bounded number at once, and a body never held whole.

The body arrives as a stream and is spooled to a temporary file; the JSON is read from there a
block at a time and each file's text decoded into a temporary file of its own, so memory does
not follow the size of the body. Uploads beyond ``ENABLEY_MAX_CONCURRENT_UPLOADS`` are refused
before their body is read.
"""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator

import httpx2
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security import fuzzing
from tests.uploads.helpers import URL, body, json_headers, ok, refused, to_csv

CHUNK = 64 * 1024


def _asgi_client(app) -> httpx2.AsyncClient:
    """Requests whose bodies reach the app chunk by chunk, as they would from a socket."""
    return httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url="http://testserver")


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def _users_body(*identifiers: str) -> bytes:
    return json.dumps(body(users=to_csv(["identifier"], *[[i] for i in identifiers]))).encode()


class HeldBody:
    """A request body that sends its first bytes, then waits for ``release()`` to send the rest:
    its upload is running (reading its body) until then."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.reading = asyncio.Event()
        self.released = asyncio.Event()

    async def stream(self) -> AsyncIterator[bytes]:
        yield self.data[:10]
        # Asked for more: the server took the first bytes and is reading the body.
        self.reading.set()
        await self.released.wait()
        yield self.data[10:]


def test_uploads_beyond_the_limit_are_refused_429_before_their_body_is_read(app_with, headers):
    app = app_with(max_concurrent_uploads=2).app
    pulled: list[bytes] = []

    async def watched(data: bytes) -> AsyncIterator[bytes]:
        pulled.append(data)
        yield data

    async def scenario() -> tuple[httpx2.Response, ...]:
        held = [HeldBody(_users_body("held-1")), HeldBody(_users_body("held-2"))]
        async with _asgi_client(app) as client:
            running = [
                asyncio.create_task(client.post(URL, content=h.stream(), headers=json_headers(headers)))
                for h in held
            ]
            await asyncio.wait_for(asyncio.gather(*(h.reading.wait() for h in held)), 30)
            refusal = await client.post(
                URL, content=watched(_users_body("third")), headers=json_headers(headers)
            )
            # One at a time from here: both run on the test's one database connection.
            held[0].released.set()
            first = await running[0]
            held[1].released.set()
            second = await running[1]
            after = await client.post(
                URL, content=_chunks(_users_body("after")), headers=json_headers(headers)
            )
        return refusal, first, second, after

    refusal, first, second, after = asyncio.run(scenario())
    assert refusal.status_code == 429, refusal.text
    assert int(refusal.headers["Retry-After"]) > 0
    assert set(refusal.json()) == {"error", "error_description"}
    assert "2 uploads" in refusal.json()["error_description"]
    assert pulled == [], "the refused upload's body was read"
    assert [ok(r)["created"]["users"] for r in (first, second, after)] == [1, 1, 1]


def test_a_refused_upload_gives_its_place_back(app_with, headers):
    client = app_with(max_concurrent_uploads=1)
    bad = to_csv(["identifier", "nickname"], ["u-1", "x"])
    for _ in range(3):
        assert refused(client.post(URL, json=body(users=bad), headers=headers)) == [
            ("users.csv", 1, "nickname")
        ]
    r = client.post(URL, content=b'{"files": [', headers={**headers, "Content-Type": "application/json"})
    assert refused(r) == []
    assert ok(client.post(URL, json=body(users=to_csv(["identifier"], ["u-1"])), headers=headers))


def test_the_refusal_is_documented(app_with, headers):
    client = app_with(max_concurrent_uploads=1)
    slots = client.app.state.upload_slots
    with slots.take():
        response = client.post(URL, json=body(users="identifier\nu-1\n"), headers=headers)
    assert response.status_code == 429, response.text
    case = fuzzing.load_schema()[URL]["POST"].Case(body={"files": []})
    case.validate_response(
        response,
        checks=[
            status_code_conformance,
            content_type_conformance,
            response_headers_conformance,
            response_schema_conformance,
            fuzzing.error_response,
        ],
    )


def test_an_upload_body_is_never_held_whole_in_memory(client, headers):
    """36 MB of users.csv, refused on its header row: the Python heap grows by a small part of
    it while the request is received, parsed and answered."""
    users = "identifier,nickname\n" + "user-0000001,Ana Souza\n" * 1_500_000
    data = json.dumps(body(users=users)).encode()

    async def send() -> httpx2.Response:
        async with _asgi_client(client.app) as asgi:
            return await asgi.post(URL, content=_chunks(data), headers=json_headers(headers))

    tracemalloc.start()
    try:
        response = asyncio.run(send())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert refused(response) == [("users.csv", 1, "nickname")]
    assert peak < len(data) / 4, (
        f"{peak / 2**20:.1f} MiB at the peak for a body of {len(data) / 2**20:.1f} MiB"
    )
