"""Users: lookups, filters, upsert, status, identity, sub-accounts and permissions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json
from sqlalchemy import (
    Connection,
    Dialect,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    column,
    delete,
    func,
    select,
    table,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.auth import service as auth_service
from enabley.auth.service import checks_client
from enabley.db.base import AnySelect, HasAccount, locked, owned
from enabley.db.columns import utcnow
from enabley.db.fastquery import FastQuery, Reader, reader_of
from enabley.db.sql import OrderedJoin, insert_ignore, insert_ignoring
from enabley.db.upsert import insert_or_find
from enabley.errors import InvalidRequest, ItemExists, NotFound
from enabley.events import log
from enabley.models import SubAccount, SubAccountTally, User, UserPermission, UserSubAccount, UserTally
from enabley.pagination import Page, Walk
from enabley.schemas import UserRole
from enabley.users import rules, wire
from enabley.users.schemas import UserData, UserFilters, UserInfo, UserQuery

if TYPE_CHECKING:
    from enabley.deps import Tenant

_COLUMNS = (
    User.id,
    User.external_id,
    User.email,
    User.first_name,
    User.last_name,
    User.username,
    User.phone,
    User.address,
    User.is_active,
    User.possible_roles,
    User.custom_attributes,
    User.created_at,
    User.modified_at,
)

_SUB_NAME = SubAccount.name.label("sub_account_name")

# The hot lookup in one round trip: the caller's active client, the user of its account with
# that identifier, and the user's sub-account names (one row per name). No row: revoked client.
_ACTIVE = auth_service.active_client.subquery("active_client")
_BY_IDENTIFIER = FastQuery(
    select(_ACTIVE.c.id.label("client_id"), *_COLUMNS, _SUB_NAME)
    .select_from(_ACTIVE)
    .outerjoin(
        User, and_(User.account_id == _ACTIVE.c.account_id, User.external_id == bindparam("identifier"))
    )
    .outerjoin(UserSubAccount, UserSubAccount.user_id == User.id)
    .outerjoin(SubAccount, SubAccount.id == UserSubAccount.sub_account_id)
)
_SUB_ACCOUNT_ID = FastQuery(
    select(SubAccount.id).where(
        SubAccount.account_id == bindparam("account_id"), SubAccount.name == bindparam("name")
    )
)


def _info_values(user: Any, sub_account_names: Sequence[str]) -> dict[str, Any]:
    """UserInfo's fields from a ``User`` or a row of its columns."""
    return {
        "address": user.address,
        "created": user.created_at,
        "custom_attributes": user.custom_attributes,
        "email": user.email,
        "first_name": user.first_name,
        "identifier": user.external_id,
        "is_active": user.is_active,
        "last_name": user.last_name,
        "modified": user.modified_at,
        "phone": user.phone,
        "possible_roles": user.possible_roles,
        "user_sub_account_names": list(sub_account_names),
        "username": user.username,
    }


def to_info(user: Any, sub_account_names: Sequence[str]) -> UserInfo:
    """UserInfo from a ``User`` or a row of its columns."""
    return UserInfo(**_info_values(user, sub_account_names))


def require_user(session: Session, tenant: HasAccount, identifier: str, *, changing: bool = False) -> User:
    """The tenant's user with this identifier; 404 otherwise. A write keeps it locked (see
    ``db.locked``): ``changing`` when it deletes the user, changes its identifier or replaces
    its links as a whole."""
    user = session.scalar(
        locked(session, owned(User, tenant).where(User.external_id == identifier), changing=changing)
    )
    if user is None:
        raise NotFound(f"User {identifier!r} not found")
    return user


@checks_client
def get_user(reader: Reader, tenant: Tenant, identifier: str, sub_account_name: str | None) -> UserInfo:
    """The hot lookup: its one statement joins from the caller's active client."""
    rows = _BY_IDENTIFIER.all(reader, {"client_key": tenant.client_key, "identifier": identifier})
    if not rows:
        raise auth_service.revoked()
    if sub_account_name is not None and (
        _SUB_ACCOUNT_ID.first(reader, {"account_id": tenant.account_id, "name": sub_account_name}) is None
    ):
        raise InvalidRequest(f"Unknown subAccountName {sub_account_name!r}")
    if rows[0].id is None:
        raise NotFound(f"User {identifier!r} not found")
    names = sorted(row.sub_account_name for row in rows if row.sub_account_name is not None)
    if sub_account_name is not None and sub_account_name not in names:
        raise NotFound(f"User {identifier!r} not found in sub-account {sub_account_name!r}")
    return to_info(rows[0], names)


