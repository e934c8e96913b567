"""What writing a bulk upload's change-log events costs, through the change log's own code.

``bench/event_rows.py``'s 250,000 rows (two in five ``user.created``, the others
``group.member_added``) written with ``events.log.emit_encoded`` in chunks of 5,000 (the upload's:
2,000 users a chunk), one row an event (the upload itself writes bundles since decision 0016: a
row a type and chunk), in one transaction, on a freshly migrated database: this checkout's table
layout and writing code together. Reports this process's CPU seconds (the client's side, and on
SQLite all of it) while writing and with the commit, the PostgreSQL backend's CPU seconds and the
WAL it wrote; medians of ``--rounds``. To compare two checkouts, run each one's copy of this file
in turn.

    python bench/event_writes.py [--rows 250000] [--rounds 3] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent)]

from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench import event_rows, harness  # noqa: E402
from enabley import migrate  # noqa: E402
from enabley.accounts import service as accounts_service  # noqa: E402
from enabley.db.bulk import Direct  # noqa: E402
from enabley.db.engine import make_engine  # noqa: E402
from enabley.events import log  # noqa: E402

CHUNK = 5_000


def write(url: str, rows: list[tuple[str, str]]) -> dict[str, float]:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            account_id = accounts_service.create_account(session, "bench", []).id
            session.commit()
        with engine.connect() as conn:
            postgresql = conn.dialect.name == "postgresql"
            backend, wal = 0, "0/0"
            if postgresql:
                backend, wal = conn.execute(text("SELECT pg_backend_pid(), pg_current_wal_lsn()::text")).one()
                conn.commit()
            direct = Direct(conn.dialect, conn.connection.driver_connection)
            db_cpu = harness.cpu_seconds(backend) if postgresql else 0.0
            cpu, start = time.process_time(), time.perf_counter()
            with conn.begin():
                for i in range(0, len(rows), CHUNK):
                    log.emit_encoded(direct, account_id, rows[i : i + CHUNK])
                written = time.process_time()
            found = {
                "seconds": time.perf_counter() - start,
                "cpu_writing": written - cpu,
                "cpu": time.process_time() - cpu,
            }
            if postgresql:
                found["db_cpu"] = harness.cpu_seconds(backend) - db_cpu
                lsn = "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), CAST(:wal AS pg_lsn))"
                found["wal_mb"] = float(conn.execute(text(lsn), {"wal": wal}).scalar_one()) / 1e6
            return found
    finally:
        engine.dispose()


def once(backend: str, rows: list[tuple[str, str]]) -> dict[str, float]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return write(f"sqlite:///{tmp}/events.db", rows)
    admin = os.environ["ENABLEY_BENCH_POSTGRES_URL"]
    name = f"enabley_bench_{uuid.uuid4().hex[:10]}"
    engine = make_engine(admin, pool_size=1)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            return write(admin.rsplit("/", 1)[0] + f"/{name}", rows)
        finally:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    opts = parser.parse_args()
    postgresql = bool(os.environ.get("ENABLEY_BENCH_POSTGRES_URL"))
    backends = opts.backend or ["sqlite", *(["postgresql"] if postgresql else [])]
    rows = [(type_, data, 1) for _, type_, _, data, _ in event_rows.events(opts.rows)]
    for backend in backends:
        runs: list[dict[str, Any]] = [once(backend, rows) for _ in range(opts.rounds)]
        medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(
            f"{backend}, {opts.rows:,} events, medians of {opts.rounds}, load average "
            f"{os.getloadavg()[0]:.1f}: " + "  ".join(f"{key} {value:.2f}" for key, value in medians.items())
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
