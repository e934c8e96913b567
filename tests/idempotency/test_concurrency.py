"""Two requests with one key at once run once, whichever process or thread each reaches: the
database's unique key decides, never a process's memory.

Against a served app with a database of its own (committed transactions, a real pool), from
threads. Nothing here is timed: the held request waits on an event the test sets.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.db.database import Database
from enabley.main import create_app
from enabley.models import User
from enabley.users import service as users_service
from tests.conftest import settings_for

GIVE_UP = 30.0
"""Seconds after which a request that was not answered counts as stalled (not a timing)."""
USERS = "/api/v2/users"


@pytest.fixture
def served(database_url: str) -> Iterator[tuple[TestClient, dict[str, str], Database]]:
    db = Database.for_server(database_url, pool_size=6, timeout=10, statement_timeout=10)
    name = f"idem-{uuid.uuid4().hex[:8]}"
    with db.session(write=True) as session:
        accounts_service.create_account(session, name)
        client, secret = auth_service.create_client(session, name)
        given = {"clientKey": client.client_key, "secret": secret}
    app = create_app(settings_for(database_url), database=db)
    try:
        with TestClient(app) as http:
            token = http.post("/api/v1/token", params=given).json()["access_token"]
            yield http, {"Authorization": f"Bearer {token}"}, db
    finally:
        with db.session(write=True) as session:
            accounts_service.delete_account(session, name)
        db.dispose()


def _users(db: Database, identifier: str) -> int:
    with db.session() as session:
        query = select(func.count()).select_from(User).where(User.external_id == identifier)
        return int(session.scalar(query) or 0)


def test_parallel_duplicates_run_once(served):
    http, headers, db = served
    http.app.state.idempotency.wait_for_first = (
        GIVE_UP  # waiting is what is tested, not how fast the first is
    )
    body = {"identifier": "u-par", "firstName": "Par", "lastName": "Allel", "email": "par@example.com"}
    keyed = {**headers, "Idempotency-Key": "parallel-1"}
    start = threading.Barrier(6)

    def send(_: int) -> Any:
        start.wait(GIVE_UP)
        return http.put(USERS, json=body, headers=keyed)

    with ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(send, range(6), timeout=GIVE_UP))
    assert [a.status_code for a in answers] == [201] * 6, [a.text for a in answers]
    ran = [a for a in answers if a.headers.get("idempotency-replayed") != "true"]
    assert len(ran) == 1, "one ran; the others waited for it and replayed its answer"
    assert {a.content for a in answers} == {ran[0].content}
    assert _users(db, "u-par") == 1


def test_a_duplicate_of_a_running_request_gets_409_after_waiting(served, monkeypatch):
    http, headers, _db = served
    http.app.state.idempotency.wait_for_first = 0.05
    entered, release = threading.Event(), threading.Event()
    real = users_service.put_user

    def held(session: Session, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(GIVE_UP)
        return real(session, *args, **kwargs)

    monkeypatch.setattr(users_service, "put_user", held)
    body = {"identifier": "u-held", "firstName": "H", "lastName": "Eld", "email": "held@example.com"}
    keyed = {**headers, "Idempotency-Key": "held-1"}
    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(http.put, USERS, json=body, headers=keyed)
        try:
            assert entered.wait(GIVE_UP), "the first request never started"
            duplicate = http.put(USERS, json=body, headers=keyed)
        finally:
            release.set()
        assert first.result(GIVE_UP).status_code == 201
    assert duplicate.status_code == 409, duplicate.text
    assert duplicate.headers["retry-after"] == "1"
    assert "still running" in duplicate.json()["error_description"]
    retry = http.put(USERS, json=body, headers=keyed)
    assert (retry.status_code, retry.headers.get("idempotency-replayed")) == (201, "true")
