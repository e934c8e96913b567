"""`python bench/bulk_insert.py`: the same 100,000 user rows inserted three ways, on each database.

(a) ``BulkInsert``: the hand-written multi-row ``INSERT ... VALUES ... RETURNING`` (500 rows a
statement, SQLAlchemy's SQL text repeated, run on the DBAPI cursor);
(b) SQLAlchemy's own ``insert()`` with a list of parameter sets, which SQLAlchemy 2 runs as
"insertmanyvalues" batches of multi-row INSERTs with ``RETURNING``;
(c) ``BulkCopy``: ``COPY ... FROM STDIN`` through psycopg after drawing the ids by ``nextval``
(PostgreSQL only).

Every way inserts the columns the upload writes and gets each new user's id back, in chunks of
2,000 rows as the upload does, in one transaction that is then rolled back (the table is
vacuumed between runs on PostgreSQL). Each figure is the median of ``--repeat`` runs: seconds,
this process's CPU seconds, and on PostgreSQL the database backend's CPU seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent)]
from sqlalchemy import Connection, insert, text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench import harness  # noqa: E402
from bench.upload import fresh_database, prepare  # noqa: E402
from enabley.db import make_engine  # noqa: E402
from enabley.db.bulk import BulkCopy, BulkInsert, chunks  # noqa: E402
from enabley.uploads import users_file  # noqa: E402

COLUMNS = users_file._INSERTED
CHUNK = users_file.CHUNK


def user_rows(n: int) -> list[tuple[Any, ...]]:
    """The upload's rows of ``n`` new users: the columns of ``COLUMNS`` but the last three."""
    rows = []
    for i in range(n):
        first, last = f"First{i % 997}", f"Last{i % 1009}"
        email, username = f"user{i}@example.com", f"user.{i}"
        rows.append(
            (
                f"user-{i:06d}",
                email,
                first,
                last,
                username,
                f"+1555{i:07d}",
                f"{i} Main Street",
                True,
                ["learner"],
                username.casefold(),
                email.casefold(),
                first.casefold(),
                last.casefold(),
            )
        )
    return rows


def by_bulk_insert(session: Session, rows: list[tuple[Any, ...]], constants: Sequence[Any]) -> int:
    statement = BulkInsert(users_file._USERS, COLUMNS, returning=("external_id", "id"))
    return sum(len(statement.run(session, batch, constants)) for batch in chunks(rows, CHUNK))


def by_sqlalchemy(session: Session, rows: list[tuple[Any, ...]], constants: Sequence[Any]) -> int:
    table = users_file._USERS
    statement = insert(table).returning(table.c.external_id, table.c.id)
    got = 0
    for batch in chunks(rows, CHUNK):
        params = [dict(zip(COLUMNS, (*row, *constants), strict=True)) for row in batch]
        got += len(session.execute(statement, params).all())
    return got


def by_copy(session: Session, rows: list[tuple[Any, ...]], constants: Sequence[Any]) -> int:
    statement = BulkCopy(users_file._USERS, COLUMNS, numbered="id")
    return sum(len(statement.run(session, batch, constants)) for batch in chunks(rows, CHUNK))


WAYS: dict[str, Callable[[Session, list[tuple[Any, ...]], Sequence[Any]], int]] = {
    "BulkInsert (hand-written INSERT ... VALUES)": by_bulk_insert,
    "SQLAlchemy insert(), insertmanyvalues": by_sqlalchemy,
    "BulkCopy (COPY FROM STDIN)": by_copy,
}


def backend_pid(connection: Connection) -> int | None:
    if connection.dialect.name != "postgresql":
        return None
    return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def measure(url: str, way: str, rows: list[tuple[Any, ...]]) -> dict[str, float]:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as connection:
            pid = backend_pid(connection)
            account = connection.execute(text("SELECT id FROM accounts WHERE name = 'bench'")).scalar_one()
            now = datetime.now(UTC)
            db_cpu = harness.cpu_seconds(pid) if pid else 0.0
            cpu, start = time.process_time(), time.perf_counter()
            with Session(bind=connection) as session:
                got = WAYS[way](session, rows, (account, now, now))
                session.flush()
                seconds = time.perf_counter() - start
                cpu = time.process_time() - cpu
                db_cpu = (harness.cpu_seconds(pid) - db_cpu) if pid else 0.0
                session.rollback()
            if got != len(rows):
                raise RuntimeError(f"{way}: {got} ids back for {len(rows)} rows")
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM users"))
    finally:
        engine.dispose()
    return {"seconds": seconds, "client_cpu_seconds": cpu, "database_cpu_seconds": db_cpu}


def run(backend: str, users: int, repeat: int) -> list[dict[str, Any]]:
    rows = user_rows(users)
    results = []
    with fresh_database(backend) as url:
        prepare(url)
        ways = [w for w in WAYS if backend == "postgresql" or WAYS[w] is not by_copy]
        runs: dict[str, list[dict[str, float]]] = {way: [] for way in ways}
        for _ in range(repeat):  # in turns, so that the machine's load falls on each alike
            for way in ways:
                runs[way].append(measure(url, way, rows))
        for way in ways:
            median = {key: statistics.median(r[key] for r in runs[way]) for key in runs[way][0]}
            print(
                f"  {backend:<10} {way:<45} {median['seconds']:6.2f} s  (client CPU "
                f"{median['client_cpu_seconds']:5.2f} s, "
                f"database CPU {median['database_cpu_seconds']:5.2f} s)",
                flush=True,
            )
            results.append({"backend": backend, "way": way, "runs": repeat, **median})
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    opts = parser.parse_args()
    backends = opts.backend or [
        "sqlite",
        *(["postgresql"] if os.environ.get("ENABLEY_BENCH_POSTGRES_URL") else []),
    ]
    print(f"{opts.users:,} users inserted, median of {opts.repeat} runs", flush=True)
    results = [row for backend in backends for row in run(backend, opts.users, opts.repeat)]
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": harness.machine(),
        "load_average": os.getloadavg(),
        "users": opts.users,
        "results": results,
    }
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "bulk-insert-latest.json").write_text(json.dumps(report, indent=2))
    print(f"machine: {report['machine']}; load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
