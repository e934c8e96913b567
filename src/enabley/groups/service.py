"""Groups: a tree per account, typed by the account's hierarchy, with users as members."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session, aliased

from enabley.accounts import service as accounts_service
from enabley.db.base import HasAccount, locked, owned
from enabley.db.columns import utcnow
from enabley.db.sql import insert_ignoring
from enabley.entitlements.schemas import EntityType
from enabley.errors import InvalidRequest, NotFound
from enabley.events import log
from enabley.groups import rules
from enabley.groups.schemas import GroupData, GroupInfo
from enabley.models import Account, Entitlement, Group, SubAccount, UserGroup
from enabley.users import service as users_service

_PARENT = aliased(Group, name="parent_group")
EVENT_BATCH = 5000


def get_hierarchy(session: Session, tenant: HasAccount) -> list[str]:
    return list(session.get_one(Account, tenant.account_id).hierarchy)


def set_hierarchy(session: Session, tenant: HasAccount, types: Sequence[str]) -> list[str]:
    """Replace the account's ordered group types; groups already typed must keep a valid type."""
    cleaned = [t.strip() for t in types]
    if any(not t or len(t) > 255 for t in cleaned):
        raise InvalidRequest("Hierarchy types must be 1 to 255 characters")
    if len(set(cleaned)) != len(cleaned):
        raise InvalidRequest("Hierarchy types must be unique")
    # A group typed concurrently must not slip past the check below.
    lock_account(session, tenant)
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


def lock_account(session: Session, tenant: HasAccount) -> list[str]:
    """Serialise this account's tree writes until commit; answers the account's hierarchy.

    Re-parenting checks the tree and then changes it: two such writes interleaving could each pass
    their check and together close a cycle. (SQLite already serialises writers.) FOR NO KEY UPDATE:
    tree writes queue behind one another, but not the writes that merely refer to the account (an
    event's row, which a write holding a group's lock adds: FOR UPDATE made that a deadlock).
    """
    hierarchy = session.execute(
        select(Account.hierarchy).where(Account.id == tenant.account_id).with_for_update(key_share=True)
    ).scalar_one()
    return list(hierarchy)


def account_hierarchy(session: Session, tenant: HasAccount) -> list[str]:
    """The account's hierarchy of group types, read without a lock."""
    hierarchy = session.execute(select(Account.hierarchy).where(Account.id == tenant.account_id)).scalar_one()
    return list(hierarchy)


def require_group(session: Session, tenant: HasAccount, identifier: str) -> Group:
    """The tenant's group with this identifier; 404 otherwise. A write keeps it locked (``db.locked``)."""
    group = session.scalar(locked(session, owned(Group, tenant).where(Group.external_id == identifier)))
    if group is None:
        raise NotFound(f"Group {identifier!r} not found")
    return group


def _info_select(tenant: HasAccount) -> Select[*tuple[Any, ...]]:
    return (
        owned(Group, tenant)
        .with_only_columns(
            Group.id,
            Group.external_id,
            Group.name,
            Group.type,
            Group.created_at,
            Group.modified_at,
            _PARENT.external_id.label("parent_identifier"),
            SubAccount.name.label("sub_account_name"),
        )
        .outerjoin(_PARENT, _PARENT.id == Group.parent_id)
        .outerjoin(SubAccount, SubAccount.id == Group.sub_account_id)
        .order_by(Group.id)
    )


def _infos(session: Session, stmt: Select[*tuple[Any, ...]]) -> list[GroupInfo]:
    return [GroupInfo.model_validate(row) for row in session.execute(stmt)]


def put_group(session: Session, tenant: HasAccount, data: GroupData) -> tuple[GroupInfo, bool]:
    """*Create or update Group*: the group as it now is, and whether it was created."""
    group, created = upsert_group(session, tenant, data)
    return info_of(session, tenant, group), created


def info_of(session: Session, tenant: HasAccount, group: Group) -> GroupInfo:
    return GroupInfo.model_validate(session.execute(_info_select(tenant).where(Group.id == group.id)).one())


