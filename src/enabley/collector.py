"""The process's cycle collector, paused during bulk work.

A process-wide setting, so it lives here rather than in a domain: whoever pauses it shares the
one count with every other thread of the process, and the collector runs again, as it was, when
the last of them is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _CollectorPause:
    """Python's cycle collector held off, process-wide, while any bulk upload runs.

    An upload makes and frees millions of small containers (rows, values, plans); reference
    counting frees them all, but each allocation burst also triggers the cycle collector, whose
    full passes walk every object of the server. Measured, that was a third of an upload's time
    (bench/README.md). Cycles made meanwhile, by the upload or other requests, are collected once
    the last upload ends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._was_enabled = False

    @contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._running == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._running += 1
        try:
            yield
        finally:
            with self._lock:
                self._running -= 1
                if self._running == 0 and self._was_enabled:
                    gc.enable()


collector_paused = _CollectorPause()