def infos(session: Session, rows: Sequence[Any]) -> list[UserInfo]:
    """UserInfo for many users, their sub-account names loaded in one query."""
    names = sub_account_names(session, [r.id for r in rows])
    return [to_info(r, names.get(r.id, ())) for r in rows]


def sub_account_names(session: Session, user_ids: Iterable[int]) -> dict[int, list[str]]:
    ids = list(user_ids)
    found: dict[int, list[str]] = defaultdict(list)
    if not ids:
        return found
    rows = session.execute(
        select(UserSubAccount.user_id, SubAccount.name)
        .join(SubAccount, SubAccount.id == UserSubAccount.sub_account_id)
        .where(UserSubAccount.user_id.in_(ids))
        .order_by(SubAccount.name)
    )
    for user_id, name in rows:
        found[user_id].append(name)
    return found


# SQLite's FTS5 trigram index over the case-folded columns (migration 0002); PostgreSQL serves
# the same LIKE filters from trigram GIN indexes on the columns themselves.
_SEARCH = table(
    "users_search",
    column("rowid", Integer),
    *(column(name, String) for name in ("email_key", "first_name_key", "last_name_key", "username_key")),
)
# Driving the join from the index yields users in id order, so a page stops reading as soon as
# it is full, however common the searched text is.
_SEARCH_JOIN = OrderedJoin(_SEARCH, User.__table__, User.id == _SEARCH.c.rowid)
_TRIGRAM = 3
# What LIKE would not take literally on one database or the other, and autoescape's own "/".
_LIKE_SPECIAL = "%_/\\"


def _filtered(
    session: Session, tenant: HasAccount, filters: UserFilters
) -> tuple[AnySelect, list[Any], SubAccount | None]:
    """The filtered users, the unique order to list them in, and the sub-account filtered on."""
    wanted = [
        (name, value.casefold())
        for name, value in (
            ("email_key", filters.email_substring),
            ("first_name_key", filters.first_name_substring),
            ("last_name_key", filters.last_name_substring),
            ("username_key", filters.username_substring),
        )
        if value
    ]
    indexed = session.get_bind().dialect.name == "sqlite" and any(len(v) >= _TRIGRAM for _, v in wanted)
    stmt = select(*_COLUMNS).where(User.account_id == tenant.account_id)
    order: list[Any] = [User.id]
    if indexed:
        stmt = stmt.select_from(_SEARCH_JOIN)
        order = [_SEARCH.c.rowid]
    for name, value in wanted:
        # Only a pattern of a whole trigram goes to the index: SQLite's FTS5 (3.40) crashes the
        # process on a shorter LIKE pattern beside another one, and can't use the index for it.
        fts = indexed and len(value) >= _TRIGRAM
        target = _SEARCH.c[name] if fts else User.__table__.c[name]
        # FTS5 uses its index only for a plain LIKE: escape only when the text needs it. A backslash
        # needs it too: PostgreSQL's LIKE escapes with it unless an ESCAPE clause names another.
        stmt = stmt.where(target.contains(value, autoescape=any(ch in value for ch in _LIKE_SPECIAL)))
    if filters.identifier is not None:
        stmt = stmt.where(User.external_id == filters.identifier)
    sub = accounts_service.resolve_sub_account(session, tenant, filters.sub_account_name)
    if sub is not None:
        members = select(UserSubAccount.user_id).where(UserSubAccount.sub_account_id == sub.id)
        stmt = stmt.where(User.id.in_(members))
    return stmt, order, sub


def find_users(
    session: Session, tenant: HasAccount, filters: UserFilters, *, start: int, limit: int
) -> list[UserInfo]:
    stmt, order, _ = _filtered(session, tenant, filters)
    rows = session.execute(stmt.order_by(*order).offset(start).limit(limit)).all()
    return infos(session, rows)


