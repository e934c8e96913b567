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
``--users N`` runs a smaller upload, ``--seconds S`` a shorter load.
"""

from __future__ import annotations

import argparse
import json
import os
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


def run(backend: str, users: int, seconds: int) -> dict[str, Any]:
    body = upload.request_body(org_data.users_csv(users), org_data.groups_csv())
    found: dict[str, Any] = {"backend": backend}
    for mode, app in APPS.items():
        with upload.fresh_database(backend) as url:
            (creds,) = upload.prepare(url)
            with harness.serve(["--factory", app], harness.server_env(url)) as server:
                token = upload.set_up_account(server.base, creds)
                upload_seconds, *_ = upload.timed_upload(server.base, token, server.process.pid, body, url)
                found[f"upload_seconds_{mode}"] = round(upload_seconds, 2)
                if mode == "on":
                    events, first = read_feed(server.base, token)
                    again, second = read_feed(server.base, token)
                    found.update(
                        feed_events=events,
                        feed_first_read_per_second=round(events / first),
                        feed_read_per_second=round(again / second),
                    )
                found[f"put_users_per_second_{mode}"] = round(put_rate(server.base, token, seconds))
        print(f"  {backend:<10} change log {mode:<3} {json.dumps(found)}", flush=True)
    found["upload_cost"] = round(found["upload_seconds_on"] / found["upload_seconds_off"] - 1, 3)
    on, off = found["put_users_per_second_on"], found["put_users_per_second_off"]
    found["put_users_cost"] = round(1 - on / off, 3)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    opts = parser.parse_args()
    backends = opts.backend or [
        "sqlite",
        *(["postgresql"] if os.environ.get("ENABLEY_BENCH_POSTGRES_URL") else []),
    ]
    results = [run(backend, opts.users, opts.seconds) for backend in backends]
    report = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "machine": harness.machine()}
    report["results"] = results
    upload.RESULTS.mkdir(exist_ok=True)
    (upload.RESULTS / "events-latest.json").write_text(json.dumps(report, indent=2))
    missed = [
        r
        for r in results
        if max(r["upload_cost"], r["put_users_cost"]) > TARGET_COST
        or r["feed_read_per_second"] < TARGET_FEED_RATE
    ]
    for r in missed:
        print(f"MISSED on {r['backend']}: {r}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
