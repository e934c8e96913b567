"""SCIM Groups over enabley's groups: a group's direct members are the SCIM members.

Written through the groups service. A group created through SCIM has no parent; it gets the
token's default group type, and the token's sub-account when the token is confined to one.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from enabley.db.base import AnySelect
from enabley.db.columns import utcnow
from enabley.db.sql import insert_ignore
from enabley.errors import InvalidRequest, ItemExists, NotFound, describe_validation_error
from enabley.groups import service as groups_service
from enabley.groups.schemas import GroupData
from enabley.models import Group, SubAccount, User, UserGroup, UserSubAccount
from enabley.scim import paging
from enabley.scim.auth import ScimTenant
from enabley.scim.listing import ListQuery
from enabley.scim.patch import apply_patch
from enabley.scim.schema import GROUP_RESOURCE
from enabley.scim.sql import Column, compile_filter
from enabley.scim.wire import folded, group_to_scim

COLUMNS = (
    Group.id,
    Group.external_id,
    Group.scim_external_id,
    Group.name,
    Group.created_at,
    Group.modified_at,
)


def _has_member(compare: Any) -> Any:
    inner = compile_filter(
        compare, {compare.path.dotted: Column(User.external_id.expression, "string", case_exact=True)}
    )
    return exists(
        select(UserGroup.group_id)
        .join(User, User.id == UserGroup.user_id)
        .where(UserGroup.group_id == Group.id, inner)
    )


MAPPING: dict[str, Any] = {
    "id": Column(Group.external_id.expression, "string", case_exact=True),
    "externalid": Column(Group.scim_external_id.expression, "string", case_exact=True),
    "displayname": Column(Group.name.expression, "string"),
    "members.display": _has_member,
    "members.value": _has_member,
    "meta.created": Column(Group.created_at.expression, "dateTime"),
    "meta.lastmodified": Column(Group.modified_at.expression, "dateTime"),
}
SORTABLE: dict[str, Any] = {
    "id": Group.external_id,
    "externalid": Group.scim_external_id,
    "displayname": Group.name,
    "meta.created": Group.created_at,
    "meta.lastmodified": Group.modified_at,
}


def _scoped(tenant: ScimTenant) -> AnySelect:
    stmt = select(*COLUMNS).where(Group.account_id == tenant.account_id)
    if tenant.sub_account_id is not None:
        stmt = stmt.where(Group.sub_account_id == tenant.sub_account_id)
    return stmt


def _wants_members(query: ListQuery | None) -> bool:
    if query is None:
        return True
    if query.attributes is not None:
        return any(name.lower().split(".")[0].endswith("members") for name in query.attributes)
    return not any(name.lower().split(".")[0].endswith("members") for name in query.excluded or ())


def _members(session: Session, group_ids: list[int]) -> dict[int, list[str]]:
    """Each group's members' identifiers, for many groups in one query."""
    found: dict[int, list[str]] = defaultdict(list)
    if not group_ids:
        return found
    rows = session.execute(
        select(UserGroup.group_id, User.external_id)
        .join(User, User.id == UserGroup.user_id)
        .where(UserGroup.group_id.in_(group_ids))
        .order_by(UserGroup.group_id, User.id)
    )
    for group_id, identifier in rows:
        found[group_id].append(identifier)
    return found


def find_row(session: Session, tenant: ScimTenant, identifier: str) -> Any:
    row = session.execute(_scoped(tenant).where(Group.external_id == identifier)).first()
    if row is None:
        raise NotFound(f"Group {identifier!r} not found")
    return row


def resource(
    session: Session, tenant: ScimTenant, row: Any, base_url: str, query: ListQuery | None = None
) -> dict[str, Any]:
    members = _members(session, [row.id]).get(row.id, []) if _wants_members(query) else None
    found = group_to_scim(row, members, base_url)
    return (
        found if query is None else paging.projected(found, GROUP_RESOURCE, query.attributes, query.excluded)
    )


def get_group(
    session: Session, tenant: ScimTenant, identifier: str, base_url: str, query: ListQuery
) -> dict[str, Any]:
    return resource(session, tenant, find_row(session, tenant, identifier), base_url, query)


def list_groups(session: Session, tenant: ScimTenant, query: ListQuery, base_url: str) -> dict[str, Any]:
    rows, total = paging.page(session, query, _scoped(tenant), Group, MAPPING, SORTABLE)
    members = _members(session, [row.id for row in rows]) if _wants_members(query) else {}
    resources = [
        paging.projected(
            group_to_scim(row, members.get(row.id), base_url),
            GROUP_RESOURCE,
            query.attributes,
            query.excluded,
        )
        for row in rows
    ]
    return paging.response(resources, total, query)


def _fields(body: dict[str, Any]) -> tuple[str, str | None, list[str] | None]:
    """displayName, externalId and the member ids of a SCIM Group body (None: no members given)."""
    body = folded(body, ("displayName", "externalId", "members"))
    name = body.get("displayName")
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("displayName is required", scim_type="invalidValue")
    external_id = body.get("externalId")
    if external_id is not None and not isinstance(external_id, str):
        raise InvalidRequest("externalId must be a string", scim_type="invalidValue")
    members = body.get("members")
    if members is None:
        return name, external_id or None, None
    if not isinstance(members, list):
        raise InvalidRequest("members must be a list", scim_type="invalidValue")
    ids: list[str] = []
    for member in members:
        value = folded(member, ("value",)).get("value") if isinstance(member, dict) else None
        if not isinstance(value, str) or not value:
            raise InvalidRequest("Each member needs a value: the user's id", scim_type="invalidValue")
        ids.append(value)
    return name, external_id or None, list(dict.fromkeys(ids))


def _set_members(session: Session, tenant: ScimTenant, group: Group, wanted: list[str]) -> bool:
    """Makes the group's direct members exactly ``wanted`` (user ids the token sees); whether
    anything changed."""
    users = select(User.id, User.external_id).where(
        User.account_id == tenant.account_id, User.external_id.in_(wanted)
    )
    if tenant.sub_account_id is not None:
        users = users.where(
            exists().where(
                UserSubAccount.user_id == User.id, UserSubAccount.sub_account_id == tenant.sub_account_id
            )
        )
    found = {identifier: user_id for user_id, identifier in session.execute(users)}
    missing = [identifier for identifier in wanted if identifier not in found]
    if missing:
        raise InvalidRequest(
            f"No user with id {', '.join(map(repr, missing[:5]))}: members must be existing users",
            scim_type="invalidValue",
        )
    group_id = group.id
    current = set(session.scalars(select(UserGroup.user_id).where(UserGroup.group_id == group_id)))
    ids = set(found.values())
    gone, new = current - ids, ids - current
    if gone:
        left = session.scalars(
            delete(UserGroup)
            .where(UserGroup.group_id == group_id, UserGroup.user_id.in_(gone))
            .returning(UserGroup.user_id)
        ).all()
        names = session.execute(select(User.id, User.external_id).where(User.id.in_(left))).all()
        for user in sorted(name for _, name in names):
            groups_service.emit_membership(session, tenant, "group.member_removed", group.external_id, user)
    if new:
        insert_ignore(
            session, UserGroup.__table__, [{"user_id": u, "group_id": group_id} for u in sorted(new)]
        )
        for user in sorted(identifier for identifier, user_id in found.items() if user_id in new):
            groups_service.emit_membership(session, tenant, "group.member_added", group.external_id, user)
    return bool(gone or new)


def _new_identifier(session: Session, tenant: ScimTenant, external_id: str | None) -> str:
    if external_id:
        taken = session.scalar(
            select(Group.id).where(Group.account_id == tenant.account_id, Group.external_id == external_id)
        )
        if taken is None:
            return external_id
    return str(uuid.uuid4())


def _sub_account_name(session: Session, tenant: ScimTenant) -> str | None:
    if tenant.sub_account_id is None:
        return None
    return session.scalar(select(SubAccount.name).where(SubAccount.id == tenant.sub_account_id))


def _write(session: Session, tenant: ScimTenant, identifier: str, body: dict[str, Any], current: Any) -> Any:
    name, external_id, members = _fields(body)
    values: dict[str, Any] = {"identifier": identifier, "name": name}
    if current is None:
        values.update(type=tenant.group_type, subAccountName=_sub_account_name(session, tenant))
    try:
        data = GroupData.model_validate(values)
    except ValidationError as exc:
        raise InvalidRequest(describe_validation_error(exc.errors()), scim_type="invalidValue") from None
    if current is None and session.scalar(
        select(Group.id).where(Group.account_id == tenant.account_id, Group.external_id == identifier)
    ):
        raise ItemExists(f"Group {identifier!r} already exists")
    group, _ = groups_service.upsert_group(session, tenant, data)
    changed = _set_members(session, tenant, group, members) if members is not None else False
    if changed or current is None or current.scim_external_id != external_id:
        session.execute(
            update(Group)
            .where(Group.id == group.id)
            .values(scim_external_id=external_id, modified_at=utcnow())
        )
    return find_row(session, tenant, identifier)


def create_group(session: Session, tenant: ScimTenant, body: dict[str, Any], base_url: str) -> dict[str, Any]:
    _, external_id, _ = _fields(body)
    identifier = _new_identifier(session, tenant, external_id)
    return resource(session, tenant, _write(session, tenant, identifier, body, None), base_url)


def replace_group(
    session: Session,
    tenant: ScimTenant,
    identifier: str,
    body: dict[str, Any],
    if_match: str | None,
    base_url: str,
) -> dict[str, Any]:
    current = find_row(session, tenant, identifier)
    paging.check_version(current, if_match)
    # A replacement without members leaves the group without members (RFC 7644 3.5.1).
    body = {**folded(body, ("members",)), "members": folded(body, ("members",)).get("members") or []}
    return resource(session, tenant, _write(session, tenant, identifier, body, current), base_url)


def patch_group(
    session: Session,
    tenant: ScimTenant,
    identifier: str,
    operations: list[Any],
    if_match: str | None,
    base_url: str,
    query: ListQuery,
) -> dict[str, Any]:
    current = find_row(session, tenant, identifier)
    paging.check_version(current, if_match)
    before = resource(session, tenant, current, base_url)
    after = paging.patched(before, operations, GROUP_RESOURCE, apply_patch)
    if after != before:
        after = {**after, "members": after.get("members") or []}
        current = _write(session, tenant, identifier, after, current)
    return resource(session, tenant, current, base_url, query)


def delete_group(session: Session, tenant: ScimTenant, identifier: str, if_match: str | None) -> None:
    """Deletes the group with its memberships, as the integration API does."""
    paging.check_version(find_row(session, tenant, identifier), if_match)
    groups_service.delete_group(session, tenant, identifier)
