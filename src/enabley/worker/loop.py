"""The worker's loop: every task in turn, a short sleep when none had anything to do."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from enabley.db.columns import utcnow
from enabley.worker.context import WorkerContext
from enabley.worker.tasks import TASKS, Task

log = logging.getLogger("enabley.worker")

IDLE_SECONDS = 0.5
"""How long the loop sleeps when no task had work: the longest an event waits to be noticed."""
FAILURE_PAUSE = timedelta(seconds=5)
IDLE = timedelta(seconds=IDLE_SECONDS)
"""How long a task that failed (the database down, say) is left alone before it runs again."""


class Worker:
    """Runs ``tasks`` until ``stop`` is set, then lets the deliveries in flight end."""

    def __init__(self, context: WorkerContext, tasks: Sequence[Task] = TASKS) -> None:
        self.context = context
        self.tasks = tasks
        self.stop = asyncio.Event()
        self._last_run: dict[str, datetime] = {}
        self._paused_until: dict[str, datetime] = {}
        self._idle: set[str] = set()

    async def run_once(self, now: datetime | None = None) -> int:
        """One pass over the tasks that are due; returns how much they did together."""
        now = now or utcnow()
        done = 0
        for task in self.tasks:
            if not self._due(task, now):
                continue
            self._last_run[task.name] = now
            self._idle.discard(task.name)
            try:
                did = await task.run(self.context, now)
                done += did
            except Exception:
                log.exception("worker task failed", extra={"fields": {"task": task.name}})
                self._paused_until[task.name] = now + FAILURE_PAUSE
                continue
            if did == 0 and task.backs_off:
                self._idle.add(task.name)
        return done

    def _due(self, task: Task, now: datetime) -> bool:
        if now < self._paused_until.get(task.name, now):
            return False
        last = self._last_run.get(task.name)
        if last is None:
            return True
        # A task that found nothing to do waits a little before it looks again, while others work.
        every = task.every or (IDLE if task.name in self._idle else None)
        return every is None or now - last >= every

    async def run(self) -> None:
        dispatcher = self.context.dispatcher
        wake = dispatcher.wake
        while not self.stop.is_set():
            if await self.run_once() == 0:
                wake.clear()
                held = dispatcher.waiting
                pause = IDLE_SECONDS if held is None else min(held, IDLE_SECONDS)
                stop = asyncio.ensure_future(self.stop.wait())
                woken = asyncio.ensure_future(wake.wait())
                await asyncio.wait({stop, woken}, timeout=pause, return_when=asyncio.FIRST_COMPLETED)
                for waiter in (stop, woken):
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter
        await self.context.dispatcher.drain(utcnow())
        await self.context.dispatcher.aclose()