def emit_written(
    session: Session, tenant: HasAccount, created: Collection[str], updated: Collection[str]
) -> None:
    """The events of groups a bulk write created and updated (the upload), in the order of their
    ids: parents first."""
    written = [*created, *updated]
    rows = []
    for start in range(0, len(written), EVENT_BATCH):
        batch = written[start : start + EVENT_BATCH]
        stmt = _info_select(tenant).where(Group.external_id.in_(batch)).order_by(Group.id)
        rows += [(info.identifier in created, info) for info in _infos(session, stmt)]
    log.emit_many(
        session,
        (
            (tenant.account_id, "group.created" if new else "group.updated", info.model_dump(mode="json"))
            for new, info in rows
        ),
    )


def list_groups(session: Session, tenant: HasAccount, sub_account_name: str | None) -> list[GroupInfo]:
    stmt = _info_select(tenant)
    sub = accounts_service.resolve_sub_account(session, tenant, sub_account_name)
    if sub is not None:
        stmt = stmt.where(Group.sub_account_id == sub.id)
    return _infos(session, stmt)


def get_group(
    session: Session, tenant: HasAccount, identifier: str, sub_account_name: str | None
) -> GroupInfo:
    sub = accounts_service.resolve_sub_account(session, tenant, sub_account_name)
    group = require_group(session, tenant, identifier)
    if sub is not None and group.sub_account_id != sub.id:
        raise NotFound(f"Group {identifier!r} not found in sub-account {sub_account_name!r}")
    return info_of(session, tenant, group)


def groups_of_user(
    session: Session, tenant: HasAccount, user_identifier: str, sub_account_name: str | None
) -> list[GroupInfo]:
    sub = accounts_service.resolve_sub_account(session, tenant, sub_account_name)
    user = users_service.require_user(session, tenant, user_identifier)
    stmt = _info_select(tenant).where(
        Group.id.in_(select(UserGroup.group_id).where(UserGroup.user_id == user.id))
    )
    if sub is not None:
        stmt = stmt.where(Group.sub_account_id == sub.id)
    return _infos(session, stmt)


def upsert_group(session: Session, tenant: HasAccount, data: GroupData) -> tuple[Group, bool]:
    """Create or update; returns the group and whether it was created.

    Fields the request leaves out keep their stored value; an explicit null clears them.
    """
    # The lock also settles a concurrent create of the same identifier: the second one waits,
    # then finds the group and updates it.
    hierarchy = lock_account(session, tenant)
    group = session.scalar(owned(Group, tenant).where(Group.external_id == data.identifier))
    created = group is None
    given = data.model_fields_set
    wanted: dict[str, Any] = {"name": data.name}
    if created or "sub_account_name" in given:
        sub = accounts_service.resolve_sub_account(session, tenant, data.sub_account_name)
        wanted["sub_account_id"] = sub.id if sub is not None else None
    if created or "type" in given:
        refusal = rules.type_refusal(data.type, hierarchy)
        if refusal is not None:
            raise InvalidRequest(refusal)
        wanted["type"] = data.type
    if created or "parent_identifier" in given:
        wanted["parent_id"] = _parent_id(session, tenant, group, data)
    if group is None:
        now = utcnow()
        group = Group(
            account_id=tenant.account_id,
            external_id=data.identifier,
            created_at=now,
            modified_at=now,
            **wanted,
        )
        session.add(group)
        session.flush()
        log.emit_object(session, tenant.account_id, "group.created", info_of(session, tenant, group))
        return group, True
    diff = rules.changes({key: getattr(group, key) for key in wanted}, wanted)
    if diff:
        for key, value in diff.items():
            setattr(group, key, value)
        group.modified_at = utcnow()
        session.flush()
        log.emit_object(session, tenant.account_id, "group.updated", info_of(session, tenant, group))
    return group, False


def _parent_id(session: Session, tenant: HasAccount, group: Group | None, data: GroupData) -> int | None:
    identifier = data.parent_identifier
    if identifier is None:
        return None
    if identifier == data.identifier:
        raise InvalidRequest(f"Group {identifier!r} can't be its own parent")
    parent = session.scalar(owned(Group, tenant).where(Group.external_id == identifier))
    if parent is None:
        raise InvalidRequest(f"Parent group {identifier!r} not found")
    if group is not None and group.parent_id != parent.id:
        chain = _ancestor_ids(session, tenant, parent.id)
        if rules.makes_cycle(group.id, parent.id, chain):
            raise InvalidRequest(
                f"Group {identifier!r} is a descendant of group {data.identifier!r}: "
                "it can't become its parent"
            )
    return parent.id


