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

from sqlalchemy import Connection

from enabley import idempotency
from enabley.compliance import tallies
from enabley.db.engine import WRITE_OPTION
from enabley.events import expiry, log
from enabley.uploads import jobs as upload_jobs
from enabley.webhooks import delivery, fanout, metrics

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
    backs_off: bool = True
    """Having found nothing to do, wait a moment before looking again (while other tasks work)."""

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


def purge_deliveries(context: WorkerContext, now: datetime) -> int:
    """Forget deliveries that ended more than 30 days ago (one batch per pass)."""
    with context.db.session(write=True) as session:
        return delivery.purge_finished(session, now)


def recount_compliance(context: WorkerContext, now: datetime) -> int:
    """Bring the compliance tallies up to date for the learners marked since (one batch per pass)."""
    with context.db.session(write=True) as session:
        return tallies.recount_waiting(session)


def purge_compliance_tallies(context: WorkerContext, now: datetime) -> int:
    """Forget the compliance tallies that came down to nothing (never counts as work)."""
    with context.db.session(write=True) as session:
        tallies.purge_empty(session)
    return 0


def purge_idempotency_keys(context: WorkerContext, now: datetime) -> int:
    """Forget the idempotency keys older than a day (lookups ignore them already): an hour's worth
    at a time, in one short transaction."""
    with context.db.session(write=True) as session:
        return idempotency.purge_idempotency_keys(session.connection(), now)


def _writing_connection(context: WorkerContext) -> Connection:
    """A connection of the worker's engine for functions that commit their own transactions,
    allowed to write (the engine's transactions are read-only unless asked, decision 0007)."""
    options: dict[str, Any] = {WRITE_OPTION: True}
    if context.db.dialect == "postgresql":
        options["postgresql_readonly"] = False
    return context.db.engine.connect().execution_options(**options)


def sweep_certificate_expiries(context: WorkerContext, now: datetime) -> int:
    """Emit certificate.about_to_expire and certificate.expired as they come due."""
    with _writing_connection(context) as connection:
        return expiry.sweep_expiries(connection, now, context.settings.cert_expiry_warning_days)


def purge_events(context: WorkerContext, now: datetime) -> int:
    """Forget the change log's events older than ENABLEY_EVENT_RETENTION_DAYS."""
    with _writing_connection(context) as connection:
        return log.purge(connection, now, context.settings.event_retention_days)


MAINTENANCE: tuple[Task, ...] = (
    Task("sweep certificate expiries", sweep_certificate_expiries, every=timedelta(minutes=1)),
    Task("purge events", purge_events, every=timedelta(hours=1)),
)
"""Tasks on connections of their own, which commit as they go (not on a test's transaction)."""

TASKS: tuple[Task, ...] = (
    Task("sequence events", sequence_events),
    Task("fan out events", fan_out),
    # Every pass: it records the attempts that ended since the last one.
    Task("deliver webhooks", deliver, backs_off=False),
    Task("observe webhooks", observe_webhooks, every=timedelta(seconds=15)),
    Task("purge webhook deliveries", purge_deliveries, every=timedelta(minutes=10)),
    # On a thread of its own: an upload of a minute does not hold up the deliveries.
    Task("run upload jobs", upload_jobs.BackgroundUploads()),
    Task("purge upload jobs", upload_jobs.purge_upload_jobs, every=timedelta(hours=1)),
    Task("purge idempotency keys", purge_idempotency_keys, every=timedelta(hours=1)),
    Task("recount compliance", recount_compliance),
    Task("purge compliance tallies", purge_compliance_tallies, every=timedelta(hours=1)),
    *MAINTENANCE,
)
