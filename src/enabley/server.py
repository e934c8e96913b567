"""The HTTP server: uvicorn with its httptools protocol, plus what it lacks against slow clients.

uvicorn bounds neither the time a client takes to send a request's headers or body, nor the size
of the headers, nor the number of connections it accepts (decision 0003). ``GuardedProtocol`` adds:

- headers: complete within ``header_timeout_seconds`` of the connection opening (or of a later
  request's first bytes on a kept-alive connection) and within ``MAX_HEAD_BYTES``; otherwise 408
  (431 for the size) and the connection is closed. A connection that sent nothing is just closed.
- body: while the server waits for it, a body must arrive within ``body_timeout_seconds`` plus one
  second per ``body_min_bytes_per_second`` received so far; otherwise 408 (when nothing has been
  answered yet) and close. The clock restarts whenever the server was the one behind (it stopped
  reading because the application had not taken what arrived).
- connections: at most ``max_connections`` per process, fewer when the process's file limit
  would not leave room for the database and files. One more closes the connection that has
  waited longest without a request in progress (idle, or still sending its headers), so that
  slow or idle connections can't lock well-behaved clients out; when every connection has a
  request in progress, the newcomer is answered 503 and closed.

A request that arrives in one read arms no timer of its own: the protections cost the hot path
a few attribute updates per request.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from prometheus_client import Counter
from uvicorn.config import Config
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from enabley.config import Settings, get_settings
from enabley.errors import error_bytes

log = logging.getLogger("enabley.server")

MAX_HEAD_BYTES = 64 * 1024
"""Request line and headers together; a token-bearing request needs a few kB."""
FILES_KEPT_FREE = 256
"""File descriptors left to the database pool, uploads' temporary files, logs and the runtime."""

CLOSED = Counter(
    "enabley_connections_closed_total",
    "Connections the server closed to protect itself",
    ["reason"],
)

_IDLE, _HEAD, _BODY = 0, 1, 2
"""Where a connection's current request is: none in progress, headers arriving, body arriving."""


def _canned(status: str, error: str, description: str, *extra: str) -> bytes:
    body = error_bytes(error, description)
    head = [f"HTTP/1.1 {status}", "content-type: application/json", f"content-length: {len(body)}"]
    head += [*extra, "connection: close", "", ""]
    return "\r\n".join(head).encode() + body


TIMED_OUT = _canned("408 Request Timeout", "request_timeout", "The request did not arrive in time")
HEAD_TOO_LARGE = _canned(
    "431 Request Header Fields Too Large",
    "invalid_request",
    f"The request line and headers exceed {MAX_HEAD_BYTES} bytes",
)
BUSY = _canned("503 Service Unavailable", "service_unavailable", "Too many connections", "retry-after: 1")


def connection_cap(wanted: int) -> int:
    """``wanted``, or fewer when the process's file limit would not leave ``FILES_KEPT_FREE``."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or wanted <= soft - FILES_KEPT_FREE:
        return wanted
    cap = max(soft - FILES_KEPT_FREE, soft // 2)
    log.warning(
        "ENABLEY_MAX_CONNECTIONS=%d does not fit the file limit of %d: at most %d connections",
        wanted,
        soft,
        cap,
    )
    return cap


class Guard:
    """What the connections of one server share: the limits, and the connections without a
    request in progress, longest waiting first."""

    def __init__(self, settings: Settings) -> None:
        self.header_timeout = settings.header_timeout_seconds
        self.body_timeout = settings.body_timeout_seconds
        self.body_min_rate = settings.body_min_bytes_per_second
        self.max_connections = connection_cap(settings.max_connections)
        self.waiting: dict[GuardedProtocol, None] = {}

    def make_room(self) -> bool:
        """Close the connection that has waited longest without a request in progress; False
        when every connection has one."""
        oldest = next(iter(self.waiting), None)
        if oldest is None:
            return False
        oldest.close_for("over_capacity", answer=None)
        return True


_guards: WeakKeyDictionary[ServerState, Guard] = WeakKeyDictionary()


def _guard(state: ServerState) -> Guard:
    guard = _guards.get(state)
    if guard is None:
        guard = _guards[state] = Guard(get_settings())
    return guard


class _Flow(FlowControl):
    """uvicorn's flow control, telling the protocol when reading resumes after a pause."""

    def __init__(self, transport: asyncio.Transport, on_resume: Callable[[], None]) -> None:
        super().__init__(transport)
        self._on_resume = on_resume

    def resume_reading(self) -> None:
        if self.read_paused:
            super().resume_reading()
            self._on_resume()


class GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with deadlines for headers and body and a connection cap."""

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.guard = _guard(server_state)
        self.phase = _IDLE
        self.timer: asyncio.TimerHandle | None = None
        self.head_bytes = 0
        self.body_since = 0.0
        self.body_bytes = 0

    # --- connections ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.flow = _Flow(transport, self._reading_resumed)
        guard = self.guard
        if len(self.connections) > guard.max_connections and not guard.make_room():
            CLOSED.labels("refused").inc()
            transport.write(BUSY)
            transport.close()
            return
        guard.waiting[self] = None
        self.timer = self.loop.call_later(guard.header_timeout, self._expired)

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.waiting.pop(self, None)
        self._disarm()
        super().connection_lost(exc)

    def close_for(self, reason: str, *, answer: bytes | None) -> None:
        """Close the connection, first writing ``answer`` if there is one; the application, if a
        request is in progress, sees the client disconnect."""
        CLOSED.labels(reason).inc()
        self.guard.waiting.pop(self, None)
        self._disarm()
        if answer is not None:
            self.transport.write(answer)
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.disconnected = True
            cycle.message_event.set()
        self.transport.close()

    # --- reads and the parser's callbacks -------------------------------------------------------

    # Called for every request: each costs a few attribute updates, no timer, when the request
    # arrives in one read.

    def data_received(self, data: bytes) -> None:
        HttpToolsProtocol.data_received(self, data)
        phase = self.phase
        if phase == _IDLE or self.transport.is_closing():
            return
        if phase == _HEAD:
            self.head_bytes += len(data)
            if self.head_bytes > MAX_HEAD_BYTES:
                self.close_for("head_too_large", answer=HEAD_TOO_LARGE)
            elif self.timer is None:
                self.timer = self.loop.call_later(self.guard.header_timeout, self._expired)
        elif self.timer is None:
            # The headers came in this read (or the server resumed reading): the body's clock
            # starts now.
            self.body_since = self.loop.time()
            self._arm_body_deadline()

    def on_message_begin(self) -> None:
        HttpToolsProtocol.on_message_begin(self)
        self.phase = _HEAD
        self.head_bytes = 0

    def on_headers_complete(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.guard.waiting.pop(self, None)
        self.phase = _BODY
        self.body_bytes = 0
        HttpToolsProtocol.on_headers_complete(self)

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)
        HttpToolsProtocol.on_body(self, body)

    def on_message_complete(self) -> None:
        self.phase = _IDLE
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        HttpToolsProtocol.on_message_complete(self)
        cycle = self.cycle
        if cycle is not None and cycle.response_complete and not self.transport.is_closing():
            # Answered before its body was read: uvicorn's keep-alive timer was cancelled by the
            # body's bytes, so the idle connection gets a deadline here.
            self._now_idle()
            self.timer = self.loop.call_later(self.guard.header_timeout, self._expired)

    def on_response_complete(self) -> None:
        HttpToolsProtocol.on_response_complete(self)
        if self.phase == _IDLE and self.cycle.response_complete and not self.transport.is_closing():
            self._now_idle()

    def _now_idle(self) -> None:
        # Re-inserted: the dict's order is the order in which connections became idle.
        waiting = self.guard.waiting
        waiting.pop(self, None)
        waiting[self] = None

    # --- deadlines ------------------------------------------------------------------------------

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _reading_resumed(self) -> None:
        # The server stopped reading, not the client: its body clock starts again.
        self.body_since = self.loop.time()
        self.body_bytes = 0

    def _body_due(self) -> float:
        guard = self.guard
        return self.body_since + guard.body_timeout + self.body_bytes / guard.body_min_rate

    def _arm_body_deadline(self) -> None:
        self.timer = self.loop.call_at(self._body_due(), self._expired)

    def _expired(self) -> None:
        self.timer = None
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if self.phase != _BODY:
            # A half-sent request is answered, unless the one before it still is being answered;
            # a connection that sent nothing is just closed.
            idle = cycle is None or cycle.response_complete
            self.close_for("header_timeout", answer=TIMED_OUT if self.phase == _HEAD and idle else None)
            return
        if self.flow.read_paused:
            self._reading_resumed()
        if self.loop.time() < self._body_due():
            self._arm_body_deadline()
            return
        answered = cycle is not None and cycle.response_started
        self.close_for("body_timeout", answer=None if answered else TIMED_OUT)


def run(*, host: str, port: int, workers: int = 1) -> None:
    """Serve ``create_app`` with the protections above: ``enabley serve`` starts here. Each worker
    process reads its settings from the environment, as the application does."""
    import uvicorn

    uvicorn.run(
        "enabley.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http="enabley.server:GuardedProtocol",
        # The API has no WebSocket route: an upgrade would only leave the protections above.
        ws="none",
        access_log=False,
        log_level="warning",
        server_header=False,
    )
