"""The cost of an Idempotency-Key on `PUT /api/v2/users`, end to end, on a fresh database.

One uvicorn worker (``enabley.main:create_app``) and wrk (one thread, 16 connections) updating
1,000 users in turn, three loads, alternated over ``--rounds`` (the best of each is kept):

- ``no key``: the plain update, as every integration sends it today;
- ``new key``: each update with a key of its own (a claim, the update, the answer kept);
- ``replay``: the first 200 of those requests again, round and round, with the same keys (a
  retry: the kept answer, no update).

Then, in-process, what a request without the header pays for the layer: a write sent through
``IdempotencyMiddleware`` to an app that answers at once, against the app called alone.

SQLite always; PostgreSQL too when ENABLEY_BENCH_POSTGRES_URL names a server (a database is
created and dropped for the run). Figures in bench/README.md ("Idempotency keys").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent)]

from bench import harness  # noqa: E402
from bench.upload import call, fresh_database, prepare  # noqa: E402

USERS = 1000
CONNECTIONS = 16
REPLAYED = 200
"""Keys the replay load goes round: the first requests of the keyed load before it."""


def _seed(base: str, token: str) -> list[str]:
    ids = [f"idem-{i}" for i in range(USERS)]
    content = "identifier,email\n" + "".join(f"{i},{i}@example.com\n" for i in ids)
    body = json.dumps({"files": [{"fileName": "users.csv", "content": content}]}).encode()
    status, answer = call("POST", f"{base}/api/v1/uploads/org", body, token)
    assert status == 200, answer
    return ids


def _lua(ids: list[str], key_prefix: str | None, cycle: int | None = None) -> str:
    """Updates of ``ids`` in turn; with ``key_prefix``, request n carries the key prefix..n; with
    ``cycle``, n goes round 1..cycle (the same requests, the same keys: replays)."""
    items = ",".join(json.dumps(i) for i in ids)
    step = f"n = n % {cycle} + 1" if cycle else "n = n + 1"
    key = f'wrk.headers["Idempotency-Key"] = "{key_prefix}" .. n\n  ' if key_prefix else ""
    return (
        f'wrk.headers["Content-Type"] = "application/json"\nlocal ids = {{{items}}}\nlocal n = 0\n'
        f"request = function()\n  {step}\n  {key}"
        """return wrk.format("PUT", "/api/v2/users", nil, '{"identifier":"' .. ids[n % #ids + 1] .. """
        """'","firstName":"Changed ' .. n .. '"}')\nend\n"""
    )


def run_backend(backend: str, seconds: int, rounds: int) -> dict[str, float]:
    with fresh_database(backend) as url:
        creds = prepare(url)[0]
        env = harness.server_env(url)
        with harness.serve(["--factory", "enabley.main:create_app"], env) as server:
            token = harness.token(server.base, creds["clientKey"], creds["secret"])
            ids = _seed(server.base, token)
            auth = (f"Authorization: Bearer {token}",)
            url_ = f"{server.base}/api/v2/users"
            best: dict[str, float] = {"no key": 0.0, "new key": 0.0, "replay": 0.0}
            for r in range(rounds):
                plain = harness.Load(url_, auth, "PUT", _lua(ids, None))
                best["no key"] = max(best["no key"], harness.wrk(plain, seconds, CONNECTIONS))
                keyed = harness.Load(url_, auth, "PUT", _lua(ids, f"r{r}-"))
                keyed_rate = harness.wrk(keyed, seconds, CONNECTIONS)
                best["new key"] = max(best["new key"], keyed_rate)
                if keyed_rate * seconds < REPLAYED * 1.2:
                    raise RuntimeError(f"the keyed load sent too few requests for {REPLAYED} replays")
                # The same requests again, with the same keys: every one a replay.
                replay = harness.Load(url_, auth, "PUT", _lua(ids, f"r{r}-", cycle=REPLAYED))
                best["replay"] = max(best["replay"], harness.wrk(replay, seconds, CONNECTIONS))
            return best


def pass_through_ns(iterations: int = 200_000) -> tuple[float, float]:
    """Nanoseconds per request without the header: the app alone, and behind the layer."""
    from enabley.idempotency.middleware import IdempotencyMiddleware, Keys

    async def app(scope: Any, receive: Any, send: Any) -> None:
        return None

    layer = IdempotencyMiddleware(app, context=None, keys=Keys(), token_path="/api/v1/token")  # type: ignore[arg-type]
    headers = [(b"host", b"x"), (b"authorization", b"Bearer t"), (b"content-type", b"application/json")]
    scope = {"type": "http", "method": "PUT", "path": "/api/v2/users", "headers": headers, "state": {}}

    async def timed(target: Any) -> float:
        start = time.perf_counter_ns()
        for _ in range(iterations):
            await target(scope, None, None)
        return (time.perf_counter_ns() - start) / iterations

    async def both() -> tuple[float, float]:
        alone = min([await timed(app) for _ in range(3)])
        behind = min([await timed(layer) for _ in range(3)])
        return alone, behind

    return asyncio.run(both())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk load")
    parser.add_argument("--rounds", type=int, default=2, help="loads of each kind; the best is kept")
    opts = parser.parse_args()
    backends = ["sqlite", *(["postgresql"] if os.environ.get("ENABLEY_BENCH_POSTGRES_URL") else [])]
    print(harness.machine())
    alone, behind = pass_through_ns()
    print(f"without the header, in-process: app alone {alone:.0f} ns, behind the layer {behind:.0f} ns")
    for backend in backends:
        best = run_backend(backend, opts.seconds, opts.rounds)
        base = best["no key"]
        cells = ", ".join(f"{name} {rate:,.0f} req/s ({rate / base:.2f})" for name, rate in best.items())
        print(f"{backend}: PUT /api/v2/users, {CONNECTIONS} connections: {cells}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
