"""SCIM Users over enabley's users: read here, written through the users service (rules, tallies).

Every function takes the ``ScimTenant``: a token confined to a sub-account sees only that
sub-account's users, and the users it creates join it.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ColumnElement, case, exists, literal, null, select
from sqlalchemy.orm import Session

from enabley.db.base import AnySelect
from enabley.errors import InvalidRequest, ItemExists, NotFound, describe_validation_error
from enabley.models import Group, SubAccount, User, UserGroup, UserSubAccount
from enabley.scim import paging, skipping
from enabley.scim.auth import ScimTenant
from enabley.scim.listing import ListQuery
from enabley.scim.patch import apply_patch
from enabley.scim.schema import ENTERPRISE_URN, USER_RESOURCE
from enabley.scim.sql import Column, compile_filter
from enabley.scim.wire import KEPT_ENTERPRISE, UserFields, merged_attributes, user_from_scim
from enabley.scim.wire import user_to_scim as to_scim
from enabley.users import service as users_service
from enabley.users.schemas import UserData

COLUMNS = (
    User.id,
    User.external_id,
    User.scim_external_id,
    User.username,
    User.first_name,
    User.last_name,
    User.email,
    User.phone,
    User.address,
    User.is_active,
    User.custom_attributes,
    User.created_at,
    User.modified_at,
)


def _kept(name: str) -> ColumnElement[Any]:
    kept: ColumnElement[Any] = User.custom_attributes[name].as_string()
    return kept


def _in_group(compare: Any) -> ColumnElement[bool]:
    inner = compile_filter(
        compare, {compare.path.dotted: Column(Group.external_id.expression, "string", case_exact=True)}
    )
    return exists(
        select(UserGroup.user_id)
        .join(Group, Group.id == UserGroup.group_id)
        .where(UserGroup.user_id == User.id, inner)
    )


MAPPING: dict[str, Any] = {
    "id": Column(User.external_id.expression, "string", case_exact=True),
    "externalid": Column(User.scim_external_id.expression, "string", case_exact=True),
    "username": Column(User.username_key.expression, "string", folded=True),
    "name.givenname": Column(User.first_name_key.expression, "string", folded=True),
    "name.familyname": Column(User.last_name_key.expression, "string", folded=True),
    "name.formatted": Column(User.custom_attributes["name"]["formatted"].as_string(), "string"),
    "emails.value": Column(User.email_key.expression, "string", folded=True),
    # The column holds the primary address, else the work one: the one a provider filters on.
    "emails.type": Column(case((User.email.is_(None), null()), else_=literal("work")), "string"),
    "phonenumbers.value": Column(User.phone.expression, "string"),
    "addresses.formatted": Column(User.address.expression, "string"),
    "active": Column(User.is_active.expression, "boolean"),
    "meta.created": Column(User.created_at.expression, "dateTime"),
    "meta.lastmodified": Column(User.modified_at.expression, "dateTime"),
    "displayname": Column(_kept("displayName"), "string"),
    "title": Column(_kept("title"), "string"),
    "usertype": Column(_kept("userType"), "string"),
    "preferredlanguage": Column(_kept("preferredLanguage"), "string"),
    "locale": Column(_kept("locale"), "string"),
    "timezone": Column(_kept("timezone"), "string"),
    "groups.value": _in_group,
    **{
        f"{ENTERPRISE_URN.lower()}:{name.lower()}": Column(_kept(name), "string")
        for name in KEPT_ENTERPRISE
        if name != "manager"
    },
    f"{ENTERPRISE_URN.lower()}:manager.value": Column(
        User.custom_attributes["manager"]["value"].as_string(), "string", case_exact=True
    ),
}
"""Filterable attributes (lower-cased dotted names) -> their column. ``userName`` compares its
case-folded copy, which the account's unique index serves."""