def _ancestor_ids(session: Session, tenant: HasAccount, group_id: int) -> set[int]:
    """The group and all of its ancestors."""
    chain = (
        owned(Group, tenant)
        .with_only_columns(Group.id, Group.parent_id)
        .where(Group.id == group_id)
        .cte("ancestors", recursive=True)
    )
    # UNION (not UNION ALL) stops at groups already seen, so even a corrupt cycle terminates.
    chain = chain.union(
        owned(Group, tenant)
        .with_only_columns(Group.id, Group.parent_id)
        .join(chain, Group.id == chain.c.parent_id)
    )
    return set(session.scalars(select(chain.c.id)))


def assign_user(
    session: Session, tenant: HasAccount, group_identifier: str, user_identifier: str, *, replace: bool
) -> None:
    group = require_group(session, tenant, group_identifier)
    # Replacing locks the user outright: two replacing assignments at once would each keep its own group.
    user = users_service.require_user(session, tenant, user_identifier, changing=replace)
    if replace:
        left = session.execute(
            delete(UserGroup)
            .where(UserGroup.user_id == user.id, UserGroup.group_id != group.id)
            .returning(UserGroup.group_id)
        ).scalars()
        others = session.scalars(
            owned(Group, tenant).with_only_columns(Group.external_id).where(Group.id.in_(list(left)))
        )
        for other in sorted(others):
            emit_membership(session, tenant, "group.member_removed", other, user_identifier)
    added = session.execute(
        insert_ignoring(session.get_bind().dialect, UserGroup.__table__).returning(UserGroup.user_id),
        {"user_id": user.id, "group_id": group.id},
    ).first()
    if added is not None:
        emit_membership(session, tenant, "group.member_added", group_identifier, user_identifier)


def emit_membership(session: Session, tenant: HasAccount, type: str, group: str, user: str) -> None:
    """``group.member_added`` or ``group.member_removed``: the group's and the user's identifiers."""
    log.emit(session, tenant.account_id, type, {"groupIdentifier": group, "userIdentifier": user})


def remove_user(session: Session, tenant: HasAccount, group_identifier: str, user_identifier: str) -> None:
    group = require_group(session, tenant, group_identifier)
    user = users_service.require_user(session, tenant, user_identifier)
    removed = session.connection().execute(
        delete(UserGroup).where(UserGroup.user_id == user.id, UserGroup.group_id == group.id)
    )
    if removed.rowcount:
        emit_membership(session, tenant, "group.member_removed", group_identifier, user_identifier)


def delete_group(session: Session, tenant: HasAccount, identifier: str) -> None:
    """Delete a group without child groups, with its memberships, channel assignments and
    GROUP entitlements."""
    # No child may be hung under this group while it goes.
    lock_account(session, tenant)
    group = require_group(session, tenant, identifier)
    children = list(
        session.scalars(
            owned(Group, tenant)
            .with_only_columns(Group.external_id)
            .where(Group.parent_id == group.id)
            .order_by(Group.id)
            .limit(5)
        )
    )
    if children:
        raise InvalidRequest(
            f"Group {identifier!r} has child groups ({', '.join(map(repr, children))}"
            f"{', ...' if len(children) == 5 else ''}): delete or move them first"
        )
    entitlements = (
        owned(Entitlement, tenant)
        .with_only_columns(Entitlement.id)
        .where(Entitlement.entity_type == EntityType.GROUP.value, Entitlement.entity_id == group.id)
    )
    session.execute(delete(Entitlement).where(Entitlement.id.in_(entitlements)))
    # The database cascades to memberships and channel assignments.
    session.execute(delete(Group).where(Group.id == group.id).execution_options(synchronize_session=False))
    session.expunge(group)
    log.emit(session, tenant.account_id, "group.deleted", log.deleted("group", identifier))
