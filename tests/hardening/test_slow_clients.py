"""Slow and idle clients hold neither a connection nor the process's files for long.

A client must send its request headers within ENABLEY_HEADER_TIMEOUT_SECONDS and its body at
ENABLEY_BODY_MIN_BYTES_PER_SECOND (after ENABLEY_BODY_TIMEOUT_SECONDS of grace), or it is answered
408 and closed; a process keeps at most ENABLEY_MAX_CONNECTIONS connections, closing the one that
has waited longest without a request in progress when a new one comes. Meanwhile a well-behaved
client is served. Every scenario uses raw sockets on loopback and gives up by itself after
``BOUND`` seconds; nothing here is timed more finely than "closed within ``BOUND``".
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
from collections.abc import Iterator

import httpx2
import pytest

from tests.conftest import ScratchDatabases
from tests.hardening.harness import (
    Deployment,
    Outcome,
    Server,
    Servers,
    bearer,
    call,
    describe,
    get_token,
    provision,
    run,
)

HEADER_TIMEOUT = 2.0
BODY_TIMEOUT = 2.0
BODY_MIN_RATE = 100
BOUND = 30.0
"""Seconds within which the server must have closed what it should close, however loaded the machine."""

TRICKLERS = 150
CAP = 50
IDLE = 300
FILE_LIMIT = 256
"""The server's file limit in the cap scenario: the idle connections alone would exhaust it."""