def users_page(session: Session, tenant: HasAccount, walk: Walk[UserQuery]) -> Page[UserInfo]:
    """A page of a walk filtered by text (``walk_page`` serves the others)."""
    stmt, order, _ = _filtered(session, tenant, walk.query)
    page = walk.fetch(session, stmt, order)
    return page.page(infos(session, page.rows))


# The unfiltered walk (or one narrowed only by sub-account), the way integrators sync their
# users: a page after the keyset position in one round trip on the DBAPI cursor, each user
# written as JSON by the database itself (``wire``), the count read off the tallies.
def _walk_query(narrowed: bool) -> FastQuery:
    """A page of users after ``after``, each as its JSON (``wire.user_json``);
    ``narrowed``: only the members of the sub-account ``sub_id``."""
    users: Table = User.__table__  # type: ignore[assignment]
    page = select(users.c.id, *wire.user_json(users)).where(
        users.c.account_id == bindparam("account_id"), users.c.id > bindparam("after")
    )
    if narrowed:
        members = select(UserSubAccount.user_id).where(UserSubAccount.sub_account_id == bindparam("sub_id"))
        page = page.where(users.c.id.in_(members))
    return FastQuery(page.order_by(users.c.id).limit(bindparam("limit")))


_WALK = _walk_query(narrowed=False)
_WALK_IN_SUB_ACCOUNT = _walk_query(narrowed=True)
_TALLY = FastQuery(select(func.sum(UserTally.users)).where(UserTally.account_id == bindparam("account_id")))
_SUB_TALLY = FastQuery(
    select(func.sum(SubAccountTally.users)).where(SubAccountTally.sub_account_id == bindparam("sub_id"))
)


def walks_fast(query: UserFilters) -> bool:
    """Whether ``walk_page`` serves this walk: no text or identifier filter."""
    return not query.narrows_by_text()


async def find_users_page(tenant: Tenant, walk: Walk[UserQuery]) -> bytes:
    """A page of ``GET /api/v3/users`` as the JSON it is answered with. The plain walk is served
    by ``walk_page`` on a bare pooled connection (``Tenant.scan``: no ORM session, which would
    cost more than the page); a walk narrowed by text by ``users_page`` in a read unit. Both on
    the database's threads; which one serves a page is this function's business, not the route's."""
    if walks_fast(walk.query):
        return await tenant.scan(walk_page, walk)
    return await tenant.read(_users_page_json, walk)


def _users_page_json(session: Session, tenant: HasAccount, walk: Walk[UserQuery]) -> bytes:
    return users_page(session, tenant, walk).model_dump_json().encode()


def walk_page(reader: Reader, tenant: HasAccount, walk: Walk[UserQuery]) -> bytes:
    """A page of the walk ``walks_fast`` accepts: the same JSON ``users_page`` answers, cheaper.

    The database writes each user's JSON (``wire``), so no row is converted, validated or
    serialised in Python, which cost ten times what reading the rows does; only the custom
    attributes, any JSON at all, are written here as ``UserInfo`` writes them.
    ``tests/users/test_walk.py`` holds the two paths to the same bytes."""
    account = {"account_id": tenant.account_id}
    cursor = walk.cursor
    sub_name = walk.query.sub_account_name
    sub_id = None
    if sub_name is not None:
        found = _SUB_ACCOUNT_ID.first(reader, {**account, "name": sub_name})
        if found is None:
            raise InvalidRequest(f"Unknown subAccountName {sub_name!r}")
        sub_id = found.id
    total = cursor.total
    if total is None:
        tally = (
            _TALLY.first(reader, account) if sub_id is None else _SUB_TALLY.first(reader, {"sub_id": sub_id})
        )
        total = int(tally[0] or 0)
    query = _WALK if sub_id is None else _WALK_IN_SUB_ACCOUNT
    after = cursor.after[0] if cursor.after is not None else 0
    params = {**account, "after": after, "limit": walk.paginator.page_size + 1}
    rows = query.all(reader, params if sub_id is None else {**params, "sub_id": sub_id})
    page = walk.result(rows, total, lambda row: [row.id])
    items = ",".join(
        row.item
        if row.custom_attributes is None or row.custom_attributes == "null"
        else row.item.replace(wire.ATTRIBUTES_PLACEHOLDER, _attributes(row.custom_attributes), 1)
        for row in page.rows
    )
    # A key is URL-safe base64: nothing in it needs escaping.
    key = "null" if page.pagination_key is None else f'"{page.pagination_key}"'
    return (
        f'{{"items":[{items}],"pageSize":{page.page_size},"currentPage":{page.current_page},'
        f'"totalPages":{page.total_pages},"paginationKey":{key}}}'
    ).encode()


