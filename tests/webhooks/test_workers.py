"""Worker processes (``enabley worker``) on a committed database: two never send one delivery at
once, and one killed mid-delivery loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from enabley import migrate
from enabley.config import Settings
from enabley.db.columns import utcnow
from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.events import log
from enabley.models import WebhookDelivery
from enabley.security import KeyRing, ensure_server_keys
from enabley.webhooks import delivery, fanout, service
from enabley.webhooks.schemas import WebhookData
from enabley.webhooks.signing import secret_box
from enabley.worker import process, tasks
from enabley.worker.context import WorkerContext
from tests import factories
from tests.conftest import ScratchDatabases
from tests.webhooks.receiver import Receiver, Reply, running

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def world(scratch: ScratchDatabases) -> Iterator[tuple[str, Database]]:
    url = scratch.new()
    migrate.upgrade(url)
    db = Database(make_engine(url, pool_size=2))
    yield url, db
    db.dispose()


def populate(db: Database, url: str, receiver: Receiver, events: int) -> str:
    """An account whose one endpoint wants every event, and ``events`` events committed; the secret."""
    settings = Settings(database_url=url)
    with db.session(write=True) as session:
        ensure_server_keys(session, settings)
    keyring = KeyRing(settings)
    with db.session(write=True) as session:
        keyring.load(session)
        account = factories.make_account(session)
        info, _ = service.put_webhook(
            session, account, WebhookData(identifier="all", url=receiver.url), secret_box(keyring)
        )
        for n in range(events):
            log.emit(session, account.id, "user.created", {"identifier": f"user-{n}"})
    assert info.secret is not None
    return info.secret


def start_worker(url: str, workdir: Path, name: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENABLEY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
    env.update(
        ENABLEY_DATABASE_URL=url,
        ENABLEY_WEBHOOK_ALLOW_PRIVATE_NETWORKS="true",
        ENABLEY_WEBHOOK_TIMEOUT_SECONDS="0.5",
        ENABLEY_WEBHOOK_CONCURRENCY="8",
    )
    with (workdir / f"{name}.log").open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "enabley", "worker"], env=env, stdout=out, stderr=subprocess.STDOUT
        )


def wait_for(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def undelivered(db: Database, events: int) -> int:
    with db.session() as session:
        total, delivered = session.execute(
            select(func.count(), func.count().filter(WebhookDelivery.status == "delivered"))
        ).one()
    return events - delivered if total == events else events


def stop(*procs: subprocess.Popen[bytes]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_claim_skips_the_deliveries_another_worker_holds(backend, world):
    if backend != "postgresql":
        pytest.skip("SQLite has one writer: a second claim waits for the first to commit")
    url, db = world
    with running() as receiver:
        populate(db, url, receiver, 20)
    keyring = KeyRing(Settings(database_url=url))
    now = utcnow()
    with db.session(write=True) as session:
        keyring.load(session)
        log.number_waiting(session.connection())
    with db.session(write=True) as session:
        fanout.fan_out(session, now)
    box, lease = secret_box(keyring), timedelta(seconds=30)
    with db.session(write=True) as first:
        held = delivery.claim_due(first, box, now, 8, lease)
        with db.session(write=True) as second:
            other = delivery.claim_due(second, box, now, 100, lease)
    assert len(held) == 8 and len(other) == 12
    assert not {c.id for c in held} & {c.id for c in other}
    with db.session(write=True) as third:
        assert delivery.claim_due(third, box, now + timedelta(seconds=29), 100, lease) == []
        assert len(delivery.claim_due(third, box, now + timedelta(seconds=31), 100, lease)) == 20


def test_two_workers_never_send_one_delivery_twice(backend, world, tmp_path):
    if backend != "postgresql":
        pytest.skip("several workers share a PostgreSQL database; SQLite runs one, in the server")
    url, db = world
    with running() as receiver:
        receiver.reply = lambda r: Reply(200, delay=0.01)
        secret = populate(db, url, receiver, 150)
        workers = [start_worker(url, tmp_path, f"worker-{n}") for n in range(2)]
        try:
            wait_for(lambda: undelivered(db, 150) == 0)
        finally:
            stop(*workers)
        sent = Counter(receiver.ids())
        assert len(sent) == 150 and set(sent.values()) == {1}, sent.most_common(3)
        assert all(r.verify(secret)["type"] == "user.created" for r in receiver.received)


def test_a_killed_worker_loses_nothing(world, tmp_path):
    url, db = world
    with running() as receiver:
        receiver.reply = lambda r: Reply(200, delay=0.3)
        secret = populate(db, url, receiver, 40)
        worker = start_worker(url, tmp_path, "doomed")
        try:
            wait_for(lambda: len(receiver.received) >= 5)
        finally:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        assert undelivered(db, 40) > 0, "killed in the middle of the deliveries"
        receiver.reply = lambda r: Reply(200)
        survivor = start_worker(url, tmp_path, "survivor")
        try:
            wait_for(lambda: undelivered(db, 40) == 0)
        finally:
            stop(survivor)
        assert set(receiver.ids()) == {r.verify(secret)["id"] for r in receiver.received}
        assert len(set(receiver.ids())) == 40


def test_the_maintenance_tasks_write_on_the_servers_engine(world):
    """The worker's engine begins read-only transactions unless asked (decision 0007): the tasks
    that commit on their own connections ask."""
    url, db = world
    with running() as receiver:
        populate(db, url, receiver, 3)
    settings = Settings(database_url=url)
    with db.session(write=True) as session:
        log.number_waiting(session.connection())
    server_db = process.open_database(settings)
    try:
        context = WorkerContext(settings, server_db, KeyRing(settings), dispatcher=None)  # type: ignore[arg-type]
        later = utcnow() + timedelta(days=settings.event_retention_days + 1)
        assert tasks.purge_events(context, later) == 2, "all but the newest event"
        assert tasks.sweep_certificate_expiries(context, later) == 0
    finally:
        server_db.dispose()