SORTABLE: dict[str, Any] = {
    "id": User.external_id,
    "externalid": User.scim_external_id,
    "username": User.username_key,
    "name.givenname": User.first_name_key,
    "name.familyname": User.last_name_key,
    "emails.value": User.email_key,
    "emails": User.email_key,
    "active": User.is_active,
    "meta.created": User.created_at,
    "meta.lastmodified": User.modified_at,
}


def _scoped(tenant: ScimTenant) -> AnySelect:
    stmt = select(*COLUMNS).where(User.account_id == tenant.account_id)
    if tenant.sub_account_id is not None:
        stmt = stmt.where(
            exists().where(
                UserSubAccount.user_id == User.id, UserSubAccount.sub_account_id == tenant.sub_account_id
            )
        )
    return stmt


def _groups(session: Session, tenant: ScimTenant, user_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """Each user's groups (identifier, name) that the token sees, for many users in one query.

    Driven by the memberships' primary key (user_id first): a condition on the groups' own
    columns would let the planner walk the account's groups instead (0.3 s at 1M users)."""
    found: dict[int, list[tuple[str, str]]] = defaultdict(list)
    if not user_ids:
        return found
    stmt = (
        select(UserGroup.user_id, Group.external_id, Group.name, Group.sub_account_id)
        .join(Group, Group.id == UserGroup.group_id)
        .where(UserGroup.user_id.in_(user_ids))
        .order_by(UserGroup.group_id)
    )
    for user_id, identifier, name, sub_account_id in session.execute(stmt):
        if tenant.sub_account_id is None or sub_account_id == tenant.sub_account_id:
            found[user_id].append((identifier, name))
    return found


def find_row(session: Session, tenant: ScimTenant, identifier: str) -> Any:
    row = session.execute(_scoped(tenant).where(User.external_id == identifier)).first()
    if row is None:
        raise NotFound(f"User {identifier!r} not found")
    return row


def resource(session: Session, tenant: ScimTenant, row: Any, base_url: str) -> dict[str, Any]:
    """The user's SCIM JSON; a user just created (no id known here) is in no group yet."""
    groups = _groups(session, tenant, [row.id]).get(row.id, []) if row.id is not None else []
    return to_scim(row, groups, base_url)


def get_user(
    session: Session, tenant: ScimTenant, identifier: str, base_url: str, query: ListQuery
) -> dict[str, Any]:
    found = resource(session, tenant, find_row(session, tenant, identifier), base_url)
    return paging.projected(found, USER_RESOURCE, query.attributes, query.excluded)


def list_users(session: Session, tenant: ScimTenant, query: ListQuery, base_url: str) -> dict[str, Any]:
    rows, total = paging.page(
        session,
        query,
        _scoped(tenant),
        User,
        MAPPING,
        SORTABLE,
        lambda: paging.user_tally(session, tenant),
        skip=None if tenant.sub_account_id is not None else skipping.users_skip(tenant.account_id),
    )
    groups = _groups(session, tenant, [row.id for row in rows])
    resources = [
        paging.projected(
            to_scim(row, groups.get(row.id, []), base_url), USER_RESOURCE, query.attributes, query.excluded
        )
        for row in rows
    ]
    return paging.response(resources, total, query)


def _sub_account_name(session: Session, tenant: ScimTenant) -> str | None:
    if tenant.sub_account_id is None:
        return None
    return session.scalar(select(SubAccount.name).where(SubAccount.id == tenant.sub_account_id))


def _write(
    session: Session,
    tenant: ScimTenant,
    identifier: str,
    fields: UserFields,
    current: Any,
    password_hash: str | None,
) -> Any:
    """Writes the user through the users service (``put_user``) and its externalId; its row after."""
    values: dict[str, Any] = {
        "identifier": identifier,
        "username": fields.username,
        "firstName": fields.first_name,
        "lastName": fields.last_name,
        "email": fields.email,
        "phone": fields.phone,
        "address": fields.address,
        "isActive": fields.is_active,
        "customAttributes": merged_attributes(
            current.custom_attributes if current is not None else None, fields.kept
        ),
    }
    if current is None:
        # A new user has none of what the body leaves out: only what it gives is validated.
        values = {key: value for key, value in values.items() if value is not None}
    sub_name = _sub_account_name(session, tenant)
    if sub_name is not None:
        values["subAccountName"] = sub_name
    try:
        data = UserData.model_validate(values)
    except ValidationError as exc:
        raise InvalidRequest(describe_validation_error(exc.errors()), scim_type="invalidValue") from None
    extra = {"scim_external_id": fields.external_id}
    # Creating: an identifier some user has already gives way to a new UUID, decided by
    # put_user's own read of the identifier rather than a probe of its own.
    if_taken = _new_uuid if current is None else None
    info, created = users_service.put_user(session, tenant, data, password_hash, extra, if_taken)
    if current is None and not created:
        raise ItemExists(f"User {identifier!r} already exists")
    # The row as written, from what put_user answered: reading it back would cost a statement.
    return SimpleNamespace(
        id=current.id if current is not None else None,
        external_id=info.identifier,
        scim_external_id=fields.external_id,
        username=info.username,
        first_name=info.first_name,
        last_name=info.last_name,
        email=info.email,
        phone=info.phone,
        address=info.address,
        is_active=info.is_active,
        custom_attributes=info.custom_attributes,
        created_at=info.created,
        modified_at=info.modified,
    )


def _new_uuid() -> str:
    return str(uuid.uuid4())


def user_fields(body: dict[str, Any]) -> UserFields:
    """What a POST or PUT body sets (a whole user: userName required), read before the unit of
    work (no I/O), so that a body it refuses costs neither a password hash nor a transaction."""
    fields = user_from_scim(body)
    if fields.username is None:
        raise InvalidRequest("userName is required", scim_type="invalidValue")
    return fields


def create_user(
    session: Session, tenant: ScimTenant, fields: UserFields, password_hash: str | None, base_url: str
) -> dict[str, Any]:
    # The given externalId when no user of the account has it as identifier, else a new UUID.
    identifier = fields.external_id or _new_uuid()
    # A user just created is in no group: nothing to read for its resource.
    return to_scim(_write(session, tenant, identifier, fields, None, password_hash), [], base_url)


def replace_user(
    session: Session,
    tenant: ScimTenant,
    identifier: str,
    fields: UserFields,
    password_hash: str | None,
    if_match: str | None,
    base_url: str,
) -> dict[str, Any]:
    current = find_row(session, tenant, identifier)
    paging.check_version(current, if_match)
    row = _write(session, tenant, identifier, fields, current, password_hash)
    return resource(session, tenant, row, base_url)


def patch_user(
    session: Session,
    tenant: ScimTenant,
    identifier: str,
    operations: list[Any],
    passwords: dict[str, str],
    if_match: str | None,
    base_url: str,
) -> dict[str, Any]:
    """Applies the operations to the user's SCIM JSON, then writes the result as a replacement.
    ``passwords``: each password the operations carry -> its hash (made off the database's threads)."""
    current = find_row(session, tenant, identifier)
    paging.check_version(current, if_match)
    before = resource(session, tenant, current, base_url)
    after = paging.patched(before, operations, USER_RESOURCE, apply_patch)
    fields = user_from_scim(after)
    if fields.username is None:
        raise InvalidRequest("userName can't be removed", scim_type="mutability")
    password_hash = passwords.get(fields.password) if fields.password else None
    unchanged = {k: v for k, v in after.items() if k != "password"} == before and password_hash is None
    row = current if unchanged else _write(session, tenant, identifier, fields, current, password_hash)
    return resource(session, tenant, row, base_url)


def delete_user(session: Session, tenant: ScimTenant, identifier: str, if_match: str | None) -> None:
    """Deletes the user as the integration API does."""
    paging.check_version(find_row(session, tenant, identifier), if_match)
    users_service.delete_user(session, tenant, identifier)
