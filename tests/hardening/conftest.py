"""Process-level fixtures: server processes, databases and a throwaway PostgreSQL cluster.

The backend is a session parameter, so every scenario runs on SQLite and then on PostgreSQL, and
the servers most scenarios share start once per backend. Every process, cluster, database and
Redis key started or written here is stopped, dropped or deleted at the end of its scope, also
when the test failed.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator

import pytest
import redis

from tests.conftest import ScratchDatabases
from tests.hardening.harness import (
    BACKENDS,
    Cluster,
    Deployment,
    Server,
    Servers,
    ThrowawayPostgres,
    postgres_bindir,
    provision,
    start_cluster,
)

REDIS_URL = "redis://127.0.0.1:6379/9"
"""A Redis database of its own; the keys written there are deleted at the end all the same."""

UNLIMITED = 1_000_000
"""A rate limit no scenario reaches: requests still go through the shared Redis buckets."""


@pytest.fixture(scope="session", params=BACKENDS)
def db_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str | None]:
    """Redis for the shared rate limits, or None when there is none at 127.0.0.1:6379.

    Yields the URL; at the end, deletes every key the servers wrote for this run's clients.
    """
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5)
    try:
        client.ping()
    except redis.RedisError:
        yield None
        return
    yield REDIS_URL
    for key in list(client.scan_iter("enabley:*")):
        if key.decode().rsplit(":", 1)[-1] in Deployment.client_keys:
            client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def shared_deployment(db_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """One database per backend for the scenarios that share servers; dropped at the end."""
    scratch = ScratchDatabases(db_backend, tmp_path_factory.mktemp(f"db-{db_backend}"))
    try:
        yield provision(scratch.new(), db_backend)
    finally:
        scratch.drop_all()


@pytest.fixture(scope="session")
def shared_cluster(
    shared_deployment: Deployment, redis_url: str | None, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """Two single-worker server processes on different ports sharing the database (and Redis):
    requests spread over both really overlap."""
    servers = Servers(tmp_path_factory.mktemp("servers"))
    try:
        settings = {"page_size": 10}
        if redis_url:
            settings.update(redis_url=redis_url, rate_limit=UNLIMITED, rate_limit_burst=UNLIMITED)
        yield start_cluster(servers, shared_deployment, count=2, **settings)
    finally:
        servers.stop_all()


@pytest.fixture(scope="module")
def crash_site(
    db_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Deployment, Server]]:
    """A database of its own and one single-worker server on it, for scenarios that kill the
    server: each restarts it before it ends, so the next one finds it running."""
    scratch = ScratchDatabases(db_backend, tmp_path_factory.mktemp(f"db-{db_backend}"))
    servers = Servers(tmp_path_factory.mktemp("servers"))
    try:
        deployment = provision(scratch.new(), db_backend)
        (server,) = servers.launch(deployment.url)
        yield deployment, server
    finally:
        servers.stop_all()
        scratch.drop_all()


@pytest.fixture
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    servers = Servers(tmp_path_factory.mktemp("servers"))
    yield servers
    servers.stop_all()


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    bindir = postgres_bindir()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): set ENABLEY_TEST_PG_BINDIR to run it")
    if os.geteuid() == 0 and not _has_user("postgres"):
        pytest.skip("PostgreSQL refuses to run as root, and there is no 'postgres' user to run it as")
    cluster = ThrowawayPostgres(bindir)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()