def _attributes(stored: str) -> str:
    """Stored custom attributes (JSON text) as ``UserInfo`` writes them."""
    return '"customAttributes":' + to_json(json.loads(stored)).decode()


def info_of(session: Session, user: User) -> UserInfo:
    return to_info(user, sub_account_names(session, [user.id]).get(user.id, ()))


def put_user(
    session: Session,
    tenant: HasAccount,
    data: UserData,
    password_hash: str | None,
    extra: dict[str, Any] | None = None,
    if_taken: Callable[[], str] | None = None,
) -> tuple[UserInfo, bool]:
    """*Create or update User*: the user as it now is, and whether it was created.

    Written in Core on the unit's connection, not through the ORM, whose unit of work cost more
    than everything else of the request together (docs/decisions/0006-execution-model.md). The
    guarantees are the ORM path's: the user's row is locked for the write (PostgreSQL), a
    username is unique per account whatever its case (409), and two requests creating one user
    at once make one user: the second finds it and updates it. ``extra``: other columns of the
    user to write with it (SCIM's ``scim_external_id``), in the same statement. ``if_taken``:
    a user whose identifier is taken is not updated but created under ``if_taken()`` (SCIM's
    creation), decided by the same locking read that finds it.
    """
    reader = reader_of(session)
    connection = session.connection()
    sub_id = _sub_account_id(reader, tenant, data.sub_account_name)
    key = {"account_id": tenant.account_id, "identifier": data.identifier}

    def find() -> Any:
        return _USER_FOR_WRITE.first(reader, key)

    current = find()
    if current is not None and if_taken is not None:
        data = data.model_copy(update={"identifier": if_taken()})
        key["identifier"] = data.identifier
        current = None
    if current is None:
        stored, created = insert_or_find(
            lambda: _create(connection, reader, tenant, data, password_hash, sub_id, extra), find
        )
        if created:
            info = to_info(stored, [data.sub_account_name] if data.sub_account_name else [])
            log.emit_object(session, tenant.account_id, "user.created", info)
            return info, True
        current = stored
    info = _update(session, reader, tenant, current, data, password_hash, sub_id, extra)
    return info, False


_USER_FOR_WRITE = FastQuery(
    select(*_COLUMNS, User.username_key, User.scim_external_id)
    .where(User.account_id == bindparam("account_id"), User.external_id == bindparam("identifier"))
    .with_for_update()
)
_USERNAME_HOLDER = FastQuery(
    select(User.id).where(User.account_id == bindparam("account_id"), User.username_key == bindparam("key"))
)
_SUB_NAMES = FastQuery(
    select(SubAccount.name)
    .join(UserSubAccount, UserSubAccount.sub_account_id == SubAccount.id)
    .where(UserSubAccount.user_id == bindparam("user_id"))
    .order_by(SubAccount.name)
)
_USERS: Table = User.__table__  # type: ignore[assignment]
# Fixed statements: the columns each execution sets are the keys of its parameters.
_UPDATE_USER = update(_USERS).where(_USERS.c.id == bindparam("user_id"))
_INSERT_USER: dict[str, Any] = {}


def _insert_user(dialect: Dialect) -> Any:
    stmt = _INSERT_USER.get(dialect.name)
    if stmt is None:
        stmt = _INSERT_USER[dialect.name] = insert_ignoring(dialect, _USERS).returning(_USERS.c.id)
    return stmt


