"""``StallWatch``: notices a PostgreSQL server that stopped answering, and frees what waits on it."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
import time
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger("enabley.db")


class StallWatch:
    """Notices a PostgreSQL server that stopped answering without closing its connections.

    A frozen server (SIGSTOP, a network partition) keeps its sockets open: the kernel acknowledges
    what is sent, so neither ``statement_timeout`` (the server's) nor TCP's own timers ever fire,
    and a statement waits forever. While a connection has been checked out of the pool for longer
    than ``grace``, this thread asks the server for a fresh connection, at most once a second. When
    that gets no answer at all in time (an error answer means the server is alive), the server is
    ``frozen``: the sockets of every connection checked out are shut down, so the statements
    waiting on them fail as a lost connection (503) and their threads are free again, and until
    the server answers a probe again, units of work are refused at once (``Database.run``) rather
    than left to wait for a connection that can't come.
    """

    def __init__(self, engine: Engine, timeout: float) -> None:
        self._engine = engine
        self.grace = min(1.0, timeout / 4)
        self.probe_timeout = max(2, math.ceil(timeout / 2))
        """libpq waits whole seconds, at least 2, for a connection."""
        self.frozen = False
        self._out: dict[int, tuple[float, Any]] = {}
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._next_probe = 0.0
        event.listen(engine, "checkout", self._checked_out)
        event.listen(engine, "checkin", self._checked_in)

    def _checked_out(self, dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        self._out[id(record)] = (time.monotonic(), dbapi_conn)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="enabley-db-watch", daemon=True)
            self._thread.start()

    def _checked_in(self, _dbapi_conn: Any, record: Any) -> None:
        self._out.pop(id(record), None)

    def close(self) -> None:
        self._closed.set()

    def _run(self) -> None:
        while not self._closed.wait(self.grace / 2):
            now = time.monotonic()
            if self.frozen:
                self._cut_all()
                if now >= self._next_probe:
                    self._next_probe = now + 1.0
                    if self._server_answers():
                        self.frozen = False
                        log.warning("database server answering again")
                continue
            stalled = any(now - since > self.grace for since, _ in list(self._out.values()))
            if not stalled or now < self._next_probe:
                continue
            self._next_probe = now + 1.0
            if not self._server_answers():
                self.frozen = True
                log.warning("database server not answering: cutting %d connections in use", len(self._out))
                self._cut_all()

    def _cut_all(self) -> None:
        for _, conn in list(self._out.values()):
            _shut_down(conn)

    def _server_answers(self) -> bool:
        dialect = self._engine.dialect
        cargs, cparams = dialect.create_connect_args(self._engine.url)
        started = time.monotonic()
        try:
            conn = dialect.loaded_dbapi.connect(*cargs, **{**cparams, "connect_timeout": self.probe_timeout})
        except Exception:
            # Refused, or "too many clients": an answer all the same. Only silence is a stall.
            return time.monotonic() - started < self.probe_timeout - 0.1
        with contextlib.suppress(Exception):
            conn.close()
        return True


def _shut_down(dbapi_conn: Any) -> None:
    """Wake whatever waits on this connection's socket, from another thread: the socket is shut
    down (not closed: the driver still owns the descriptor and closes it itself)."""
    try:
        fd = dbapi_conn.pgconn.socket
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except Exception as exc:
        log.warning("could not cut a stalled connection: %s", type(exc).__name__)
