"""Workers claiming upload jobs on PostgreSQL: two never hold one job, and a claim in progress
is skipped, not waited for. Committed rows on connections of their own, removed at the end."""

from __future__ import annotations

import io
import json
import secrets
import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select

from enabley.db.columns import utcnow
from enabley.db.database import Database
from enabley.models import Account, Event, UploadJob
from enabley.uploads import jobs
from tests import factories


@pytest.fixture
def committed(backend: str, engine: Engine) -> Iterator[tuple[Database, int]]:
    if backend != "postgresql":
        pytest.skip("FOR UPDATE SKIP LOCKED is PostgreSQL's; SQLite has a single writer")
    database = Database(engine)
    with database.session(write=True) as session:
        account_id = factories.make_account(session).id
    try:
        yield database, account_id
    finally:
        with database.session(write=True) as session:
            session.execute(delete(Account).where(Account.id == account_id))
            session.execute(delete(Event).where(Event.account_id == account_id))


def queue_jobs(database: Database, account_id: int, count: int) -> None:
    with database.session(write=True) as session:
        for _ in range(count):
            session.add(
                UploadJob(
                    account_id=account_id,
                    job_key=secrets.token_hex(16),
                    status="queued",
                    validate_only=False,
                    body_bytes=0,
                    attempts=0,
                    rows_done=0,
                )
            )


def test_a_job_being_claimed_is_skipped_not_waited_for(committed, engine):
    database, account_id = committed
    queue_jobs(database, account_id, 1)
    now = utcnow()
    with engine.connect() as other:
        taken = other.execute(jobs.due_job(now)).first()  # another worker, mid-claim
        assert taken is not None
        assert jobs._claim(database, now) is None
        other.rollback()
    claim = jobs._claim(database, now)
    assert claim is not None and claim.job_id == taken.id
    assert jobs._claim(database, now) is None  # now running, under its lease


def test_racing_workers_claim_each_job_once(committed):
    database, account_id = committed
    queue_jobs(database, account_id, 6)
    now = utcnow()
    start = threading.Barrier(3)
    claimed: list[Any] = []

    def worker() -> None:
        start.wait()
        while (claim := jobs._claim(database, now)) is not None:
            claimed.append(claim.job_id)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(claimed) == sorted(set(claimed))
    assert len(claimed) == 6


def test_progress_is_stored_while_the_upload_runs(committed, engine, monkeypatch):
    """PostgreSQL takes a second writer while the upload's transaction is open: each report is
    committed at once (the lease renewed with it), for any process polling the job to read."""
    database, account_id = committed
    monkeypatch.setattr(jobs, "REPORT_EVERY", 0.0)
    monkeypatch.setattr("enabley.uploads.csvfiles.COUNT_EVERY", 2)
    users = "identifier\n" + "".join(f"u-{i}\n" for i in range(5))
    body = json.dumps({"files": [{"fileName": "users.csv", "content": users}]}).encode()
    with database.session(write=True) as session:
        jobs.submit_job(session, SimpleNamespace(account_id=account_id), io.BytesIO(body), False, "http://x")
    seen: list[tuple[int, int | None]] = []
    store = jobs._Progress.store

    def store_and_look(progress: Any, done: int) -> None:
        store(progress, done)
        with engine.connect() as other:
            row = other.execute(
                select(UploadJob.rows_done, UploadJob.rows_total).where(UploadJob.id == progress.claim.job_id)
            ).one()
        seen.append((row.rows_done, row.rows_total))

    monkeypatch.setattr(jobs._Progress, "store", store_and_look)
    assert jobs.run_upload_jobs(SimpleNamespace(db=database), utcnow()) == 1
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
