"""Every task a worker runs, in the order it runs them: the one list to add a task to.

A task is a plain function ``task(context, now) -> int`` returning how much it did (0: nothing
was waiting). Synchronous tasks run on a thread, off the worker's event loop; the webhook
deliveries are asynchronous, to keep many attempts in flight on one connection pool.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from enabley import idempotency
from enabley.events import log
from enabley.webhooks import fanout, metrics

if TYPE_CHECKING:
    from enabley.worker.context import WorkerContext

SyncTask = Callable[["WorkerContext", datetime], int]
AsyncTask = Callable[["WorkerContext", datetime], Awaitable[int]]


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    func: SyncTask | AsyncTask
    every: timedelta | None = None
    """None: at every pass of the loop; else at most this often."""

    async def run(self, context: WorkerContext, now: datetime) -> int:
        if inspect.iscoroutinefunction(self.func):
            return int(await self.func(context, now))
        result: Any = await asyncio.to_thread(self.func, context, now)
        return int(result)


def sequence_events(context: WorkerContext, now: datetime) -> int:
    """Number the committed events of the change log (one batch per pass)."""
    with context.db.session(write=True) as session:
        return log.number_waiting(session.connection())


def fan_out(context: WorkerContext, now: datetime) -> int:
    """Turn newly numbered events into deliveries for the endpoints that want them."""
    with context.db.session(write=True) as session:
        return fanout.fan_out(session, now)


async def deliver(context: WorkerContext, now: datetime) -> int:
    """Record finished attempts and start the due ones."""
    return await context.dispatcher.step(now)


def observe_webhooks(context: WorkerContext, now: datetime) -> int:
    """The queue's depth and oldest wait, for /metrics (never counts as work)."""
    with context.db.session() as session:
        metrics.observe_queue(session, now)
    return 0


def purge_idempotency_keys(context: WorkerContext, now: datetime) -> int:
    """Forget the idempotency keys older than a day (lookups ignore them already): an hour's worth
    at a time, in one short transaction."""
    with context.db.session(write=True) as session:
        return idempotency.purge_idempotency_keys(session.connection(), now)


TASKS: tuple[Task, ...] = (
    Task("sequence events", sequence_events),
    Task("fan out events", fan_out),
    Task("deliver webhooks", deliver),
    Task("observe webhooks", observe_webhooks, every=timedelta(seconds=15)),
    Task("purge idempotency keys", purge_idempotency_keys, every=timedelta(hours=1)),
)
