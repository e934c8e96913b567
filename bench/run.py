"""`make bench`: throughput of the hot endpoints as a ratio to a bare ASGI endpoint.

Every figure comes from one run: the server under test and the bare endpoint run with the same
uvicorn settings (one worker), and wrk loads them from a separate process on loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
RESULTS = HERE / "results"
UVICORN = [
    sys.executable,
    "-m",
    "uvicorn",
    "--host",
    "127.0.0.1",
    "--workers",
    "1",
    "--log-level",
    "warning",
    "--no-access-log",
    "--http",
    "httptools",
    "--loop",
    "uvloop",
]

sys.path[:0] = [str(HERE.parent / "src"), str(HERE.parent)]
from bench import data  # noqa: E402


@dataclass
class Scenario:
    name: str
    url: str
    method: str = "GET"
    headers: tuple[str, ...] = ()
    target: float | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve(args: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    proc = subprocess.Popen([*UVICORN, "--port", str(port), *args], env=env, cwd=HERE.parent)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}") from None
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        yield
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def wrk(scenario: Scenario, seconds: int, connections: int) -> float:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in scenario.headers:
        cmd += ["-H", header]
    with tempfile.TemporaryDirectory() as tmp:
        if scenario.method != "GET":
            script = Path(tmp) / "method.lua"
            script.write_text(f'wrk.method = "{scenario.method}"\n')
            cmd += ["-s", str(script)]
        out = subprocess.run([*cmd, scenario.url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if match is None or non2xx is not None:
        raise RuntimeError(f"{scenario.name}: wrk reported errors:\n{out}")
    return float(match.group(1))


def fetch_token(base: str, creds: dict[str, str]) -> str:
    url = f"{base}/api/v1/token?clientKey={creds['clientKey']}&secret={creds['secret']}"
    with urllib.request.urlopen(urllib.request.Request(url, method="POST")) as r:
        return str(json.load(r)["access_token"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternate rounds; the best of each is kept")
    opts = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2

    print(f"preparing a SQLite database of {opts.users:,} users ...", flush=True)
    url, creds = data.sqlite_database(opts.users)
    # The servers run the code of this checkout, whatever is installed.
    env = {
        **os.environ,
        "ENABLEY_DATABASE_URL": url,
        "PYTHONPATH": f"{HERE.parent / 'src'}{os.pathsep}{HERE.parent}",
        # The limiter still runs on every request; it just never refuses the load generator.
        "ENABLEY_RATE_LIMIT": "1000000000",
        "ENABLEY_RATE_LIMIT_BURST": "1000000000",
    }
    app_port, bare_port = free_port(), free_port()
    app_base, bare_base = f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{bare_port}"
    results: dict[str, float] = {}
    with (
        serve(["--factory", "enabley.main:create_app"], env, app_port),
        serve(["bench.bare:app"], env, bare_port),
    ):
        token = fetch_token(app_base, creds)
        auth = (f"Authorization: Bearer {token}",)
        scenarios = [
            Scenario("bare ASGI endpoint", f"{bare_base}/"),
            Scenario(
                "GET /api/v2/users/{identifier}",
                f"{app_base}/api/v2/users/user-{opts.users // 2}",
                headers=auth,
                target=0.12,
            ),
            Scenario(
                "POST /api/v1/token",
                f"{app_base}/api/v1/token?clientKey={creds['clientKey']}&secret={creds['secret']}",
                method="POST",
                target=0.15,
            ),
        ]
        for scenario in scenarios:
            wrk(scenario, 2, opts.connections)  # warm-up
        for _ in range(opts.rounds):
            for scenario in scenarios:
                rate = wrk(scenario, opts.seconds, opts.connections)
                results[scenario.name] = max(rate, results.get(scenario.name, 0.0))
    bare = results["bare ASGI endpoint"]
    report = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}",
        "users": opts.users,
        "scenarios": [],
    }
    print(f"\n{'scenario':<36}{'req/s':>10}{'ratio':>8}{'target':>8}  result")
    failed = False
    for scenario in scenarios:
        rate = results[scenario.name]
        ratio = rate / bare
        ok = scenario.target is None or ratio >= scenario.target
        failed |= not ok
        target = f"{scenario.target:.2f}" if scenario.target else "-"
        verdict = "" if scenario.target is None else ("met" if ok else "MISSED")
        print(f"{scenario.name:<36}{rate:>10.0f}{ratio:>8.3f}{target:>8}  {verdict}")
        report["scenarios"].append(
            {"name": scenario.name, "rps": round(rate), "ratio": round(ratio, 3), "target": scenario.target}
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(report, indent=2))
    print(f"\nmachine: {report['machine']}; results in {RESULTS / 'latest.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
