"""Benchmark data: an account with N users, built once and cached by schema revision."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from sqlalchemy import insert, select

from enabley import migrate
from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.config import Settings
from enabley.db import Database, make_engine, utcnow
from enabley.models import Account, User
from enabley.security import ensure_server_keys

CACHE = Path(__file__).parent / ".cache"
BATCH = 5_000


def sqlite_database(users: int) -> tuple[str, dict[str, str]]:
    """A SQLite file with ``users`` users in account "bench"; returns its URL and credentials."""
    CACHE.mkdir(exist_ok=True)
    tag = f"users-{users}-{migrate.head_revision()}"
    path, creds = CACHE / f"{tag}.db", CACHE / f"{tag}.json"
    if not (path.exists() and creds.exists()):
        scratch = path.with_suffix(".tmp")
        scratch.unlink(missing_ok=True)
        url = f"sqlite:///{scratch}"
        credentials = build(url, users)
        for suffix in ("-wal", "-shm"):
            Path(f"{scratch}{suffix}").unlink(missing_ok=True)
        shutil.move(scratch, path)
        creds.write_text(json.dumps(credentials))
    return f"sqlite:///{path}", json.loads(creds.read_text())


def build(url: str, users: int) -> dict[str, str]:
    migrate.upgrade(url)
    db = Database(make_engine(url))
    try:
        with db.session(write=True) as session:
            ensure_server_keys(session, Settings(database_url=url))
            account = accounts_service.create_account(session, "bench", ["EU", "US"])
            client, secret = auth_service.create_client(session, "bench")
            key = client.client_key
            account_id = account.id
        now = utcnow()
        for start in range(0, users, BATCH):
            rows = [_user(account_id, i, now) for i in range(start, min(start + BATCH, users))]
            with db.session(write=True) as session:
                session.execute(insert(User), rows)
        with db.session() as session:
            assert session.scalar(select(Account.id).where(Account.name == "bench")) == account_id
        return {"clientKey": key, "secret": secret}
    finally:
        db.dispose()


def _user(account_id: int, i: int, now: object) -> dict[str, object]:
    email = f"user{i}@example.com"
    return {
        "account_id": account_id,
        "external_id": f"user-{i}",
        "email": email,
        "email_key": email,
        "first_name": "First",
        "first_name_key": "first",
        "last_name": f"Last{i % 1000}",
        "last_name_key": f"last{i % 1000}",
        "username": f"u{i}",
        "username_key": f"u{i}",
        "is_active": True,
        "possible_roles": ["LEARNER"],
        "created_at": now,
        "modified_at": now,
    }
