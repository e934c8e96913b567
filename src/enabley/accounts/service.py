"""Accounts (tenants) and their sub-accounts: created by the operator, resolved on every request."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, union_all
from sqlalchemy.orm import Session

from enabley.db.base import HasAccount, owned
from enabley.errors import InvalidRequest, ItemExists, NotFound
from enabley.models import Account, Event, SubAccount


def get_account(session: Session, name: str) -> Account:
    account = session.scalar(select(Account).where(Account.name == name))
    if account is None:
        raise NotFound(f"Account {name!r} not found")
    return account


def create_account(session: Session, name: str, sub_accounts: Iterable[str] = ()) -> Account:
    if not name.strip():
        raise InvalidRequest("An account needs a name")
    if session.scalar(select(Account.id).where(Account.name == name)) is not None:
        raise ItemExists(f"Account {name!r} already exists")
    account = Account(name=name, hierarchy=[])
    session.add(account)
    session.flush()
    for sub in dict.fromkeys(sub_accounts):
        add_sub_account(session, account, sub)
    return account


def delete_account(session: Session, name: str) -> None:
    """Delete an account with everything it owns; its clients' tokens stop working at once.

    Two statements: every table referencing the account cascades from it in the database, through
    indexed foreign keys, however many rows it owns; the change log, which has no foreign key
    (docs/decisions/0013-cheaper-change-log-rows.md), after it, by its indexes on the account. In
    that order: deleting the account waits for any write holding it, so the second statement
    sees that write's events; no write can hold it afterwards. A write holds the account by a
    lock on its row (``events.log``), or by a row of the account's it has locked or changed,
    which the cascade deletes and so waits for (``log.emit_object_in``, decision 0017). No row is
    loaded into the session.
    """
    account = get_account(session, name)
    session.execute(delete(Account).where(Account.id == account.id))
    # Its numbered and its unnumbered events, each found by its partial index on the account.
    mine = select(Event.id).where(Event.account_id == account.id)
    held = union_all(mine.where(Event.position.is_not(None)), mine.where(Event.position.is_(None)))
    session.execute(delete(Event).where(Event.id.in_(held)))
    session.expunge(account)


def add_sub_account(session: Session, account: Account, name: str) -> SubAccount:
    if not name.strip() or len(name) > 255:
        raise InvalidRequest("A sub-account name must be 1 to 255 characters")
    exists = session.scalar(owned(SubAccount, account).where(SubAccount.name == name))
    if exists is not None:
        raise ItemExists(f"Sub-account {name!r} already exists in account {account.name!r}")
    sub = SubAccount(account_id=account.id, name=name)
    session.add(sub)
    session.flush()
    return sub


def list_sub_accounts(session: Session, account: Account) -> list[str]:
    return list(
        session.scalars(
            select(SubAccount.name).where(SubAccount.account_id == account.id).order_by(SubAccount.name)
        )
    )


def resolve_sub_account(session: Session, tenant: HasAccount, name: str | None) -> SubAccount | None:
    """The tenant's sub-account called ``name``; 400 when it has none of that name."""
    if name is None:
        return None
    sub = session.scalar(owned(SubAccount, tenant).where(SubAccount.name == name))
    if sub is None:
        raise InvalidRequest(f"Unknown subAccountName {name!r}")
    return sub
