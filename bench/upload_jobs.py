"""`python bench/upload_jobs.py`: the upload as a job (`?async=true`) against the synchronous one.

On a fresh database per run, with a server (`uvicorn --factory enabley.main:create_app`, one
worker) and one job worker beside it (a process looping on ``run_upload_jobs``):

1. the 100,000-user upload of ``bench/upload.py``, synchronously, to one account: seconds to the
   answer;
2. the same files to a second account with ``async=true``: seconds to the 202, then to the
   first status read that shows the job ended (polled every ``POLL`` s), and the CPU seconds of
   the server and of the worker;
3. the cost of keeping a body in the database: a body of ``--body-mb`` MB (95 by default) sent
   with ``async=true&validateOnly=true``: seconds to the 202, the bytes stored, and the job's end
   to end, beside the synchronous ``validateOnly=true`` of the same body.

SQLite always; PostgreSQL too when ENABLEY_BENCH_POSTGRES_URL names a server.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent)]
from sqlalchemy import text  # noqa: E402

from bench import harness, org_data  # noqa: E402
from bench.upload import call, fresh_database, prepare, request_body, set_up_account, sized_body  # noqa: E402
from enabley.db.engine import make_engine  # noqa: E402

POLL = 0.25
JOBS = "/api/v1/uploads/org/jobs/"
"""The status route (``statusUrl`` names the configured public address, not the bench server's)."""
WORKER = """
import time
from enabley.db.columns import utcnow
from enabley.main import create_app
from enabley.uploads import jobs
context = create_app().state.context
while True:
    if not jobs.run_upload_jobs(context, utcnow()):
        time.sleep(0.05)
"""


@contextmanager
def job_worker(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=harness.ROOT)
    try:
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


def timed(method: str, url: str, body: bytes | None, token: str) -> tuple[float, int, Any]:
    start = time.perf_counter()
    status, answer = call(method, url, body, token)
    return time.perf_counter() - start, status, answer


def run_job(base: str, token: str, body: bytes, query: str) -> dict[str, Any]:
    """Submit, then poll until the job ends: seconds to the 202 and to the end, the end's status."""
    start = time.perf_counter()
    status, accepted = call("POST", f"{base}/api/v1/uploads/org?{query}", body, token)
    if status != 202:
        raise RuntimeError(f"async upload answered {status}: {json.dumps(accepted)[:500]}")
    accepted_after = time.perf_counter() - start
    while True:
        _, job = call("GET", f"{base}{JOBS}{accepted['jobId']}", None, token)
        if job["status"] in ("succeeded", "failed"):
            break
        time.sleep(POLL)
    return {
        "accepted_seconds": round(accepted_after, 2),
        "ended_seconds": round(time.perf_counter() - start, 2),
        "job": job,
    }


def stored_bytes(url: str) -> int:
    engine = make_engine(url, pool_size=1)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(text("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM upload_job_parts")).scalar_one()
            )
    finally:
        engine.dispose()


def run(backend: str, users: int, body_mb: float) -> dict[str, Any]:
    first = request_body(org_data.users_csv(users), org_data.groups_csv())
    result: dict[str, Any] = {"backend": backend, "users": users}
    with fresh_database(backend) as url:
        sync_creds, job_creds = prepare(url, 2)
        env = harness.server_env(url)
        with (
            harness.serve(["--factory", "enabley.main:create_app"], env) as server,
            job_worker(env) as worker,
        ):
            base, pid = server.base, server.process.pid
            sync_token, job_token = set_up_account(base, sync_creds), set_up_account(base, job_creds)
            # The worker has started and run once (imports, first connections) before anything is timed.
            warm_up = request_body(org_data.users_csv(10), org_data.groups_csv())
            run_job(base, job_token, warm_up, "async=true&validateOnly=true")
            cpu = harness.cpu_seconds(pid)
            seconds, status, answer = timed("POST", f"{base}/api/v1/uploads/org", first, sync_token)
            assert status == 200, answer
            result["sync_seconds"] = round(seconds, 2)
            result["sync_server_cpu_seconds"] = round(harness.cpu_seconds(pid) - cpu, 2)
            cpu, worker_cpu = harness.cpu_seconds(pid), harness.cpu_seconds(worker.pid)
            outcome = run_job(base, job_token, first, "async=true")
            assert outcome["job"]["result"] == answer, outcome["job"]
            result["async"] = {
                "accepted_seconds": outcome["accepted_seconds"],
                "ended_seconds": outcome["ended_seconds"],
                "server_cpu_seconds": round(harness.cpu_seconds(pid) - cpu, 2),
                "worker_cpu_seconds": round(harness.cpu_seconds(worker.pid) - worker_cpu, 2),
            }
            print(
                f"  {backend:<10} {users:,} users: sync {result['sync_seconds']} s "
                f"(server CPU {result['sync_server_cpu_seconds']} s), async {result['async']}"
            )
            if body_mb > 0:
                big, big_users = sized_body(body_mb)
                result["big"] = big_body(base, url, job_token, big, big_users)
                print(f"  {backend:<10} {len(big) / 1e6:.0f} MB body: {result['big']}", flush=True)
    return result


def big_body(base: str, url: str, token: str, body: bytes, users: int) -> dict[str, Any]:
    """A large body kept in the database until its (validate-only) job ends."""
    start = time.perf_counter()
    status, accepted = call("POST", f"{base}/api/v1/uploads/org?async=true&validateOnly=true", body, token)
    assert status == 202, accepted
    accepted_seconds = time.perf_counter() - start
    kept = stored_bytes(url)
    while (job := call("GET", f"{base}{JOBS}{accepted['jobId']}", None, token)[1])["status"] not in (
        "succeeded",
        "failed",
    ):
        time.sleep(POLL)
    ended_seconds = time.perf_counter() - start
    sync_seconds, status, answer = timed("POST", f"{base}/api/v1/uploads/org?validateOnly=true", body, token)
    assert status == 200 and job["result"] == answer, (status, job)
    return {
        "body_mb": round(len(body) / 1e6, 1),
        "users": users,
        "accepted_seconds": round(accepted_seconds, 2),
        "stored_mb": round(kept / 1e6, 1),
        "job_ended_seconds": round(ended_seconds, 2),
        "sync_validate_seconds": round(sync_seconds, 2),
        "stored_after_end_mb": round(stored_bytes(url) / 1e6, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--body-mb", type=float, default=95.0, help="0: leave the large body out")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    opts = parser.parse_args()
    backends = opts.backend or [
        "sqlite",
        *(["postgresql"] if os.environ.get("ENABLEY_BENCH_POSTGRES_URL") else []),
    ]
    results = [run(backend, opts.users, opts.body_mb) for backend in backends]
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": harness.machine(),
        "results": results,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "upload-jobs-latest.json").write_text(json.dumps(report, indent=2))
    print(f"machine: {report['machine']}; results in {out / 'upload-jobs-latest.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
