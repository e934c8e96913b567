"""SCIM 2.0 at scale: the lookups and pages identity providers make, on the cached 1M-user account.

Against a server of this checkout (one uvicorn worker) on the account ``bench/scale_data.py``
builds, with a SCIM token made for the run (removed afterwards, as the users it creates):

- ``filter=userName eq "..."`` (what Entra ID and Okta send before every change), the median of
  sequential requests over sample users spread through the account;
- a ``GET /Users`` page of 100 users at startIndex 1, in the middle and at the end;
- creating users one after another through ``POST /scim/v2/Users`` and through
  ``PUT /api/v2/users`` (the same fields), each the median of ``--creations`` requests.

``python bench/scim.py [--users N] [--backend sqlite|postgresql]``; ``make bench`` runs it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).parent.parent / "src"), str(Path(__file__).parent.parent)]
from sqlalchemy import text  # noqa: E402

from bench import harness, scale_data  # noqa: E402
from bench.harness import Client  # noqa: E402
from enabley.db.database import Database  # noqa: E402
from enabley.db.engine import make_engine  # noqa: E402
from enabley.scim import tokens  # noqa: E402

PAGE = 100
PREFIX = "scim-bench-"


def _token(url: str) -> tuple[str, str]:
    """A SCIM token of the benchmark's account: (its id, its value)."""
    db = Database(make_engine(url))
    try:
        with db.session(write=True) as session:
            row, token = tokens.create_token(session, "bench", None, None)
            return row.public_id, token
    finally:
        db.dispose()


def _clean(url: str, token_id: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM users WHERE external_id LIKE :p"), {"p": f"{PREFIX}%"})
            conn.execute(text("DELETE FROM scim_tokens WHERE public_id = :t"), {"t": token_id})
    finally:
        engine.dispose()


def _creations_ms(base: str, *series: tuple[str, str, dict[str, str], list[Any]]) -> list[float]:
    """The median of each series of creations (method, path, headers, bodies), in milliseconds,
    their requests alternating on one keep-alive connection each so that the machine's load
    weighs on both alike."""
    conns = [http.client.HTTPConnection(base.removeprefix("http://"), timeout=120) for _ in series]
    times: list[list[float]] = [[] for _ in series]
    try:
        for n in range(len(series[0][3])):
            for conn, spent, (method, path, headers, bodies) in zip(conns, times, series, strict=True):
                start = time.perf_counter()
                conn.request(method, path, body=json.dumps(bodies[n]).encode(), headers=headers)
                response = conn.getresponse()
                raw = response.read()
                spent.append((time.perf_counter() - start) * 1000)
                if response.status != 201:
                    raise RuntimeError(f"{method} {path}: {response.status} {raw[:300]!r}")
    finally:
        for conn in conns:
            conn.close()
    return [statistics.median(spent[2:]) for spent in times]


def _median_ms(client: Client, path: str, times: int, params: dict[str, Any]) -> float:
    """``Client.latency_ms`` for parameters it can't take as keywords (``count``)."""
    client.get(path, **params)
    spent = []
    for _ in range(times):
        start = time.perf_counter()
        client.get(path, **params)
        spent.append((time.perf_counter() - start) * 1000)
    return statistics.median(spent)


def measure(ds: scale_data.Dataset, creations: int) -> dict[str, float]:
    token_id, token = _token(ds.url)
    figures: dict[str, float] = {}
    try:
        with harness.serve(["--factory", "enabley.main:create_app"], harness.server_env(ds.url)) as server:
            scim = {"Authorization": f"Bearer {token}"}
            client = Client(server.base, scim)
            samples = ds.sample_users[:: max(1, len(ds.sample_users) // 20)]
            names = [client.get(f"/scim/v2/Users/{identifier}")["userName"] for identifier in samples]
            figures["userName eq, p50 ms"] = statistics.median(
                client.latency_ms("/scim/v2/Users", 20, filter=f'userName eq "{name}"') for name in names
            )
            for label, start in (("1", 1), ("middle", ds.users // 2), ("end", ds.users - PAGE + 1)):
                figures[f"page of {PAGE} at startIndex {label}, p50 ms"] = _median_ms(
                    client, "/scim/v2/Users", 60, {"startIndex": start, "count": PAGE}
                )
            client.close()
            api = {"Authorization": f"Bearer {harness.token(server.base, ds.client_key, ds.secret)}"}
            run = uuid.uuid4().hex[:8]
            scim_bodies = [
                {
                    "userName": f"{PREFIX}{run}-s{n}@example.com",
                    "externalId": f"{PREFIX}{run}-s{n}",
                    "name": {"givenName": "New", "familyName": "Learner"},
                    "emails": [{"value": f"{PREFIX}{run}-s{n}@example.com", "primary": True}],
                }
                for n in range(creations)
            ]
            api_bodies = [
                {
                    "identifier": f"{PREFIX}{run}-a{n}",
                    "username": f"{PREFIX}{run}-a{n}@example.com",
                    "firstName": "New",
                    "lastName": "Learner",
                    "email": f"{PREFIX}{run}-a{n}@example.com",
                }
                for n in range(creations)
            ]
            json_type = {"Content-Type": "application/json"}
            scim_ms, api_ms = _creations_ms(
                server.base,
                ("POST", "/scim/v2/Users", {**scim, **json_type}, scim_bodies),
                ("PUT", "/api/v2/users", {**api, **json_type}, api_bodies),
            )
            figures["POST /scim/v2/Users, p50 ms"] = scim_ms
            figures["PUT /api/v2/users (creating), p50 ms"] = api_ms
    finally:
        _clean(ds.url, token_id)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--creations", type=int, default=200)
    opts = parser.parse_args()
    postgres = os.environ.get("ENABLEY_BENCH_POSTGRES_URL")
    ds = scale_data.dataset(opts.backend, opts.users, postgres_url=postgres)
    figures = measure(ds, opts.creations)
    print(f"SCIM, {opts.backend}, {opts.users:,} users; {harness.machine()}; load {os.getloadavg()[0]:.2f}")
    for name, value in figures.items():
        print(f"| {name} | {value:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
