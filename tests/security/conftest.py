"""Fixtures of the security tests: an app without request-rate limits and a populated account.

The contract fuzz runs hundreds of requests per operation, so it shares one populated account per
backend and module (``seeded``), inside a transaction that is rolled back at the end, and each
test runs inside its own savepoint of it (``fuzz_savepoint``): nothing is ever committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from enabley.db.database import Database
from enabley.main import create_app
from enabley.scim import tokens as scim_tokens
from tests import factories
from tests.conftest import settings_for
from tests.security import fuzzing
from tests.security.world import World, build_world, set_hierarchy

# No request-rate limit and no throttling of failed token requests: the fuzz sends far more
# requests than a client may, and both limits have tests of their own (tests/test_rate_limits.py).
UNLIMITED = {
    "rate_limit": 0,
    "token_failure_limit": 10**9,
    "token_failure_address_limit": 10**9,
    "token_failure_key_limit": 10**9,
    "page_size": 1,
    "access_log": False,
}


@pytest.fixture(scope="session")
def unlimited_app(app_database: Database, database_url: str) -> FastAPI:
    """An app like ``app`` (same database object, so it joins each test's transaction) without limits."""
    return create_app(settings_for(database_url, **UNLIMITED), database=app_database)


@dataclass
class Seed:
    """A populated account and what a client of it holds: credentials, a PDF link, paging keys."""

    world: World
    client_key: str
    secret: str
    headers: dict[str, str]
    pagination_keys: dict[str, list[str]] = field(default_factory=dict)
    connection: Connection | None = field(default=None, repr=False)
    scim_headers: dict[str, str] = field(default_factory=dict)
    """The account's SCIM bearer: what an identity provider sends to /scim/v2."""

    def headers_for(self, path: str) -> dict[str, str]:
        return self.scim_headers if path.startswith("/scim/") else self.headers

    @property
    def pdf_token(self) -> str:
        return self.world.pdf_url.rsplit("/", 1)[1]


def bearer(client: TestClient, key: str, secret: str) -> dict[str, str]:
    response = client.post("/api/v1/token", params={"clientKey": key, "secret": secret})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# Paged endpoints and the query that makes each answer a next-page key (page size 1).
PAGED = {
    "/api/v3/users": {},
    "/api/v3/channels": {},
    "/api/v3/channels/masters": {},
    "/api/v2/certificates": {},
    "/api/v2/performance": {"userIdentifier": "user"},
}


def mint_pagination_keys(client: TestClient, headers: dict[str, str], world: World) -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for path, query in PAGED.items():
        params = {name: getattr(world.ids, kind) for name, kind in query.items()}
        body = client.get(path, params=params, headers=headers).json()
        assert body.get("paginationKey"), (path, body)
        keys[path] = [body["paginationKey"]]
    return keys


@pytest.fixture(scope="module")
def seeded(engine: Engine, app_database: Database, unlimited_app: FastAPI) -> Iterator[Seed]:
    """One populated account per backend and module, in a transaction rolled back at the end."""
    conn = engine.connect()
    outer = conn.begin()
    app_database.bind = conn
    session = Session(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        account = factories.make_account(session, sub_accounts=["EU", "US"])
        key, secret = factories.make_client(session, account)
        _row, scim_token = scim_tokens.create_token(session, account.name, None, None)
        session.flush()
        with TestClient(unlimited_app) as client:
            headers = bearer(client, key, secret)
            set_hierarchy(client, headers, fuzzing.MARKER)
            world = build_world(client, headers, fuzzing.PREFIX, fuzzing.MARKER, password=False)
            keys = mint_pagination_keys(client, headers, world)
        seed = Seed(world, key, secret, headers, keys, conn, {"Authorization": f"Bearer {scim_token}"})
        fuzzing.KNOWN.load(seed)
        yield seed
    finally:
        fuzzing.KNOWN.clear()
        app_database.bind = engine
        session.close()
        outer.rollback()
        conn.close()


@pytest.fixture
def fuzz_savepoint(seeded: Seed) -> Iterator[Seed]:
    """The seeded account, with this test's writes undone at its end."""
    assert seeded.connection is not None
    savepoint = seeded.connection.begin_nested()
    try:
        yield seeded
    finally:
        savepoint.rollback()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    fuzzing.print_summary(terminalreporter)