def _sub_account_id(reader: Reader, tenant: HasAccount, name: str | None) -> int | None:
    if name is None:
        return None
    found = _SUB_ACCOUNT_ID.first(reader, {"account_id": tenant.account_id, "name": name})
    if found is None:
        raise InvalidRequest(f"Unknown subAccountName {name!r}")
    return int(found.id)


def _stored_values(data: UserData, password_hash: str | None, *, creating: bool) -> dict[str, Any]:
    values = rules.user_values(data, creating=creating)
    if password_hash is not None:
        values["password_hash"] = password_hash
    return values


def _with_search_keys(values: dict[str, Any]) -> dict[str, Any]:
    for field, key in rules.SEARCH_KEYS.items():
        if field in values:
            values[key] = rules.search_key(values[field])
    return values


def _check_username(reader: Reader, tenant: HasAccount, values: dict[str, Any], user_id: int | None) -> None:
    key = values.get("username_key")
    if key is None:
        return
    holder = _USERNAME_HOLDER.first(reader, {"account_id": tenant.account_id, "key": key})
    if holder is not None and holder.id != user_id:
        raise ItemExists(f"Username {values['username']!r} is already taken")


def _create(
    connection: Connection,
    reader: Reader,
    tenant: HasAccount,
    data: UserData,
    password_hash: str | None,
    sub_id: int | None,
    extra: dict[str, Any] | None = None,
) -> Any:
    """The new user's stored values; None when a concurrent request created it first."""
    values = _with_search_keys(
        {
            **dict.fromkeys(_NULLABLE),
            **rules.new_user_defaults(),
            **_stored_values(data, password_hash, creating=True),
            **(extra or {}),
        }
    )
    _check_username(reader, tenant, values, None)
    now = utcnow()
    row = {
        **values,
        "account_id": tenant.account_id,
        "external_id": data.identifier,
        "created_at": now,
        "modified_at": now,
    }
    # Skips a row colliding on either unique key rather than failing the transaction: which one
    # it met decides between "created meanwhile" and "username taken".
    inserted = connection.execute(_insert_user(connection.dialect), row).first()
    if inserted is None:
        if _USER_FOR_WRITE.first(reader, {"account_id": tenant.account_id, "identifier": data.identifier}):
            return None
        raise ItemExists(f"Username {data.username!r} is already taken")
    if sub_id is not None:
        connection.execute(
            insert_ignoring(connection.dialect, UserSubAccount.__table__),
            {"user_id": inserted.id, "sub_account_id": sub_id},
        )
    return SimpleNamespace(**row)


def _update(
    session: Session,
    reader: Reader,
    tenant: HasAccount,
    current: Any,
    data: UserData,
    password_hash: str | None,
    sub_id: int | None,
    extra: dict[str, Any] | None = None,
) -> UserInfo:
    """The user as it now is; ``user.updated`` emitted when anything about it changed.

    ``current`` is the user's row read FOR UPDATE: held by this transaction, it holds the account
    too (deleting the account deletes it), so the event rides in the UPDATE itself
    (``log.emit_object_in``). The event shows the user as updated, sub-accounts included: they
    are joined and read before the UPDATE, which changes none of them."""
    connection = session.connection()
    wanted = {**_stored_values(data, password_hash, creating=False), **(extra or {})}
    changed = _with_search_keys(
        {
            field: value
            for field, value in wanted.items()
            if field == "password_hash" or getattr(current, field) != value
        }
    )
    if "username_key" in changed:
        _check_username(reader, tenant, changed, current.id)
    joined = False
    if sub_id is not None:
        # RETURNING: psycopg answers no row count for an INSERT ... ON CONFLICT DO NOTHING.
        joined = (
            connection.execute(
                insert_ignoring(connection.dialect, UserSubAccount.__table__).returning(
                    UserSubAccount.user_id
                ),
                {"user_id": current.id, "sub_account_id": sub_id},
            ).first()
            is not None
        )
    names = [row.name for row in _SUB_NAMES.all(reader, {"user_id": current.id})]
    user = current._asdict()
    if changed:
        changed["modified_at"] = utcnow()
        user.update(changed)
    info = to_info(SimpleNamespace(**user), names)
    if changed:
        try:
            log.emit_object_in(
                session,
                _UPDATE_USER,
                {**changed, "user_id": current.id},
                tenant.account_id,
                "user.updated",
                info,
            )
        except IntegrityError:
            # A concurrent request took the username after the check.
            raise ItemExists(f"Username {changed['username']!r} is already taken") from None
    elif joined:
        log.emit_object(session, tenant.account_id, "user.updated", info)
    return info


