"""A request whose database work is slow holds a database thread, never the event loop
(docs/decisions/0006-execution-model.md): while one client's search is held inside its unit of
work, the same server answers the health check, another tenant's lookup, and other reads and
writes of the same account.

Nothing here is timed: the slow search waits on an event that the test sets only after the other
requests have been answered. Under a model that ran the search on the event loop, they could not
be answered at all; the test then fails at its join timeout instead of hanging.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.db.database import Database
from enabley.main import create_app
from enabley.users import service as users_service
from tests.conftest import settings_for

GIVE_UP = 30.0
"""Seconds after which a request that was not answered counts as stalled (not a timing)."""


@pytest.fixture
def server(database_url: str) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    """A server of its own with two accounts, each with a user ``u-1``; their bearer headers."""
    db = Database.for_server(database_url, pool_size=3, timeout=5, statement_timeout=10)
    names = [f"exec-{uuid.uuid4().hex[:8]}" for _ in range(2)]
    credentials = {}
    with db.session(write=True) as session:
        for name in names:
            accounts_service.create_account(session, name)
            client, secret = auth_service.create_client(session, name)
            credentials[name] = {"clientKey": client.client_key, "secret": secret}
    app = create_app(settings_for(database_url), database=db)
    try:
        with TestClient(app) as http:
            headers = {}
            for name, given in credentials.items():
                token = http.post("/api/v1/token", params=given).json()["access_token"]
                headers[name] = {"Authorization": f"Bearer {token}"}
                created = http.put(
                    "/api/v2/users",
                    headers=headers[name],
                    json={"identifier": "u-1", "username": "u-1", "firstName": "U", "lastName": "One"},
                )
                assert created.status_code in (200, 201), created.text
            yield http, headers
    finally:
        with db.session(write=True) as session:
            for name in names:
                accounts_service.delete_account(session, name)
        db.dispose()


def test_a_slow_read_stalls_no_other_request(server, monkeypatch):
    http, headers = server
    slow_tenant, other_tenant = headers.values()
    entered = threading.Event()
    release = threading.Event()
    real_search = users_service.find_users

    def held_search(session: Session, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(GIVE_UP)
        return real_search(session, *args, **kwargs)

    monkeypatch.setattr(users_service, "find_users", held_search)
    slow: dict[str, Any] = {}

    def search() -> None:
        slow["response"] = http.get("/api/v2/users", headers=slow_tenant)

    searcher = threading.Thread(target=search, daemon=True)
    searcher.start()
    answered: dict[str, int] = {}

    def others() -> None:
        assert entered.wait(GIVE_UP), "the slow search never started"
        answered["health"] = http.get("/healthz").status_code
        answered["other tenant's lookup"] = http.get("/api/v2/users/u-1", headers=other_tenant).status_code
        answered["same tenant's lookup"] = http.get("/api/v2/users/u-1", headers=slow_tenant).status_code
        answered["same tenant's walk"] = http.get("/api/v3/users", headers=slow_tenant).status_code
        answered["other tenant's write"] = http.put(
            "/api/v2/users",
            headers=other_tenant,
            json={"identifier": "u-1", "username": "u-1", "firstName": "Changed", "lastName": "One"},
        ).status_code

    try:
        meanwhile = threading.Thread(target=others, daemon=True)
        meanwhile.start()
        meanwhile.join(GIVE_UP)
        assert not meanwhile.is_alive(), f"requests stalled behind the slow search; answered: {answered}"
        assert searcher.is_alive(), "the slow search ended before the others were answered"
    finally:
        release.set()
        searcher.join(GIVE_UP)
    assert answered == {
        "health": 200,
        "other tenant's lookup": 200,
        "same tenant's lookup": 200,
        "same tenant's walk": 200,
        "other tenant's write": 200,
    }
    assert slow["response"].status_code == 200, slow["response"].text
