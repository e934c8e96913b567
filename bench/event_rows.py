"""What storing a bulk upload's change-log rows costs the database, by layout of the ``events`` table.

The rows of a 100,000-user upload (250,000 events: two in five ``user.created``, the others
``group.member_added``, with their JSON data) written into ``events`` laid out each way, in one
transaction, as the application writes them: COPY in batches of 2,500 on PostgreSQL (the
database's CPU seconds are its backend's), INSERTs of 500 rows on SQLite (the CPU seconds are
this process's, SQLite's work being in it). Then, on SQLite, 3,000 transactions of one event each
(a ``PUT /api/v2/users``'s), into a table already holding 250,000 numbered events. The layouts
alternate round by round; the figures are medians.

Layouts: ``0006`` (migration 0006: unique ``event_id``, unique ``position``, foreign key,
``jsonb``), then what each change removes: ``no-event-id`` (no unique index on ``event_id``),
``json`` (``data`` as ``json``, PostgreSQL), ``no-key`` (no foreign key), ``numbered`` (the
unique index of positions holds numbered rows only: migration 0012's layout, decision 0013),
``both-numbered`` (the account's index too, which 0013 left as it was), and ``by-account`` (and
the index of unnumbered rows on ``(account_id, id)``: migration 0015's layout, decision 0015,
which serves what the account's index served for unnumbered rows).

    python bench/event_rows.py [--rows 250000] [--rounds 3] [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent.parent)]

from bench import harness  # noqa: E402

LAYOUTS = {
    "0006": set(),
    "no-event-id": {"no-event-id"},
    "json": {"no-event-id", "json"},
    "no-key": {"no-event-id", "json", "no-key"},
    "numbered": {"no-event-id", "json", "no-key", "numbered"},
    "both-numbered": {"no-event-id", "json", "no-key", "numbered", "both-numbered"},
    "by-account": {"no-event-id", "json", "no-key", "numbered", "both-numbered", "by-account"},
}
BATCH = 2_500
PER_STATEMENT = 500
SINGLE_WRITES = 3_000
USER = {
    "identifier": "u{i}",
    "email": "user{i}@example.com",
    "firstName": "Firstname",
    "lastName": "Lastname",
    "username": "user{i}",
    "phone": None,
    "address": None,
    "isActive": True,
    "possibleRoles": ["LEARNER"],
    "created": "2026-12-06T12:00:00.000Z",
    "modified": "2026-12-06T12:00:00.000Z",
    "userSubAccountNames": ["EU"],
}


def events(count: int) -> list[tuple[str, str, datetime, str, int]]:
    now = datetime.now(UTC)
    stamp = f"evt_{time.time_ns() // 1_000_000:012x}"
    noise = os.urandom(10 * count).hex()
    user = json.dumps(USER, separators=(",", ":"))
    rows = []
    for i in range(count):
        if i % 5 in (0, 2):
            type_, data = "user.created", user.replace("{i}", str(i))
        else:
            type_ = "group.member_added"
            data = json.dumps(
                {"groupIdentifier": f"g{i % 1000}", "userIdentifier": f"u{i}"}, separators=(",", ":")
            )
        rows.append((stamp + noise[20 * i : 20 * i + 20], type_, now, data, 1))
    return rows


def schema(layout: set[str], postgresql: bool) -> list[str]:
    data = "jsonb" if postgresql and "json" not in layout else "json"
    key = "" if "no-key" in layout else " REFERENCES accounts (id) ON DELETE CASCADE"
    event_id = "" if "no-event-id" in layout else ", CONSTRAINT uq_events_event_id UNIQUE (event_id)"
    numbered = " WHERE position IS NOT NULL"
    account_where = numbered if "both-numbered" in layout else ""
    unnumbered = "account_id, id" if "by-account" in layout else "id"
    id_column = "id serial PRIMARY KEY" if postgresql else "id INTEGER PRIMARY KEY AUTOINCREMENT"
    time_type = "timestamptz" if postgresql else "DATETIME"
    return [
        f"CREATE TABLE events ({id_column}, event_id varchar(40) NOT NULL, type varchar(64) NOT NULL, "
        f"occurred_at {time_type} NOT NULL, data {data} NOT NULL, position bigint, "
        f"account_id integer NOT NULL{key}{event_id})",
        f"CREATE UNIQUE INDEX uq_events_position ON events (position)"
        f"{numbered if 'numbered' in layout else ''}",
        f"CREATE INDEX ix_events_account_id_position ON events (account_id, position){account_where}",
        f"CREATE INDEX ix_events_unsequenced ON events ({unnumbered}) WHERE position IS NULL",
    ]


def on_postgresql(url: str, layout: set[str], rows: list[Any]) -> dict[str, float]:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS events; DROP TABLE IF EXISTS accounts")
        conn.execute("CREATE TABLE accounts (id serial PRIMARY KEY, name text)")
        conn.execute("INSERT INTO accounts (name) VALUES ('bench')")
        for statement in schema(layout, postgresql=True):
            conn.execute(statement)
        conn.execute("CHECKPOINT")
    with psycopg.connect(url) as conn:
        backend = conn.info.backend_pid
        cpu, start = harness.cpu_seconds(backend), time.perf_counter()
        with conn.transaction():
            for i in range(0, len(rows), BATCH):
                sql = "COPY events (event_id, type, occurred_at, data, account_id) FROM STDIN"
                with conn.cursor().copy(sql) as copy:
                    for row in rows[i : i + BATCH]:
                        copy.write_row(row)
        return {"seconds": time.perf_counter() - start, "cpu": harness.cpu_seconds(backend) - cpu}


def on_sqlite(layout: set[str], rows: list[Any]) -> dict[str, float]:
    flat = [(a, b, c.replace(tzinfo=None).isoformat(" "), d, e) for a, b, c, d, e in rows]
    one = "(?, ?, ?, ?, ?)"
    insert = "INSERT INTO events (event_id, type, occurred_at, data, account_id) VALUES "
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(f"{tmp}/events.db", isolation_level=None)
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("CREATE TABLE accounts (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)")
        conn.execute("INSERT INTO accounts (name) VALUES ('bench')")
        for statement in schema(layout, postgresql=False):
            conn.execute(statement)
        cpu, start = time.process_time(), time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        for i in range(0, len(flat), PER_STATEMENT):
            batch = flat[i : i + PER_STATEMENT]
            conn.execute(insert + ", ".join([one] * len(batch)), [v for row in batch for v in row])
        conn.execute("COMMIT")
        found = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}
        conn.execute("UPDATE events SET position = id")
        single = time.process_time()
        for i in range(SINGLE_WRITES):
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(insert + one, (f"evt_single{i:08d}", *flat[i % len(flat)][1:]))
            conn.execute("COMMIT")
        found["single_write_us"] = (time.process_time() - single) / SINGLE_WRITES * 1e6
        conn.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=250_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    opts = parser.parse_args()
    admin = os.environ.get("ENABLEY_BENCH_POSTGRES_URL", "").replace("postgresql+psycopg://", "postgresql://")
    backends = opts.backend or ["sqlite", *(["postgresql"] if admin else [])]
    rows = events(opts.rows)
    for backend in backends:
        layouts = [name for name in LAYOUTS if backend == "postgresql" or name != "json"]
        url = ""
        if backend == "postgresql":
            import psycopg

            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute("DROP DATABASE IF EXISTS enabley_bench_event_rows")
                conn.execute("CREATE DATABASE enabley_bench_event_rows")
            url = admin.rsplit("/", 1)[0] + "/enabley_bench_event_rows"
        found: dict[str, list[dict[str, float]]] = {name: [] for name in layouts}
        try:
            for n in range(opts.rounds):
                for name in layouts if n % 2 == 0 else layouts[::-1]:
                    layout = LAYOUTS[name]
                    run = on_postgresql(url, layout, rows) if url else on_sqlite(layout, rows)
                    found[name].append(run)
        finally:
            if url:
                with psycopg.connect(admin, autocommit=True) as conn:
                    conn.execute("DROP DATABASE IF EXISTS enabley_bench_event_rows")
        print(
            f"{backend}, {opts.rows:,} rows, medians of {opts.rounds}, load average {os.getloadavg()[0]:.1f}:"
        )
        for name, runs in found.items():
            medians = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            print(f"  {name:<14} " + "  ".join(f"{key} {value:.2f}" for key, value in medians.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