_NULLABLE = ("address", "custom_attributes", "email", "first_name", "last_name", "phone", "username")


def set_status(session: Session, tenant: HasAccount, identifier: str, is_active: bool) -> UserInfo:
    user = require_user(session, tenant, identifier)
    if user.is_active != is_active:
        user.is_active = is_active
        user.modified_at = utcnow()
        session.flush()
        info = info_of(session, user)
        log.emit_object(session, tenant.account_id, "user.updated", info)
        return info
    return info_of(session, user)


def delete_user(session: Session, tenant: HasAccount, identifier: str) -> None:
    user = require_user(session, tenant, identifier, changing=True)
    # The database cascades to memberships, progress and the rest.
    session.execute(delete(User).where(User.id == user.id).execution_options(synchronize_session=False))
    session.expunge(user)
    log.emit(session, tenant.account_id, "user.deleted", log.deleted("user", identifier))


def remove_from_sub_account(
    session: Session, tenant: HasAccount, identifier: str, sub_account_name: str
) -> None:
    user = require_user(session, tenant, identifier)
    sub = accounts_service.resolve_sub_account(session, tenant, sub_account_name)
    assert sub is not None
    removed = session.connection().execute(
        delete(UserSubAccount).where(
            UserSubAccount.user_id == user.id, UserSubAccount.sub_account_id == sub.id
        )
    )
    if removed.rowcount:
        log.emit_object(session, tenant.account_id, "user.updated", info_of(session, user))


def change_identifier(session: Session, tenant: HasAccount, current: str, new: str) -> UserInfo:
    """Give a user a new identifier; everything that references the user follows (internal keys)."""
    user = require_user(session, tenant, current, changing=True)
    if current == new:
        return info_of(session, user)
    if (
        session.scalar(owned(User, tenant).where(User.external_id == new).with_only_columns(User.id))
        is not None
    ):
        raise ItemExists(f"User identifier {new!r} is already taken")
    user.external_id = new
    user.modified_at = utcnow()
    try:
        with session.begin_nested():
            session.flush([user])
    except IntegrityError:
        raise ItemExists(f"User identifier {new!r} is already taken") from None
    info = info_of(session, user)
    data = {"previousIdentifier": current, **info.model_dump(mode="json", by_alias=True)}
    log.emit(session, tenant.account_id, "user.identifier_changed", data)
    return info


def set_permissions(
    session: Session, tenant: HasAccount, identifier: str, permissions: Sequence[str]
) -> list[str]:
    user = require_user(session, tenant, identifier)
    if UserRole.INSTRUCTOR.value not in user.possible_roles:
        raise InvalidRequest(f"User {identifier!r} must have the INSTRUCTOR role to be given permissions")
    session.execute(delete(UserPermission).where(UserPermission.user_id == user.id))
    wanted = list(dict.fromkeys(permissions))
    insert_ignore(session, UserPermission.__table__, [{"user_id": user.id, "permission": p} for p in wanted])
    return sorted(wanted)


def get_permissions(session: Session, tenant: HasAccount, identifier: str) -> list[str]:
    user = require_user(session, tenant, identifier)
    return list(
        session.scalars(
            select(UserPermission.permission)
            .where(UserPermission.user_id == user.id)
            .order_by(UserPermission.permission)
        )
    )


def infos_of_ids(session: Session, tenant: HasAccount, ids: Any, *, limit: int) -> list[UserInfo]:
    """The tenant's users whose ids ``ids`` (a ``SELECT`` of user ids) gives, by id, at most ``limit``."""
    stmt = select(*_COLUMNS).where(User.account_id == tenant.account_id, User.id.in_(ids))
    return infos(session, session.execute(stmt.order_by(User.id).limit(limit)).all())
