"""The HTTP protocol's deadlines, in-process, where a server process can't show them exactly.

tests/hardening/test_slow_clients.py shows the protections from outside, against a real server;
these show the two cases where a deadline must (not) apply however the reads fall: a body the
application is slow to take is not the client's fault, and a connection answered before its body
arrived still gets closed once idle. Nothing is timed more finely than "within ``BOUND``".
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState

from enabley import server
from enabley.config import Settings

BOUND = 20.0
BODY = 200_000


class Transport(asyncio.Transport):
    """What the protocol writes, and whether it closed; ``on_resume`` runs when it reads again."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.answered = asyncio.Event()
        """Set once a response's head was written, or the connection closed."""
        self.closed = asyncio.Event()
        self.paused = False
        self.on_resume: Any = None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 40000)}.get(name, default)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)
        if b"\r\n\r\n" in self.written:
            self.answered.set()

    def is_closing(self) -> bool:
        return self.closed.is_set()

    def close(self) -> None:
        self.closed.set()
        self.answered.set()

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False
        if self.on_resume is not None:
            asyncio.get_running_loop().call_soon(self.on_resume)
            self.on_resume = None


def connect(app: Any, monkeypatch: pytest.MonkeyPatch, **settings: Any) -> tuple[Any, Transport]:
    monkeypatch.setattr(server, "get_settings", lambda: Settings(**settings))
    config = Config(app=app, http=server.GuardedProtocol, lifespan="off", log_level="warning")
    config.load()
    protocol = server.GuardedProtocol(config=config, server_state=ServerState(), app_state={})
    transport = Transport()
    protocol.connection_made(transport)
    return protocol, transport


def test_a_body_the_application_is_slow_to_take_is_not_timed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[int] = []

    async def slow_reader(scope: Any, receive: Any, send: Any) -> None:
        # Busy for many body deadlines before it reads: the server stops reading meanwhile.
        await asyncio.sleep(1.0)
        size, more = 0, True
        while more:
            message = await receive()
            size, more = size + len(message.get("body", b"")), message.get("more_body", False)
        received.append(size)
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> Transport:
        protocol, transport = connect(
            slow_reader, monkeypatch, body_timeout_seconds=0.1, body_min_bytes_per_second=1_000_000
        )
        head = f"PUT /x HTTP/1.1\r\nHost: enabley\r\nContent-Length: {BODY}\r\n\r\n".encode()
        protocol.data_received(head + b"a" * (BODY // 2))
        assert transport.paused, "more than uvicorn buffers: it stops reading"
        transport.on_resume = lambda: protocol.data_received(b"a" * (BODY // 2))
        await asyncio.wait_for(transport.answered.wait(), BOUND)
        return transport

    transport = asyncio.run(scenario())
    assert transport.written.startswith(b"HTTP/1.1 200 "), transport.written[:80]
    assert received == [BODY]


def test_a_connection_answered_before_its_body_arrived_is_closed_once_idle(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def refuses(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 401, "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    async def scenario() -> Transport:
        protocol, transport = connect(refuses, monkeypatch, header_timeout_seconds=0.2)
        protocol.data_received(b"PUT /x HTTP/1.1\r\nHost: enabley\r\nContent-Length: 4\r\n\r\nab")
        await asyncio.wait_for(transport.answered.wait(), BOUND)
        protocol.data_received(b"cd")  # the rest of the body, after the answer; then nothing
        await asyncio.wait_for(transport.closed.wait(), BOUND)
        return transport

    transport = asyncio.run(scenario())
    assert transport.written.startswith(b"HTTP/1.1 401 ")
