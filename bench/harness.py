"""What every benchmark needs: a server of this checkout on a free port, wrk, timings, memory."""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).parent
ROOT = HERE.parent


def machine() -> str:
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_env(url: str) -> dict[str, str]:
    """The environment of a server under load: this checkout's code, no access log, no refusals."""
    return {
        **os.environ,
        "ENABLEY_DATABASE_URL": url,
        "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
        "ENABLEY_ACCESS_LOG": "false",
        # The limiters still run on every request; they just never refuse the load generator.
        "ENABLEY_RATE_LIMIT": "1000000000",
        "ENABLEY_RATE_LIMIT_BURST": "1000000000",
        "ENABLEY_ANONYMOUS_RATE_LIMIT": "1000000000",
        "ENABLEY_ANONYMOUS_RATE_LIMIT_BURST": "1000000000",
    }


def uvicorn(app: list[str], port: int, workers: int = 1) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        *app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
        # What `enabley serve` runs: uvicorn's httptools protocol with the slow-client guards.
        "--http",
        "enabley.server:GuardedProtocol",
        "--loop",
        "uvloop",
    ]


def status_kb(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of ``/proc/<pid>/status`` (VmRSS, VmHWM, ...) in kB; 0 for a process gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process, all its threads, so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@dataclass
class Server:
    """A running server; ``peak_rss_mb`` is the largest RSS any of its processes reached."""

    base: str
    process: subprocess.Popen[bytes]
    peak_rss_mb: float = 0.0
    _stop: threading.Event = field(default_factory=threading.Event)

    def watch_memory(self) -> None:
        while not self._stop.wait(0.2):
            pids = [self.process.pid, *_children(self.process.pid)]
            peak = max(status_kb(pid) for pid in pids) / 1024
            self.peak_rss_mb = max(self.peak_rss_mb, peak)


@contextmanager
def serve(app: list[str], env: dict[str, str], workers: int = 1) -> Iterator[Server]:
    port = free_port()
    proc = subprocess.Popen(uvicorn(app, port, workers), env=env, cwd=ROOT)
    server = Server(f"http://127.0.0.1:{port}", proc)
    watcher = threading.Thread(target=server.watch_memory, daemon=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = request(server.base, "GET", "/healthz" if app[0] == "--factory" else "/")
                if status == 200:
                    break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}") from None
                time.sleep(0.1)
        else:
            raise RuntimeError("server did not start")
        watcher.start()
        yield server
    finally:
        server._stop.set()
        proc.terminate()
        proc.wait(timeout=30)


@contextmanager
def latency_proxy(host: str, port: int, delay_ms: float) -> Iterator[int]:
    """``bench/latency_proxy.py`` in its own process, forwarding a free port to ``host:port`` with
    ``delay_ms`` of added round trip; yields the port. The process ends with the block."""
    listen = free_port()
    cmd = [sys.executable, str(HERE / "latency_proxy.py"), str(listen), host, str(port), str(delay_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"latency proxy exited with {proc.wait()}")
        yield listen
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def request(
    base: str, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
) -> tuple[int, Any]:
    """One request on a new connection; the status and the decoded JSON body."""
    host = base.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=120)
    try:
        payload = None if body is None else json.dumps(body).encode()
        hdrs = {**(headers or {}), **({"Content-Type": "application/json"} if payload else {})}
        conn.request(method, path, body=payload, headers=hdrs)
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


class Client:
    """One keep-alive connection, as an integrator's script holds it."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self._conn = http.client.HTTPConnection(base.removeprefix("http://"), timeout=120)
        self._headers = headers

    def get(self, path: str, **params: Any) -> Any:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        target = f"{path}?{query}" if query else path
        try:
            self._conn.request("GET", target, headers=self._headers)
            response = self._conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError):
            # The server closes a connection left idle past its keep-alive timeout: reconnect.
            self._conn.close()
            self._conn.request("GET", target, headers=self._headers)
            response = self._conn.getresponse()
        raw = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path} {params}: {response.status} {raw[:300]!r}")
        return json.loads(raw)

    def latency_ms(self, path: str, count: int, **params: Any) -> float:
        """The median of ``count`` sequential requests, in milliseconds (after two warm-up calls)."""
        for _ in range(2):
            self.get(path, **params)
        times = []
        for _ in range(count):
            start = time.perf_counter()
            self.get(path, **params)
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    def close(self) -> None:
        self._conn.close()


def token(base: str, client_key: str, secret: str) -> str:
    status, body = request(
        base, "POST", f"/api/v1/token?{urlencode({'clientKey': client_key, 'secret': secret})}"
    )
    if status != 200:
        raise RuntimeError(f"token: {status} {body}")
    return str(body["access_token"])


@dataclass
class Load:
    """A wrk load: fixed requests, or a Lua ``request`` function for ones that vary."""

    url: str
    headers: Sequence[str] = ()
    method: str = "GET"
    lua: str = ""


def lua_rotating(paths: Sequence[str]) -> str:
    """Requests cycling over ``paths`` (GETs of different rows, not one row served from cache)."""
    items = ",".join(json.dumps(p) for p in paths)
    return (
        f"local paths = {{{items}}}\nlocal i = 0\n"
        "request = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\n"
    )


def _wrk_command(load: Load, seconds: int, connections: int, script: Path) -> list[str]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s"]
    for header in load.headers:
        cmd += ["-H", header]
    script.write_text((f'wrk.method = "{load.method}"\n' if load.method != "GET" else "") + load.lua)
    return [*cmd, "-s", str(script), load.url]


def _checked(out: str, load: Load) -> str:
    if re.search(r"Requests/sec:", out) is None or re.search(r"Non-2xx or 3xx responses|Socket errors", out):
        raise RuntimeError(f"wrk reported errors for {load.url}:\n{out}")
    return out


def wrk(load: Load, seconds: int, connections: int = 16) -> float:
    """Requests per second; any error or non-2xx answer aborts the benchmark."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = _wrk_command(load, seconds, connections, Path(tmp) / "load.lua")
        out = _checked(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout, load)
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def wrk_latency(load: Load, seconds: int, connections: int) -> tuple[float, float]:
    """Requests per second and the 99th percentile of latency in ms (wrk ``--latency``).

    wrk leaves a request that takes longer than its timeout (2 s by default) out of the latency
    figures: here it waits 30 s, so that a stalled request counts with the time it took."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = _wrk_command(load, seconds, connections, Path(tmp) / "load.lua")
        cmd[1:1] = ["--latency", "--timeout", "30s"]
        out = _checked(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout, load)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    if p99 is None:
        raise RuntimeError(f"wrk printed no latency distribution for {load.url}:\n{out}")
    return rate, float(p99.group(1)) * _UNITS_MS[p99.group(2)]


def wrk_staggered(
    load: Load, seconds: int, connections: int = 16, parts: int = 2, stagger: float = 0.5
) -> float:
    """Requests per second of ``parts`` wrk processes started ``stagger`` seconds apart, each
    with its share of the connections: all of them over the whole window.

    uvicorn's workers share one listening socket, and the first to wake accepts every connection
    waiting: a single wrk opening all its keep-alive connections at once hands them all to one
    worker. Connections that arrive while one worker is busy go to an idle one, as they do from
    clients connecting over time or through a load balancer.
    """
    with tempfile.TemporaryDirectory() as tmp:
        procs = []
        for part in range(parts):
            if part:
                time.sleep(stagger)
            cmd = _wrk_command(load, seconds, connections // parts, Path(tmp) / f"load{part}.lua")
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True))
        outs = [proc.communicate()[0] for proc in procs]
    total = 0
    for out in outs:
        found = re.search(r"(\d+) requests in", _checked(out, load))
        total += int(found.group(1)) if found else 0
    return total / (seconds + stagger * (parts - 1))
