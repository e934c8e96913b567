"""Groups: a tree per account, typed by the account's hierarchy, with users as members."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from enabley.db import HasAccount, owned
from enabley.errors import InvalidRequest
from enabley.models import Account, Group


def get_hierarchy(session: Session, tenant: HasAccount) -> list[str]:
    return list(session.get_one(Account, tenant.account_id).hierarchy)


def set_hierarchy(session: Session, tenant: HasAccount, types: Sequence[str]) -> list[str]:
    """Replace the account's ordered group types; groups already typed must keep a valid type."""
    cleaned = [t.strip() for t in types]
    if any(not t or len(t) > 255 for t in cleaned):
        raise InvalidRequest("Hierarchy types must be 1 to 255 characters")
    if len(set(cleaned)) != len(cleaned):
        raise InvalidRequest("Hierarchy types must be unique")
    if cleaned:
        stray = list(
            session.scalars(
                owned(Group, tenant)
                .with_only_columns(Group.type)
                .where(Group.type.is_not(None), Group.type.not_in(cleaned))
                .distinct()
                .order_by(Group.type)
                .limit(10)
            )
        )
        if stray:
            raise InvalidRequest(
                f"Groups use types missing from the new hierarchy: {', '.join(map(repr, stray))}"
            )
    account = session.get_one(Account, tenant.account_id)
    account.hierarchy = cleaned
    session.flush()
    return cleaned
