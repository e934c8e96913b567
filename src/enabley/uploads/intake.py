"""What an upload costs before it is checked: a place among those the process runs at once, then
its body, spooled to a temporary file as it arrives.

An upload holds its body on disk and a few megabytes in memory (``body.py``), and a thread and
a database connection for as long as it runs; the number running at once is capped per process
(``ENABLEY_MAX_CONCURRENT_UPLOADS``), and one more is refused before a byte of its body is read.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from enabley.errors import TooManyRequests
from enabley.observability import RATE_LIMITED

IN_MEMORY = 1024 * 1024
"""Bytes of a body kept in memory: a smaller body never touches the disk."""
WRITE_BATCH = 256 * 1024
"""Bytes received before they are written, in the thread pool rather than on the event loop."""
RETRY_AFTER_SECONDS = 10
"""What a refused upload is told to wait: about what an upload of 100,000 users takes."""


class UploadSlots:
    """How many uploads this process runs at once. Taken and given back on the event loop."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.running = 0

    @contextmanager
    def take(self) -> Iterator[None]:
        """A place for one upload, for the block's duration; 429 when every place is taken."""
        if self.running >= self.limit:
            RATE_LIMITED.labels("uploads").inc()
            raise TooManyRequests(
                f"This server runs at most {self.limit} uploads at once, and all are running; "
                f"retry in {RETRY_AFTER_SECONDS} s",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1


async def spool(request: Request) -> IO[bytes]:
    """The request's body in a temporary file (rewound), in memory up to ``IN_MEMORY`` bytes.

    Writes go through the thread pool ``WRITE_BATCH`` bytes at a time, not on the event loop. A
    client that leaves before its body is complete raises ``ClientDisconnect``; the request
    limits' refusals (413, a NUL byte) are raised from here too.
    """
    body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY)  # noqa: SIM115 (the caller closes it)
    pending: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            pending.append(chunk)
            size += len(chunk)
            if size >= WRITE_BATCH:
                await run_in_threadpool(body.write, b"".join(pending))
                pending, size = [], 0
        await run_in_threadpool(body.write, b"".join(pending))
        body.seek(0)
    except BaseException:
        body.close()
        raise
    return body
