"""Locks: a write that cannot get the database's lock in time is told so, and nobody else waits.

SQLite has one writer at a time: while another transaction holds the write lock (a big upload
committing, here a connection of the test's own), a write waits up to ENABLEY_DB_TIMEOUT_SECONDS
and then answers 503 with Retry-After. On PostgreSQL the same holds for a table another
transaction has locked (``lock_timeout``). The wait happens off the event loop: reads keep being
answered meanwhile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import ScratchDatabases
from tests.hardening.harness import Deployment, Server, Servers, bearer, call, describe, get_token, provision

DB_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def lock_site(
    db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Deployment, Server]]:
    scratch = ScratchDatabases(db_backend, tmp_path_factory.mktemp(f"db-{db_backend}"))
    servers = Servers(tmp_path_factory.mktemp("servers"))
    try:
        deployment = provision(scratch.new(), db_backend)
        (server,) = servers.launch(deployment.url, db_timeout_seconds=DB_TIMEOUT)
        yield deployment, server
    finally:
        servers.stop_all()
        scratch.drop_all()


@contextmanager
def write_lock_held(deployment: Deployment) -> Iterator[None]:
    """Another transaction holds what a user write needs, until the block ends."""
    url = make_url(deployment.url)
    if deployment.backend == "sqlite":
        conn = sqlite3.connect(url.database, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("LOCK TABLE users IN EXCLUSIVE MODE"))
            yield
            conn.rollback()
    finally:
        engine.dispose()


def test_a_write_that_cannot_get_the_lock_answers_503_while_reads_are_served(lock_site):
    deployment, server = lock_site
    token = get_token(server.url, deployment)
    seed = f"lock-{uuid.uuid4().hex[:8]}"

    async def scenario():
        async with httpx2.AsyncClient(headers=bearer(token), timeout=DB_TIMEOUT + 20) as client:
            created = await call(client, "PUT", f"{server.url}/api/v2/users", json={"identifier": seed})
            assert created.status == 201, describe([created])
            with write_lock_held(deployment):
                started = time.monotonic()
                write = asyncio.create_task(
                    client.put(f"{server.url}/api/v2/users", json={"identifier": f"{seed}-blocked"})
                )
                reads = []
                while not write.done():
                    reads.append(await call(client, "GET", f"{server.url}/api/v2/users/{seed}"))
                answer = await write
                waited = time.monotonic() - started
            after = await call(
                client, "PUT", f"{server.url}/api/v2/users", json={"identifier": f"{seed}-after"}
            )
            return answer, waited, reads, after

    answer, waited, reads, after = asyncio.run(scenario())
    assert answer.status_code == 503, answer.text
    body = answer.json()
    assert body["error"] == "service_unavailable"
    assert "lock" in body["error_description"], body
    assert int(answer.headers["Retry-After"]) >= 1
    assert waited >= DB_TIMEOUT
    # Served while the write waited, not queued behind it.
    served = [r for r in reads if r.started + r.elapsed < reads[0].started + waited - 0.2]
    assert len(served) >= 5 and all(r.status == 200 for r in served), describe(reads)
    assert after.status == 201, describe([after])
