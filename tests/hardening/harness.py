"""The harness of the hardening tests: server processes, databases, a throwaway PostgreSQL cluster
and concurrent clients.

The servers run this checkout's code (``PYTHONPATH`` is the ``src`` beside these tests, whatever is
installed), each in its own process group so that a worker never outlives its test. PostgreSQL
comes from ENABLEY_TEST_POSTGRES_URL (a database per module, created and dropped here) or, for the
outage scenario, from a throwaway cluster the test initialises and removes itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

import httpx2
import pytest

from enabley import migrate
from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.config import Settings
from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.security import ensure_server_keys
from tests.conftest import POSTGRES_URL

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
CLIENT_TIMEOUT = httpx2.Timeout(30.0, connect=10.0)
ACCOUNT = "hardening"

NO_POSTGRES = "PostgreSQL half skipped: set ENABLEY_TEST_POSTGRES_URL to run it"
BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.skipif(not POSTGRES_URL, reason=NO_POSTGRES)),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- server processes ------------------------------------------------------------------------


class Server:
    """``enabley serve``, as an operator starts it, in a process group of its own."""

    def __init__(
        self,
        name: str,
        database_url: str,
        workdir: Path,
        *,
        workers: int = 1,
        port: int | None = None,
        settings: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.database_url = database_url
        self.workdir = workdir
        self.workers = workers
        self.port = port or free_port()
        self.settings = dict(settings or {})
        self.log_path = workdir / f"{name}.log"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def environment(self) -> dict[str, str]:
        # Nothing of the caller's own ENABLEY_* configuration leaks into the server under test.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ENABLEY_")}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))
        env.update(
            ENABLEY_DATABASE_URL=self.database_url,
            ENABLEY_ACCESS_LOG="false",
            ENABLEY_RATE_LIMIT="0",
            ENABLEY_PUBLIC_BASE_URL=self.url,
        )
        env.update({f"ENABLEY_{key.upper()}": str(value) for key, value in self.settings.items()})
        return env

    def start(self) -> Server:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        command = [
            sys.executable,
            "-m",
            "enabley",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                command,
                env=self.environment(),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, timeout: float = 60.0) -> Server:
        """Until every worker could have started: the port answers /healthz and the database /readyz."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server {self.name} exited with {self.proc.returncode}:\n{self.log()}")
            try:
                if httpx2.get(f"{self.url}/readyz", timeout=2.0).status_code == 200:
                    return self
            except httpx2.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server {self.name} did not start within {timeout} s:\n{self.log()}")

    def signal(self, sig: int) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group: the supervisor and every worker die at once."""
        if self.proc is None:
            return
        self.signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._reap_group()

    def stop(self) -> None:
        if self.proc is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
        self._reap_group()

    def _reap_group(self) -> None:
        # Workers whose parent died first are still in the group: none may outlive the test.
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""


class Servers:
    """Starts servers and stops every one of them at the end, also when the test failed."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[Server] = []

    def launch(self, database_url: str, count: int = 1, *, workers: int = 1, **settings: Any) -> list[Server]:
        """``count`` servers on the same database, started in parallel; ready when this returns."""
        servers = []
        for _ in range(count):
            name = f"server-{len(self.started) + 1}"
            server = Server(name, database_url, self.workdir, workers=workers, settings=settings)
            self.started.append(server)
            servers.append(server.start())
        for server in servers:
            server.wait_ready()
        return servers

    def stop_all(self) -> None:
        for server in self.started:
            server.stop()


# --- databases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deployment:
    """A migrated database with one account and an API client of it."""

    backend: str
    url: str
    client_key: str
    secret: str

    client_keys: ClassVar[set[str]] = set()
    """Every client key made here, so that what servers keep under them can be cleaned up."""

    def with_new_client(self) -> Deployment:
        """The same database and account through an API client of its own."""
        db = Database(make_engine(self.url, pool_size=1))
        try:
            with db.session(write=True) as session:
                client, secret = auth_service.create_client(session, ACCOUNT)
                key = client.client_key
        finally:
            db.dispose()
        Deployment.client_keys.add(key)
        return replace(self, client_key=key, secret=secret)


def provision(url: str, backend: str) -> Deployment:
    """Migrate the database, then create the account and its first API client."""
    migrate.upgrade(url)
    db = Database(make_engine(url, pool_size=1))
    try:
        with db.session(write=True) as session:
            ensure_server_keys(session, Settings(database_url=url))
            accounts_service.create_account(session, ACCOUNT, ["EU"])
            client, secret = auth_service.create_client(session, ACCOUNT)
            key = client.client_key
    finally:
        db.dispose()
    Deployment.client_keys.add(key)
    return Deployment(backend, url, key, secret)


