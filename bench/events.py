"""`make bench` (part): what the change log costs, and how fast the change feed reads.

For each database, with the change log on (this checkout) and off (``bench/without_change_log.py``:
the change log's ``emit`` functions write nothing), in the same run:

- ``PUT /api/v2/users`` with wrk, 4 connections, each request changing one of 1,000 users (an
  update that emits ``user.updated``): requests per second;
- the bulk upload of 100,000 users and 1,000 groups (``bench/upload.py``'s files), first upload,
  end to end: seconds;
- then (change log on) the feed read from the start, 1,000 events a page, until an empty page:
  the first read numbers the upload's events; events per second over the whole read, and again
  over a second read of the same events (numbered already).

Targets: the change log costs under 15 % of either write, the feed reads 20,000 events/s or more.
``--users N`` runs a smaller upload, ``--seconds S`` a shorter load. ``--rounds R`` measures
both modes R times, alternating which goes first, and reports the medians (and each round's
figures, and the load average at the start of each): on a shared machine one round's
difference is often the load's, not the change log's. The upload's CPU seconds (the server's,
and PostgreSQL's backends') move less with the load than its seconds do.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent)]

from bench import harness, org_data, upload  # noqa: E402

APPS = {"on": "enabley.main:create_app", "off": "bench.without_change_log:create_app"}
TARGET_COST = 0.15
TARGET_FEED_RATE = 20_000
PUT_USERS = (
    "local i = 0\n"
    "request = function()\n"
    "  i = i + 1\n"
    '  local body = \'{"identifier":"bench-u\' .. (i % 1000) .. \'","firstName":"n\' .. i .. \'"}\'\n'
    '  return wrk.format("PUT", "/api/v2/users", nil, body)\n'
    "end\n"
)


def put_rate(base: str, token: str, seconds: int) -> float:
    load = harness.Load(
        f"{base}/api/v2/users",
        headers=[f"Authorization: Bearer {token}", "Content-Type: application/json"],
        method="PUT",
        lua=PUT_USERS,
    )
    harness.wrk(load, 2, connections=4)  # the users created, the server warm
    return harness.wrk(load, seconds, connections=4)


def read_feed(base: str, token: str) -> tuple[int, float]:
    """Events read from the start until an empty page, and the seconds it took."""
    after, total = None, 0
    start = time.perf_counter()
    while True:
        query = urlencode({"limit": 1000, **({"after": after} if after else {})})
        status, page = upload.call("GET", f"{base}/api/admin/v1/events?{query}", None, token)
        if status != 200:
            raise RuntimeError(f"feed answered {status}: {page}")
        if not page["items"]:
            return total, time.perf_counter() - start
        total += len(page["items"])
        after = page["nextCursor"]


def run_mode(backend: str, mode: str, body: bytes, seconds: int, feed: bool) -> dict[str, Any]:
    """One mode's measurements on a fresh database: the upload (seconds, the server's and the
    database's CPU seconds), the feed read twice when ``feed``, ``PUT /api/v2/users``."""
    found: dict[str, Any] = {"load": os.getloadavg()[0]}
    with upload.fresh_database(backend) as url:
        (creds,) = upload.prepare(url)
        with harness.serve(["--factory", APPS[mode]], harness.server_env(url)) as server:
            token = upload.set_up_account(server.base, creds)
            upload_seconds, cpu, db_cpu, *_ = upload.timed_upload(
                server.base, token, server.process.pid, body, url
            )
            found.update(upload_seconds=upload_seconds, upload_cpu=cpu, upload_db_cpu=db_cpu)
            if feed:
                events, first = read_feed(server.base, token)
                again, second = read_feed(server.base, token)
                found.update(
                    feed_events=events,
                    feed_first_read_per_second=events / first,
                    feed_read_per_second=again / second,
                )
            found["put_users_per_second"] = put_rate(server.base, token, seconds)
    return found


def run(backend: str, users: int, seconds: int, rounds: int) -> dict[str, Any]:
    """``rounds`` rounds, each measuring both modes on fresh databases, the order alternating
    (off then on, on then off, ...) so that a change in the machine's load falls on both; the
    figures are the medians over the rounds, each round's kept too."""
    body = upload.request_body(org_data.users_csv(users), org_data.groups_csv())
    runs: dict[str, list[dict[str, Any]]] = {mode: [] for mode in APPS}
    for n in range(rounds):
        for mode in ("off", "on") if n % 2 == 0 else ("on", "off"):
            runs[mode].append(run_mode(backend, mode, body, seconds, feed=mode == "on"))
            print(
                f"  {backend:<10} round {n + 1} change log {mode:<3} {json.dumps(runs[mode][-1])}", flush=True
            )
    found: dict[str, Any] = {"backend": backend, "rounds": rounds}
    for mode, measured in runs.items():
        for key in measured[0]:
            if key != "load":
                found[f"{key}_{mode}"] = round(statistics.median(m[key] for m in measured), 2)
        found[f"upload_seconds_{mode}_each"] = [round(m["upload_seconds"], 2) for m in measured]
        found[f"put_users_per_second_{mode}_each"] = [round(m["put_users_per_second"]) for m in measured]
    found["load_averages"] = [round(m["load"], 1) for mode in APPS for m in runs[mode]]
    found["upload_cost"] = round(found["upload_seconds_on"] / found["upload_seconds_off"] - 1, 3)
    for cpu in ("upload_cpu", "upload_db_cpu"):  # the database's is 0 on SQLite (the server's work)
        if found[f"{cpu}_off"]:
            found[f"{cpu}_cost"] = round(found[f"{cpu}_on"] / found[f"{cpu}_off"] - 1, 3)
    on, off = found["put_users_per_second_on"], found["put_users_per_second_off"]
    found["put_users_cost"] = round(1 - on / off, 3)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1, help="rounds alternating off and on; medians")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    opts = parser.parse_args()
    backends = opts.backend or [
        "sqlite",
        *(["postgresql"] if os.environ.get("ENABLEY_BENCH_POSTGRES_URL") else []),
    ]
    results = [run(backend, opts.users, opts.seconds, opts.rounds) for backend in backends]
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": harness.machine()}
    report["results"] = results
    upload.RESULTS.mkdir(exist_ok=True)
    (upload.RESULTS / "events-latest.json").write_text(json.dumps(report, indent=2))
    missed = [
        r
        for r in results
        if max(r["upload_cost"], r["put_users_cost"]) > TARGET_COST
        or r["feed_read_per_second_on"] < TARGET_FEED_RATE
    ]
    for r in missed:
        print(f"MISSED on {r['backend']}: {r}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
