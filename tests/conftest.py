"""Test harness: one migrated database per backend and run, a rolled-back transaction per test.

SQLite always; PostgreSQL too when ENABLEY_TEST_POSTGRES_URL names a server (each run creates
and drops its own database there).
"""

from __future__ import annotations

import os

# The terminal is pinned before anything imports rich or typer: no test may depend on the width,
# colour support or locale of whatever runs the suite (an 80-column terminal, CI without one).
# Server processes started by the tests inherit the same environment.
TERMINAL = {
    "COLUMNS": "500",
    "LINES": "100",
    "TERM": "xterm",
    "NO_COLOR": "1",
    "LC_ALL": "C.UTF-8",
    "LANG": "C.UTF-8",
    "PYTHONIOENCODING": "utf-8",
}
_UNSET = ("FORCE_COLOR", "PY_COLORS", "CLICOLOR_FORCE", "TTY_COMPATIBLE", "TTY_INTERACTIVE", "TERMINAL_WIDTH")
for _name in _UNSET:
    os.environ.pop(_name, None)
os.environ.update(TERMINAL)

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from enabley import migrate
from enabley.config import Settings
from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.deps import AppContext
from enabley.main import create_app
from enabley.security import ensure_server_keys
from tests import factories

POSTGRES_URL = os.environ.get("ENABLEY_TEST_POSTGRES_URL")
BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(
            not POSTGRES_URL, reason="PostgreSQL half skipped: set ENABLEY_TEST_POSTGRES_URL to run it"
        ),
    ),
]


# With make test's processes (pytest-xdist, --dist loadgroup), each group runs on one of them, in
# order: the console's browser tests share one browser. (tests/hardening runs apart, after.)
SERIAL_GROUPS = {"tests/console/test_browser": "browser"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for prefix, group in SERIAL_GROUPS.items():
            if item.nodeid.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))


def pytest_report_header(config: pytest.Config) -> str:
    postgres = f"postgresql at {POSTGRES_URL}" if POSTGRES_URL else "postgresql skipped"
    return f"enabley databases: sqlite, {postgres}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    skipped = terminalreporter.stats.get("skipped", [])
    if not POSTGRES_URL and skipped:
        terminalreporter.write_line(
            f"PostgreSQL half skipped ({len(skipped)} tests): set ENABLEY_TEST_POSTGRES_URL to run it",
            yellow=True,
        )


class ScratchDatabases:
    """Creates empty databases of one backend and drops them at the end of the run."""

    def __init__(self, backend: str, tmp: Path) -> None:
        self.backend = backend
        self.tmp = tmp
        self.created: list[str] = []

    def new(self) -> str:
        name = f"enabley_test_{uuid.uuid4().hex[:12]}"
        if self.backend == "sqlite":
            return f"sqlite:///{self.tmp / name}.db"
        assert POSTGRES_URL is not None
        admin = make_engine(POSTGRES_URL, pool_size=1)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        self.created.append(name)
        return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if not self.created:
            return
        assert POSTGRES_URL is not None
        admin = make_engine(POSTGRES_URL, pool_size=1)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for name in self.created:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def scratch(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabases]:
    dbs = ScratchDatabases(backend, tmp_path_factory.mktemp(backend))
    yield dbs
    dbs.drop_all()


def settings_for(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "public_base_url": "https://lms.example.test",
        # Every test calls from one address: the limits per address, which would add up the
        # whole run's anonymous calls, are off unless a test sets them (tests/test_rate_limits.py).
        "anonymous_rate_limit": 0,
        "pdf_rate_limit": 0,
        # The webhook tests' receivers listen on 127.0.0.1; tests/webhooks/test_guard.py turns it off.
        "webhook_allow_private_networks": True,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="session")
def database_url(scratch: ScratchDatabases) -> str:
    url = scratch.new()
    migrate.upgrade(url)
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=5)
    database = Database(engine)
    with database.session(write=True) as session:
        ensure_server_keys(session, settings_for(database_url))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app_database(engine: Engine) -> Database:
    return Database(engine)


@pytest.fixture(scope="session")
def app(app_database: Database, database_url: str) -> FastAPI:
    return create_app(settings_for(database_url), database=app_database)


@pytest.fixture(scope="session")
def context(app: FastAPI) -> AppContext:
    context: AppContext = app.state.context
    return context


@pytest.fixture(scope="session")
def http(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def db(engine: Engine, app_database: Database) -> Iterator[Session]:
    """The test's transaction: the app and the factories share it, and it is rolled back at the end."""
    conn = engine.connect()
    outer = conn.begin()
    app_database.bind = conn
    session = app_database.new_session()
    try:
        yield session
    finally:
        app_database.bind = engine
        session.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def client(db: Session, http: TestClient) -> TestClient:
    """The HTTP client, inside this test's transaction."""
    return http


@pytest.fixture
def auth(db: Session, client: TestClient) -> Callable[..., dict[str, str]]:
    """Bearer headers for an account, through a real client and a real token request."""

    def headers(account: Any) -> dict[str, str]:
        key, secret = factories.make_client(db, account)
        response = client.post("/api/v1/token", params={"clientKey": key, "secret": secret})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    return headers


@pytest.fixture
def account(db: Session) -> Any:
    return factories.make_account(db, sub_accounts=["EU", "US"])


@pytest.fixture
def headers(auth: Callable[..., dict[str, str]], account: Any) -> dict[str, str]:
    return auth(account)


@pytest.fixture
def page_size(context: AppContext) -> Iterator[Callable[[int], None]]:
    """Shrink the page size for one test, so paging is cheap to exercise."""
    original = context.paginator.page_size

    def set_size(size: int) -> None:
        context.paginator.page_size = size

    yield set_size
    context.paginator.page_size = original


@pytest.fixture
def app_with(db: Session, engine: Engine, database_url: str) -> Iterator[Callable[..., TestClient]]:
    """``app_with(**settings)``: a client of an app built with other settings, in this test's transaction."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> TestClient:
        database = Database(engine)
        database.bind = db.connection()
        client = TestClient(create_app(settings_for(database_url, **overrides), database=database))
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)
