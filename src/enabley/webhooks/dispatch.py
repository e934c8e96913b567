"""The worker's side of deliveries: attempts kept in flight, claimed and recorded in batches."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from functools import partial

import httpx2

from enabley.config import Settings
from enabley.db.database import Database
from enabley.webhooks import delivery, metrics
from enabley.webhooks.delivery import Claimed
from enabley.webhooks.rules import Outcome
from enabley.webhooks.signing import SecretBox


class Dispatcher:
    """Keeps up to ``ENABLEY_WEBHOOK_CONCURRENCY`` attempts in flight on one connection pool.

    ``step`` records the outcomes that arrived since the last step in one transaction, then claims
    as many due deliveries as there are free slots in another, and starts their attempts. Both
    wait for a batch: claims until a quarter of the slots are free, outcomes until a quarter of
    the slots have one or ``RECORD_AFTER`` has passed, so that a busy queue costs a transaction
    per batch rather than one per delivery.
    """

    RECORD_AFTER = 0.05
    """Seconds an outcome may wait for others to be recorded with it."""

    def __init__(
        self, db: Database, box: SecretBox, settings: Settings, http: httpx2.AsyncClient | None = None
    ) -> None:
        self.db = db
        self.box = box
        self.timeout = settings.webhook_timeout_seconds
        self.concurrency = settings.webhook_concurrency
        self.held_for = delivery.lease(self.timeout)
        self.http = http or delivery.client(
            timeout=self.timeout,
            concurrency=self.concurrency,
            allow_private=settings.webhook_allow_private_networks,
        )
        self.wake = asyncio.Event()
        """Set when an attempt ends: the worker loop has an outcome to record."""
        self._in_flight: set[asyncio.Task[None]] = set()
        self._done: list[tuple[Claimed, Outcome]] = []
        self._first_done = 0.0
        self._batch = max(1, self.concurrency // 4)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def waiting(self) -> float | None:
        """How long until the outcomes held back are due to be recorded (None: none are)."""
        if not self._done:
            return None
        return max(0.0, self._first_done + self.RECORD_AFTER - time.monotonic())

    async def step(self, now: datetime) -> int:
        """Record what ended, start what is due; returns how many deliveries it handled."""
        handled = 0
        if len(self._done) >= self._batch or not self._in_flight or self.waiting == 0.0:
            handled = await self._record(now)
        free = self.concurrency - len(self._in_flight)
        if free >= self._batch:
            claimed = await self.db.run(partial(self._claim, now, free))
            for item in claimed:
                task = asyncio.create_task(self._attempt(item))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            handled += len(claimed)
        return handled

    def _claim(self, now: datetime, limit: int) -> list[Claimed]:
        with self.db.session(write=True) as session:
            return delivery.claim_due(session, self.box, now, limit, self.held_for)

    async def _attempt(self, item: Claimed) -> None:
        outcome = await delivery.attempt(self.http, item, self.timeout)
        if not self._done:
            self._first_done = time.monotonic()
        self._done.append((item, outcome))
        self.wake.set()

    async def _record(self, now: datetime) -> int:
        if not self._done:
            return 0
        done, self._done = self._done, []

        def unit() -> dict[str, int]:
            with self.db.session(write=True) as session:
                return delivery.record(session, done, now)

        try:
            counts = await self.db.run(unit)
        except BaseException:
            # Kept for the next step; should this process end first, the leases run out and the
            # deliveries are attempted again.
            self._done[:0] = done
            raise
        metrics.count_outcomes(counts)
        return len(done)

    async def drain(self, now: datetime) -> None:
        """Let the attempts in flight end, and record them."""
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._record(now)

    async def aclose(self) -> None:
        await self.http.aclose()
