"""Plain factory functions: they add and flush through the test's session, never commit."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.models import Account, Channel, Group, UserGroup

_seq = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}-{next(_seq)}"


def make_account(session: Session, name: str | None = None, sub_accounts: list[str] | None = None) -> Account:
    return accounts_service.create_account(session, name or unique("account"), sub_accounts or [])


def make_client(session: Session, account: Account) -> tuple[str, str]:
    client, secret = auth_service.create_client(session, account.name)
    return client.client_key, secret


def user_body(identifier: str | None = None, **fields: Any) -> dict[str, Any]:
    identifier = identifier or unique("user")
    body: dict[str, Any] = {
        "identifier": identifier,
        "email": f"{identifier}@example.com",
        "firstName": "Ana",
        "lastName": "Souza",
    }
    body.update(fields)
    return body


def make_group(
    session: Session, account: Account, external_id: str | None = None, parent: Group | None = None
) -> Group:
    external_id = external_id or unique("group")
    group = Group(
        account_id=account.id,
        external_id=external_id,
        name=external_id,
        parent_id=parent.id if parent is not None else None,
    )
    session.add(group)
    session.flush()
    return group


def add_to_group(session: Session, user_id: int, group: Group) -> None:
    session.add(UserGroup(user_id=user_id, group_id=group.id))
    session.flush()


def make_course(
    session: Session, account: Account, external_id: str | None = None, *, is_master: bool = False
) -> Channel:
    """A channel row (ordinary unless ``is_master``), for tests that only need one to exist."""
    external_id = external_id or unique("course")
    channel = Channel(account_id=account.id, external_id=external_id, name=external_id, is_master=is_master)
    session.add(channel)
    session.flush()
    return channel


@contextmanager
def counted_statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements run through ``engine`` inside the block (to keep N+1 queries out)."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)
