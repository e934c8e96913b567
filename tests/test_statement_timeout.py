"""Every statement of a request has a deadline: ENABLEY_STATEMENT_TIMEOUT_SECONDS.

A statement past it is stopped by the database itself (PostgreSQL's statement_timeout, SQLite's
progress handler), the request answers 503 naming the setting, and the connection goes back to
the pool clean: the next request on it is served.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.main import create_app
from enabley.users import service as users_service
from tests.conftest import settings_for

TIMEOUT = 0.3

SHORT = (
    # Milliseconds of work, but many progress-handler calls: a stale deadline would stop it.
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT count(*) FROM (SELECT x FROM c LIMIT 20000)"
)

SLOW = {
    # Counting a billion rows one by one: minutes, unless something stops it.
    "sqlite": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    "SELECT count(*) FROM (SELECT x FROM c LIMIT 1000000000)",
    "postgresql": "SELECT pg_sleep(60)",
}


@pytest.fixture
def limited(database_url: str) -> Iterator[tuple[Database, dict[str, str], TestClient]]:
    """A server whose statements may run TIMEOUT seconds, with one connection, and an account of
    its own (committed: the server's connection doesn't see the test's transaction)."""
    db = Database.for_server(database_url, pool_size=1, timeout=5, statement_timeout=TIMEOUT)
    name = f"deadline-{uuid.uuid4().hex[:8]}"
    with db.session(write=True) as session:
        accounts_service.create_account(session, name)
        client, secret = auth_service.create_client(session, name)
        credentials = {"clientKey": client.client_key, "secret": secret}
    app = create_app(settings_for(database_url, statement_timeout_seconds=TIMEOUT), database=db)
    try:
        with TestClient(app) as http:
            token = http.post("/api/v1/token", params=credentials).json()["access_token"]
            yield db, {"Authorization": f"Bearer {token}"}, http
    finally:
        with db.session(write=True) as session:
            accounts_service.delete_account(session, name)
        db.dispose()


def test_a_statement_past_its_deadline_answers_503_naming_the_timeout(limited, backend, monkeypatch):
    db, headers, http = limited

    def slow_search(session: Session, *_: Any, **__: Any) -> list[Any]:
        session.execute(text(SLOW[backend]))
        return []

    monkeypatch.setattr(users_service, "find_users", slow_search)
    response = http.get("/api/v2/users", headers=headers)
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "service_unavailable"
    assert f"ENABLEY_STATEMENT_TIMEOUT_SECONDS={TIMEOUT:g} s" in response.json()["error_description"]
    assert response.headers["Retry-After"] == "1"

    monkeypatch.undo()
    # The pool's one connection served the stopped statement: it is clean and serves the next.
    assert http.get("/api/v2/users", headers=headers).status_code == 200
    with db.session() as session:
        assert session.execute(text("SELECT 1")).scalar() == 1


def test_statements_within_the_deadline_run_as_usual(limited):
    db, headers, http = limited
    for _ in range(3):
        assert http.get("/api/v2/users", headers=headers).status_code == 200
    with db.session() as session:
        # Several statements, each well within the deadline, whatever their sum.
        for _ in range(5):
            assert session.execute(text("SELECT 1")).scalar() == 1


def test_every_way_of_sending_a_statement_to_sqlite_has_the_deadline(tmp_path):
    """ORM and Core statements go through a cursor, ``FastQuery`` and the bulk writes through the
    DBAPI connection's own cursors, pragmas through the connection: each arms the deadline as it
    starts, and a statement that starts after an earlier one's deadline has passed runs in full."""
    engine = make_engine(f"sqlite:///{tmp_path / 'deadline.db'}", pool_size=1, statement_timeout=TIMEOUT)
    try:
        pooled = engine.raw_connection()
        driver = pooled.driver_connection
        for send in (lambda sql: driver.cursor().execute(sql), lambda sql: driver.execute(sql)):
            with pytest.raises(sqlite3.OperationalError, match="interrupted"):
                send(SLOW["sqlite"])
            time.sleep(TIMEOUT * 2)  # the last deadline is long past: the next statement gets its own
            assert send(SHORT).fetchone() == (20_000,)
        pooled.close()
    finally:
        engine.dispose()
