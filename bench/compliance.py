"""The compliance API on the scale datasets: the summary and the learners' pages, timed.

Each request goes through the whole application in-process (ASGI, the bearer token checked, the
unit of work on the database's threads, the answer serialised), sequentially on one client as a
console or an export sends them, after one warm-up call. Figures: the median and the slowest of
``--repeat`` calls, in milliseconds.

What is asked (see ``bench/scale_data.py``): certificate ``cert-00`` is required for every user of
division 0, whose root group ``d0-division-0`` holds min(users, 100,000) learners in a five-level
subtree; the summary of that subtree for ``cert-00``, then for every certificate; the summary of
the whole account; the learners' first page, a page deep in the walk, and the other statuses.

    python bench/compliance.py --backend sqlite --users 100000
    python bench/compliance.py --backend postgresql --users 100000   # ENABLEY_BENCH_POSTGRES_URL
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent.parent / "src"), str(Path(__file__).parent.parent)]
from fastapi.testclient import TestClient  # noqa: E402

from bench import scale_data  # noqa: E402
from enabley.config import Settings  # noqa: E402
from enabley.main import create_app  # noqa: E402

SUMMARY = "/api/admin/v1/compliance/summary"
LEARNERS = "/api/admin/v1/compliance/learners"
GROUP = "d0-division-0"
CERTIFICATE = scale_data.certificate_id_of(scale_data.COMPLIANCE_CERTIFICATE)
DEEP_PAGE = 5


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, float, float, Any]:
    """Median and slowest wall time, and the median CPU time of this process (all its threads:
    on SQLite the database's work too, which a busy machine's waits leave out), in ms."""
    answer = call()  # warm-up: the connection pool, SQLite's page cache, PostgreSQL's plans
    seconds, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        answer = call()
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(seconds) * 1000, max(seconds) * 1000, statistics.median(cpu) * 1000, answer


def _get(client: TestClient, headers: dict[str, str], path: str, params: dict[str, Any]) -> Any:
    response = client.get(path, params=params, headers=headers)
    if response.status_code != 200:
        raise RuntimeError(f"{path} {params}: {response.status_code} {response.text}")
    return response.json()


def _deep_key(client: TestClient, headers: dict[str, str], params: dict[str, Any]) -> str:
    key = None
    for _ in range(DEEP_PAGE - 1):
        page = _get(client, headers, LEARNERS, {**params, "paginationKey": key} if key else params)
        key = page["paginationKey"]
        if key is None:
            raise RuntimeError(f"fewer than {DEEP_PAGE} pages of {params}")
    assert key is not None
    return key


def cases(client: TestClient, headers: dict[str, str]) -> list[tuple[str, Callable[[], Any]]]:
    one = {"certificateId": CERTIFICATE, "groupIdentifier": GROUP}
    deep = _deep_key(client, headers, {**one, "status": "ALL"})

    def get(path: str, params: dict[str, Any]) -> Callable[[], Any]:
        return lambda: _get(client, headers, path, params)

    return [
        ("summary: the 100k subtree, one certificate", get(SUMMARY, one)),
        ("summary: the 100k subtree, all certificates", get(SUMMARY, {"groupIdentifier": GROUP})),
        ("summary: the whole account, all certificates", get(SUMMARY, {})),
        ("learners: NON_COMPLIANT, page 1", get(LEARNERS, one)),
        ("learners: EXPIRING, page 1", get(LEARNERS, {**one, "status": "EXPIRING"})),
        ("learners: ALL, page 1", get(LEARNERS, {**one, "status": "ALL"})),
        (f"learners: ALL, page {DEEP_PAGE}", get(LEARNERS, {"paginationKey": deep})),
        ("learners: the subtree, all certificates, page 1", get(LEARNERS, {"groupIdentifier": GROUP})),
    ]


def run(backend: str, users: int, repeat: int, postgres_url: str | None) -> None:
    found = scale_data.dataset(backend, users, postgres_url=postgres_url)
    # A loaded machine can take the whole summary past the server's default deadline: measured, not cut.
    settings = Settings(database_url=found.url, rate_limit=0, access_log=False, statement_timeout_seconds=120)
    with TestClient(create_app(settings)) as client:
        token = client.post("/api/v1/token", params={"clientKey": found.client_key, "secret": found.secret})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        load = os.getloadavg()[0]
        print(
            f"\n{backend}, {users:,} users (load average {load:.1f}): "
            f"median / slowest / CPU of {repeat} calls, ms"
        )
        for name, call in cases(client, headers):
            median, slowest, cpu, answer = timed(call, repeat)
            shown = answer.get("overall", {}).get("inScope") if "overall" in answer else answer["totalPages"]
            what = "in scope" if "overall" in answer else "pages"
            print(f"  {name:<50} {median:8.1f} {slowest:8.1f} {cpu:8.1f}   ({what}: {shown:,})", flush=True)


def main(
    measure: Callable[[str, int, int, str | None], None] = run, *, repeat: int = 7, doc: str = __doc__
) -> int:
    """The command line of a compliance benchmark: ``measure(backend, users, repeat, postgres_url)``
    for each backend and size asked for (bench/compliance_stored.py shares it)."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--users", type=int, action="append")
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--postgres-url", default=os.environ.get("ENABLEY_BENCH_POSTGRES_URL"))
    opts = parser.parse_args()
    backends = opts.backend or (["sqlite", "postgresql"] if opts.postgres_url else ["sqlite"])
    for backend in backends:
        for users in opts.users or [100_000]:
            measure(backend, users, opts.repeat, opts.postgres_url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
