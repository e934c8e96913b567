"""Webhook fixtures: a loopback receiver, and a worker on the test's own transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from enabley.db.columns import utcnow
from enabley.db.database import Database
from enabley.deps import AppContext
from enabley.webhooks.dispatch import Dispatcher
from enabley.webhooks.signing import secret_box
from enabley.worker.context import WorkerContext
from enabley.worker.loop import Worker
from enabley.worker.tasks import MAINTENANCE, TASKS
from tests.webhooks.receiver import Receiver, running

HOOKS = "/api/admin/v1/webhooks"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running() as receiver:
        yield receiver


class Driver:
    """A worker whose clock the test sets: ``run(now)`` makes one pass and waits for the attempts
    it started, recorded at ``now``."""

    def __init__(self, context: AppContext, db: Database, **settings: Any) -> None:
        self.settings = context.settings.model_copy(update={"webhook_timeout_seconds": 2.0, **settings})
        self.db = db
        self.keyring = context.keyring
        self.loop = asyncio.new_event_loop()
        self.worker = self.loop.run_until_complete(self._open())

    async def _open(self) -> Worker:
        dispatcher = Dispatcher(self.db, secret_box(self.keyring), self.settings)
        # The maintenance tasks commit on connections of their own, outside the test's transaction.
        tasks = [task for task in TASKS if task not in MAINTENANCE]
        return Worker(WorkerContext(self.settings, self.db, self.keyring, dispatcher), tasks)

    def run(self, now: datetime | None = None) -> int:
        now = now or utcnow()

        async def once() -> int:
            done = await self.worker.run_once(now)
            await self.worker.context.dispatcher.drain(now)
            return done

        return self.loop.run_until_complete(once())

    def close(self) -> None:
        self.loop.run_until_complete(self.worker.context.dispatcher.aclose())
        self.loop.close()


@pytest.fixture
def driver(db: Session, context: AppContext, app_database: Database) -> Iterator[Callable[..., Driver]]:
    made: list[Driver] = []

    def make(**settings: Any) -> Driver:
        made.append(Driver(context, app_database, **settings))
        return made[-1]

    yield make
    for d in made:
        d.close()


def put_hook(
    client: TestClient, headers: dict[str, str], url: str, identifier: str = "crm", **body: Any
) -> Any:
    response = client.put(HOOKS, json={"identifier": identifier, "url": url, **body}, headers=headers)
    assert response.status_code in (200, 201), response.text
    return response.json()
