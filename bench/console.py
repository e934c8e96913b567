"""The console's pages on a large account: server time of each page, signed in as a console user.

    python -m bench.console --users 1000000 [--backend postgresql] [--runs 7] [--page channel]

Each page is requested ``--runs`` times on one keep-alive connection after one warm-up request;
the figures are the time from the request to the last byte of its answer, on the same machine
(so mostly the server's time), and the server process's CPU time per request (all its threads:
with SQLite that includes the database's work, with PostgreSQL not), the figure to compare when
the machine is shared. The dataset is ``bench/scale_data.py``'s, built once and cached.
A console user is created for the run and deleted after it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import httpx2

from bench import scale_data
from bench.harness import cpu_seconds, machine, serve, server_env
from enabley import migrate
from enabley.console import service as console_service
from enabley.db.database import Database
from enabley.db.engine import make_engine

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def pages(ds: scale_data.Dataset, group: str) -> list[tuple[str, str]]:
    return [
        ("overview", "/console"),
        ("the figures counted apart (learners, compliance headline)", "/console/figures"),
        (
            "compliance, one certificate, division 0",
            "/console/compliance?certificateId=cert-00&groupIdentifier=d0-division-0",
        ),
        (
            "compliance learners, one certificate, division 0",
            "/console/compliance/learners?certificateId=cert-00&groupIdentifier=d0-division-0",
        ),
        ("organisation (tree, first users)", "/console/organisation"),
        ("user search (last name)", f"/console/organisation?lastNameSubstring={ds.last_name_substring}"),
        ("a team's members", f"/console/groups/{group}"),
        ("a user (200 channels)", f"/console/users/{ds.busy_user}"),
        ("channels", "/console/channels"),
        ("uploads", "/console/uploads"),
        ("webhooks", "/console/webhooks"),
        ("SCIM tokens", "/console/scim"),
        (f"a channel ({ds.tree_channel_learners:,} learners)", f"/console/channels/{ds.tree_channel}"),
    ]


def _console_user(url: str, email: str, remove: bool = False) -> str:
    db = Database(make_engine(url, pool_size=1))
    try:
        with db.session(write=True) as session:
            if remove:
                console_service.delete_user(session, email)
                return ""
            _user, password = console_service.create_user(session, scale_data.ACCOUNT, email, None)
            return password
    finally:
        db.dispose()


def measure(
    base: str, pid: int, email: str, password: str, targets: list[tuple[str, str]], runs: int
) -> None:
    with httpx2.Client(base_url=base, timeout=120) as client:
        form = client.get("/console/login")
        token = CSRF.search(form.text)
        assert token is not None
        signed = client.post(
            "/console/login", data={"csrf_token": token.group(1), "email": email, "password": password}
        )
        assert signed.status_code == 303, signed.text
        print("| page | first ms | median ms | max ms | server CPU ms (first / mean) |")
        print("|---|---:|---:|---:|---:|")
        for name, path in targets:
            cpu, started = cpu_seconds(pid), time.perf_counter()
            client.get(path)
            first = (time.perf_counter() - started) * 1000
            first_cpu, cpu = (cpu_seconds(pid) - cpu) * 1000, cpu_seconds(pid)
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
            mean_cpu = (cpu_seconds(pid) - cpu) * 1000 / runs
            print(
                f"| {name} | {first:.0f} | {statistics.median(times):.0f} | {max(times):.0f} "
                f"| {first_cpu:.0f} / {mean_cpu:.0f} |",
                flush=True,
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--postgres-url", default=os.environ.get("ENABLEY_BENCH_POSTGRES_URL"))
    parser.add_argument(
        "--dataset",
        type=Path,
        help="a dataset's JSON in bench/.cache to use as it is, whatever its generator version",
    )
    parser.add_argument(
        "--page",
        action="append",
        default=[],
        help="only the pages whose name contains this text (repeatable; all pages when absent)",
    )
    opts = parser.parse_args(argv)
    if opts.dataset is not None:
        stored = json.loads(opts.dataset.read_text())
        ds = scale_data.Dataset(
            **{f.name: stored[f.name] for f in fields(scale_data.Dataset) if f.name != "build_seconds"},
            build_seconds=None,
        )
        migrate.upgrade(ds.url)
    else:
        ds = scale_data.dataset(opts.backend, opts.users, postgres_url=opts.postgres_url)
    email = f"bench-{uuid.uuid4().hex[:8]}@bench.test"
    password = _console_user(ds.url, email)
    print(f"{ds.users:,} users, {ds.backend}; {machine()}", flush=True)
    try:
        with serve(["--factory", "enabley.main:create_app"], server_env(ds.url)) as server:
            targets = [
                (name, path)
                for name, path in pages(ds, "d0-team-0")
                if not opts.page or any(part in name for part in opts.page)
            ]
            measure(server.base, server.process.pid, email, password, targets, opts.runs)
    finally:
        _console_user(ds.url, email, remove=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
