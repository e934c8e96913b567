"""Plain factory functions: they add and flush through the test's session, never commit."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.models import Account, Group, UserGroup

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
