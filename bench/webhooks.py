"""`python bench/webhooks.py`: webhook deliveries per second, 1 and 2 workers, to a local receiver.

A fresh database per run is given one account, one endpoint wanting every event, and EVENTS
events, numbered and fanned out into deliveries before any worker starts, so that the figure is
delivery alone. Then N `enabley worker` processes deliver them to a receiver (uvicorn with a bare
ASGI app answering 204, in a process of its own) and the rate is the deliveries divided by the time
between the first and the last recorded delivery. SQLite always (one worker: SQLite has one
writer, and `enabley serve` runs one); PostgreSQL with 1 and 2 workers when
ENABLEY_BENCH_POSTGRES_URL names a server (a database is created and dropped for the run).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent)]
from sqlalchemy import func, select  # noqa: E402

from bench.upload import fresh_database  # noqa: E402
from enabley import migrate  # noqa: E402
from enabley.accounts import service as accounts_service  # noqa: E402
from enabley.config import Settings  # noqa: E402
from enabley.db.columns import utcnow  # noqa: E402
from enabley.db.database import Database  # noqa: E402
from enabley.db.engine import make_engine  # noqa: E402
from enabley.events import log  # noqa: E402
from enabley.models import WebhookDelivery  # noqa: E402
from enabley.security import KeyRing, ensure_server_keys  # noqa: E402
from enabley.webhooks import fanout, service  # noqa: E402
from enabley.webhooks.schemas import WebhookData  # noqa: E402
from enabley.webhooks.signing import secret_box  # noqa: E402

TARGET = 500.0
"""Deliveries per second with two workers on PostgreSQL (issue 14)."""

RECEIVER = """
import uvicorn

async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})

uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", access_log=False, http="httptools")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def receiver() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER.replace("{port}", str(port))])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        proc.terminate()
        proc.wait()


def prepare(url: str, target: str, events: int) -> Database:
    """The account, its endpoint and ``events`` events, already turned into due deliveries."""
    migrate.upgrade(url)
    settings = Settings(database_url=url)
    db = Database(make_engine(url, pool_size=2))
    with db.session(write=True) as session:
        ensure_server_keys(session, settings)
    keyring = KeyRing(settings)
    with db.session(write=True) as session:
        keyring.load(session)
        account = accounts_service.create_account(session, f"bench-{uuid.uuid4().hex[:6]}", [])
        service.put_webhook(session, account, WebhookData(identifier="all", url=target), secret_box(keyring))
        log.emit_many(
            session.connection(),
            ((account.id, "user.created", {"identifier": f"u{n}"}) for n in range(events)),
        )
    with db.session(write=True) as session:
        while log.number_waiting(session.connection()):
            pass
    with db.session(write=True) as session:
        while fanout.fan_out(session, utcnow()):
            pass
    return db


def workers(url: str, count: int) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENABLEY_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE.parent / "src"), env.get("PYTHONPATH")]))
    env.update(ENABLEY_DATABASE_URL=url, ENABLEY_WEBHOOK_ALLOW_PRIVATE_NETWORKS="true")
    return [
        subprocess.Popen([sys.executable, "-m", "enabley", "worker"], env=env, stderr=subprocess.DEVNULL)
        for _ in range(count)
    ]


def measure(backend: str, count: int, events: int) -> tuple[float, float]:
    """Deliveries per second, and the workers' CPU milliseconds per delivery."""
    with receiver() as target, fresh_database(backend) as url:
        db = prepare(url, target, events)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        procs = workers(url, count)
        try:
            while True:
                with db.session() as session:
                    done, first, last = session.execute(
                        select(
                            func.count(),
                            func.min(WebhookDelivery.delivered_at),
                            func.max(WebhookDelivery.delivered_at),
                        ).where(WebhookDelivery.status == "delivered")
                    ).one()
                if done >= events:
                    break
                time.sleep(0.5)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()
            db.dispose()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return events / max((last - first).total_seconds(), 1e-6), cpu * 1000 / events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args()
    runs = [("sqlite", 1)]
    if os.environ.get("ENABLEY_BENCH_POSTGRES_URL"):
        runs += [("postgresql", 1), ("postgresql", 2)]
    for backend, count in runs:
        rate, cpu_ms = measure(backend, count, args.events)
        verdict = f" (target {TARGET:.0f}/s: {'met' if rate >= TARGET else 'NOT met'})" if count == 2 else ""
        print(
            f"webhooks {backend:10} {count} worker(s): {rate:8.0f} deliveries/s, "
            f"{cpu_ms:.2f} ms of worker CPU each{verdict}",
            flush=True,
        )


if __name__ == "__main__":
    main()
