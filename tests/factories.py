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
from enabley.models import Account, Channel, ChannelGroup, ChannelItem, ChannelUser, Group, User, UserGroup

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


def make_user(session: Session, account: Account, external_id: str | None = None, **fields: Any) -> User:
    """A user row; ``fields`` are User columns (first_name, last_name, ...)."""
    user = User(account_id=account.id, external_id=external_id or unique("user"), **fields)
    session.add(user)
    session.flush()
    return user


def make_channel(
    session: Session, account: Account, external_id: str | None = None, name: str | None = None
) -> Channel:
    external_id = external_id or unique("channel")
    channel = Channel(account_id=account.id, external_id=external_id, name=name or external_id)
    session.add(channel)
    session.flush()
    return channel


def make_channel_item(
    session: Session,
    channel: Channel,
    external_id: str | None = None,
    *,
    kind: str = "CONTENT",
    optional: bool = False,
    scored: bool = False,
) -> ChannelItem:
    """A content item (kind CONTENT) or training event (kind EVENT) of the channel."""
    external_id = external_id or unique("item")
    item = ChannelItem(
        account_id=channel.account_id,
        channel_id=channel.id,
        external_id=external_id,
        kind=kind,
        name=external_id,
        optional=optional,
        scored=scored,
    )
    session.add(item)
    session.flush()
    return item


def enrol_user(session: Session, channel: Channel, user: User, role: str = "LEARNER") -> None:
    """Assign the user to the channel directly."""
    session.add(ChannelUser(channel_id=channel.id, user_id=user.id, role=role))
    session.flush()


def assign_channel_group(
    session: Session, channel: Channel, group: Group, *, recursive: bool = False
) -> None:
    session.add(ChannelGroup(channel_id=channel.id, group_id=group.id, recursive=recursive))
    session.flush()
