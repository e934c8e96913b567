"""A worker process (``enabley worker``), or the one thread ``enabley serve`` runs beside the API."""

from __future__ import annotations

import asyncio
import signal
import threading

from enabley.config import Settings
from enabley.db.database import Database
from enabley.observability import configure_logging
from enabley.worker.context import WorkerContext
from enabley.worker.loop import Worker

POOL_SIZE = 4
"""Connections of a worker: its units of work are short, and the attempts run outside them."""


def open_database(settings: Settings) -> Database:
    return Database.for_server(
        settings.database_url,
        pool_size=POOL_SIZE,
        timeout=settings.db_timeout_seconds,
        statement_timeout=settings.statement_timeout_seconds,
    )


async def serve(settings: Settings, *, handle_signals: bool) -> None:
    """Run the worker's tasks until SIGINT or SIGTERM (when ``handle_signals``), then let the
    deliveries in flight end."""
    db = open_database(settings)
    try:
        worker = Worker(WorkerContext.open(settings, db))
        if handle_signals:
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, worker.stop.set)
        await worker.run()
    finally:
        db.dispose()


def run(settings: Settings) -> None:
    """``enabley worker``: the worker in this process, until it is told to stop."""
    configure_logging()
    asyncio.run(serve(settings, handle_signals=True))


def start_in_background(settings: Settings) -> threading.Thread:
    """The worker on a thread of its own, for ``enabley serve``; it ends with the process (a
    delivery cut short is attempted again once its lease ends)."""
    thread = threading.Thread(
        target=asyncio.run, args=(serve(settings, handle_signals=False),), name="enabley-worker", daemon=True
    )
    thread.start()
    return thread