@pytest.fixture(scope="module")
def slow_site(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    scratch = ScratchDatabases(db_backend, tmp_path_factory.mktemp(f"db-{db_backend}"))
    try:
        yield provision(scratch.new(), db_backend)
    finally:
        scratch.drop_all()


@pytest.fixture(scope="module")
def strict_server(slow_site: Deployment, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with short header and body deadlines."""
    servers = Servers(tmp_path_factory.mktemp("servers"))
    try:
        (server,) = servers.launch(
            slow_site.url,
            header_timeout_seconds=HEADER_TIMEOUT,
            body_timeout_seconds=BODY_TIMEOUT,
            body_min_bytes_per_second=BODY_MIN_RATE,
        )
        yield server
    finally:
        servers.stop_all()


async def _connect(server: Server) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", server.port)


async def _until_closed(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, trickle: bytes = b"", every: float = 0.25
) -> bytes | None:
    """Sends ``trickle`` every ``every`` seconds until the server closes the connection.

    Returns what the server answered before it closed (b"" for nothing), or None when the
    connection was still open after ``BOUND`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BOUND
    answer = b""
    try:
        while loop.time() < deadline:
            try:
                chunk = await asyncio.wait_for(reader.read(4096), every)
            except TimeoutError:
                if trickle:
                    writer.write(trickle)
                    await writer.drain()
                continue
            if not chunk:
                return answer
            answer += chunk
        return None
    except ConnectionError:
        return answer
    finally:
        writer.close()


def _timed_out(answer: bytes | None) -> bool:
    """Closed, with a 408 before the close or with nothing."""
    return answer is not None and (answer == b"" or answer.startswith(b"HTTP/1.1 408 "))


async def _served_meanwhile(server: Server, token: str, tag: str) -> list[Outcome]:
    """An ordinary client's writes and reads, a few at a time, while the slow ones are at it."""
    outcomes = []
    async with httpx2.AsyncClient(headers=bearer(token), timeout=BOUND) as client:
        for i in range(5):
            body = {"identifier": f"{tag}-{i}", "firstName": "Ana"}
            outcomes.append(await call(client, "PUT", f"{server.url}/api/v2/users", json=body))
            outcomes.append(await call(client, "GET", f"{server.url}/api/v2/users/{tag}-{i}"))
            await asyncio.sleep(0.2)
    return outcomes


def test_connections_trickling_header_lines_are_closed_while_a_client_is_served(
    slow_site: Deployment, strict_server: Server
) -> None:
    server = strict_server
    token = get_token(server.url, slow_site)

    async def scenario() -> tuple[list[bytes | None], list[Outcome]]:
        slow = [await _connect(server) for _ in range(TRICKLERS)]
        for _, writer in slow:
            writer.write(b"GET /readyz HTTP/1.1\r\nHost: enabley\r\n")
        closing = asyncio.gather(*(_until_closed(r, w, b"X-Slow: 1\r\n") for r, w in slow))
        served = await _served_meanwhile(server, token, "header")
        return await closing, served

    answers, served = run(scenario())
    assert {o.status for o in served} == {200, 201}, describe(served)
    still_open = sum(answer is None for answer in answers)
    assert still_open == 0, f"{still_open} of {TRICKLERS} header tricklers still open after {BOUND} s"
    assert all(map(_timed_out, answers)), {a[:40] for a in answers if not _timed_out(a)}


def test_a_body_slower_than_allowed_gets_408_or_a_close(slow_site: Deployment, strict_server: Server) -> None:
    server = strict_server
    token = get_token(server.url, slow_site)
    body = b'{"identifier": "slow-body", "firstName": "Slow"}'
    head = (
        b"PUT /api/v2/users HTTP/1.1\r\nHost: enabley\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    )

    async def scenario() -> tuple[list[bytes | None], list[Outcome]]:
        slow = [await _connect(server) for _ in range(5)]
        for _, writer in slow:
            writer.write(head + body[:1])
        # One byte every two seconds: far slower than BODY_MIN_RATE, and never finished in BOUND.
        closing = asyncio.gather(*(_until_closed(r, w, b" ", every=2.0) for r, w in slow))
        served = await _served_meanwhile(server, token, "body")
        return await closing, served

    answers, served = run(scenario())
    assert {o.status for o in served} == {200, 201}, describe(served)
    assert None not in answers, f"a slow body was still being read after {BOUND} s"
    assert all(map(_timed_out, answers)), {a[:40] for a in answers if not _timed_out(a)}
    assert httpx2.get(f"{server.url}/api/v2/users/slow-body", headers=bearer(token)).status_code == 404


def test_a_request_head_larger_than_allowed_gets_431(strict_server: Server) -> None:
    # Today's parser keeps every header line it is sent: 200 MB of them cost 200 MB of memory.
    line = b"X-Large: " + b"a" * 1000 + b"\r\n"

    async def scenario() -> bytes | None:
        reader, writer = await _connect(strict_server)
        writer.write(b"GET /readyz HTTP/1.1\r\nHost: enabley\r\n" + line * 100)
        return await _until_closed(reader, writer, line)

    answer = run(scenario())
    assert answer is not None, f"the server still read headers after {BOUND} s"
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert httpx2.get(f"{strict_server.url}/readyz", timeout=BOUND).status_code == 200


def test_idle_connections_beyond_the_cap_are_closed_and_the_process_stays_responsive(
    slow_site: Deployment, servers: Servers
) -> None:
    # A header timeout longer than the scenario: only the cap can close the idle connections.
    (server,) = servers.launch(slow_site.url, max_connections=CAP, header_timeout_seconds=BOUND * 2)
    token = get_token(server.url, slow_site)
    assert server.proc is not None
    resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))

    async def scenario() -> tuple[int, list[Outcome]]:
        idle = [await _connect(server) for _ in range(IDLE)]
        enough = asyncio.Event()
        closed = 0

        def one_closed(_task: asyncio.Future[bytes | None]) -> None:
            nonlocal closed
            closed += 1
            if closed >= IDLE - CAP:
                enough.set()

        watching = [asyncio.ensure_future(_until_closed(r, w)) for r, w in idle]
        for task in watching:
            task.add_done_callback(one_closed)
        try:
            served = await _served_meanwhile(server, token, "cap")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(enough.wait(), BOUND)
            return sum(t.done() and not t.cancelled() for t in watching), served
        finally:
            for task in watching:
                task.cancel()
            await asyncio.gather(*watching, return_exceptions=True)

    closed, served = run(scenario())
    assert {o.status for o in served} == {200, 201}, describe(served) + "\n" + server.log()
    assert closed >= IDLE - CAP, f"only {closed} of {IDLE} idle connections closed (cap {CAP})"
    assert httpx2.get(f"{server.url}/readyz", timeout=BOUND).status_code == 200