# --- a throwaway PostgreSQL cluster ----------------------------------------------------------


def postgres_bindir() -> Path | None:
    """Where initdb and pg_ctl live: ENABLEY_TEST_PG_BINDIR, ``pg_config --bindir``, or the newest
    of the Debian layout."""
    candidates: list[Path] = []
    if override := os.environ.get("ENABLEY_TEST_PG_BINDIR"):
        candidates.append(Path(override))
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
            candidates.append(Path(out.stdout.strip()))
        except (OSError, subprocess.CalledProcessError):
            pass
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for path in candidates:
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


class ThrowawayPostgres:
    """A PostgreSQL cluster of its own in a temporary directory: trust auth, loopback only.

    PostgreSQL refuses to run as root: a root test runs the cluster as the ``postgres`` user.
    """

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="enabley-pg-"))
        self.data = self.root / "data"
        self.logfile = self.root / "postgres.log"
        self.user: str | None = None
        if os.geteuid() == 0:
            self.user = "postgres"
            shutil.chown(self.root, user=self.user)
        self.running = False

    def _run(self, *args: str, timeout: float = 60) -> None:
        extra: dict[str, Any] = {"user": self.user} if self.user else {}
        result = subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.root,
            check=False,
            **extra,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr}\n{self.log()}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.logfile), "-w", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")
        self.running = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        name = f"enabley_{uuid.uuid4().hex[:8]}"
        engine = make_engine(self.url(), pool_size=1)
        try:
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        finally:
            engine.dispose()
        return self.url(name)

    def log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def destroy(self) -> None:
        try:
            if self.running:
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


# --- clients ---------------------------------------------------------------------------------


def get_token(base_url: str, deployment: Deployment) -> str:
    response = httpx2.post(
        f"{base_url}/api/v1/token",
        params={"clientKey": deployment.client_key, "secret": deployment.secret},
        timeout=CLIENT_TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Outcome:
    """One request's answer, or the transport error that took its place."""

    status: int | None
    body: Any = None
    error: str | None = None
    server: int = 0
    started: float = 0.0
    elapsed: float = 0.0
    request: dict[str, Any] = field(default_factory=dict)


async def call(
    client: httpx2.AsyncClient, method: str, url: str, *, server: int = 0, **kwargs: Any
) -> Outcome:
    started = time.monotonic()
    request = {"method": method, "url": url, **kwargs}
    try:
        response = await client.request(method, url, **kwargs)
    except httpx2.HTTPError as exc:
        return Outcome(None, None, repr(exc), server, started, time.monotonic() - started, request)
    try:
        body = response.json() if response.content else None
    except ValueError:
        body = response.text
    return Outcome(response.status_code, body, None, server, started, time.monotonic() - started, request)


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


async def gather(calls: Iterable[Awaitable[Outcome]]) -> list[Outcome]:
    return list(await asyncio.gather(*calls))


def describe(outcomes: Iterable[Outcome], limit: int = 8) -> str:
    """The statuses of ``outcomes``, then a line for each failure (or each outcome when none
    failed), up to ``limit``."""
    everything = list(outcomes)
    failed = [o for o in everything if o.status is None or o.status >= 400]
    listed = failed or everything
    lines = [f"statuses: {statuses(everything)}"]
    for o in listed[:limit]:
        body = o.error or (o.body if isinstance(o.body, str) else repr(o.body))
        lines.append(f"{o.status} {o.request.get('method')} {o.request.get('url')} {body[:200]}")
    if len(listed) > limit:
        lines.append(f"... and {len(listed) - limit} more")
    return "\n".join(lines)


def statuses(outcomes: Iterable[Outcome]) -> dict[int | None, int]:
    counts: dict[int | None, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


@dataclass
class Cluster:
    """Servers sharing one deployment's database, and a token for its API client."""

    deployment: Deployment
    servers: list[Server]
    token: str

    def base(self, i: int) -> str:
        """The base URL of server ``i`` (modulo their number): spread requests by index."""
        return self.servers[i % len(self.servers)].url

    def client(self, **kwargs: Any) -> httpx2.AsyncClient:
        return httpx2.AsyncClient(
            headers=bearer(self.token),
            timeout=kwargs.pop("timeout", CLIENT_TIMEOUT),
            limits=httpx2.Limits(max_connections=200, max_keepalive_connections=200),
            **kwargs,
        )


def start_cluster(
    servers: Servers, deployment: Deployment, count: int = 2, *, workers: int = 1, **settings: Any
) -> Cluster:
    started = servers.launch(deployment.url, count, workers=workers, **settings)
    return Cluster(deployment, started, get_token(started[0].url, deployment))
