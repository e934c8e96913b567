"""What Users and Groups share: a filtered, sorted page at any startIndex, versions, PATCH."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from enabley.db.base import AnySelect
from enabley.errors import InvalidRequest, PreconditionFailed
from enabley.models import SubAccountTally, UserTally
from enabley.scim.auth import ScimTenant
from enabley.scim.filter import FilterError
from enabley.scim.listing import ListQuery
from enabley.scim.patch import PatchError
from enabley.scim.projection import project
from enabley.scim.sql import compile_filter
from enabley.scim.wire import list_response, version


def condition(query: ListQuery, mapping: dict[str, Any]) -> ColumnElement[bool] | None:
    if query.filter is None:
        return None
    try:
        return compile_filter(query.filter, mapping)
    except FilterError as exc:
        raise InvalidRequest(f"Invalid filter: {exc}", scim_type="invalidFilter") from None


def _order(query: ListQuery, model: Any, sortable: dict[str, Any]) -> list[Any]:
    if query.sort_by is None:
        keys = [model.id]
    else:
        column = sortable.get(query.sort_by.lower())
        if column is None:
            raise InvalidRequest(f"Can't sort by {query.sort_by!r}", scim_type="invalidValue")
        keys = [column, model.id]
    return [key.desc() for key in keys] if query.descending else keys


def user_tally(session: Session, tenant: ScimTenant) -> int:
    """How many users the token sees, read off the tallies the database keeps."""
    if tenant.sub_account_id is None:
        stmt = select(func.sum(UserTally.users)).where(UserTally.account_id == tenant.account_id)
    else:
        stmt = select(func.sum(SubAccountTally.users)).where(
            SubAccountTally.sub_account_id == tenant.sub_account_id
        )
    return int(session.scalar(stmt) or 0)


def page(
    session: Session,
    query: ListQuery,
    scoped: AnySelect,
    model: Any,
    mapping: dict[str, Any],
    sortable: dict[str, Any],
    unfiltered_total: Callable[[], int] | None = None,
    skip: Callable[[Session, int, int], Any] | None = None,
) -> tuple[list[Any], int]:
    """The rows of the page and the number of matching resources.

    startIndex is an offset by the protocol: the page's ids are found first, by an index-only
    walk of the account's (account_id, id) index that skips the rows before it without reading
    them, and only the page's rows are then read."""
    where = condition(query, mapping)
    filtered = scoped if where is None else scoped.where(where)
    if where is None and unfiltered_total is not None:
        total = unfiltered_total()
    else:
        counted = filtered.with_only_columns(func.count()).order_by(None)
        total = int(session.scalar(counted) or 0)
    if query.count == 0 or query.start_index > total:
        return [], total
    page_ids = filtered.with_only_columns(model.id).order_by(*_order(query, model, sortable))
    offset = query.start_index - 1
    if skip is not None and where is None and query.sort_by is None and not query.descending:
        # The account's plain id order: an anchor near the offset saves walking up to it.
        anchor, offset = skip(session, offset, total)
        if anchor is not None:
            page_ids = page_ids.where(model.id >= anchor)
    ids = list(session.scalars(page_ids.offset(offset).limit(query.count)))
    if not ids:
        return [], total
    rows = {row.id: row for row in session.execute(scoped.where(model.id.in_(ids)))}
    return [rows[i] for i in ids if i in rows], total


def response(resources: list[dict[str, Any]], total: int, query: ListQuery) -> dict[str, Any]:
    return list_response(resources, total, query.start_index)


def check_version(row: Any, if_match: str | None) -> None:
    """412 when ``If-Match`` names none of the row's versions (``*`` names any)."""
    if if_match is None:
        return
    wanted = {tag.strip() for tag in if_match.split(",")}
    current = version(row.modified_at)
    strong = current.removeprefix("W/")
    if "*" not in wanted and current not in wanted and strong not in wanted:
        raise PreconditionFailed(
            f"The resource's version is {current}, not {if_match}: read it again before changing it"
        )


def patched(
    before: dict[str, Any],
    operations: list[Any],
    schema: Any,
    apply: Callable[[dict[str, Any], list[Any], Any], dict[str, Any]],
) -> dict[str, Any]:
    try:
        return apply(before, [_without_schemas(operation) for operation in operations], schema)
    except PatchError as exc:
        raise InvalidRequest(f"Invalid PATCH: {exc}", scim_type=exc.scim_type) from None


def _without_schemas(operation: Any) -> Any:
    """An operation whose object value names its ``schemas`` (as a client dumping an extension's
    model sends it): that says which schema the value follows; it is no attribute to set."""
    if not isinstance(operation, dict):
        return operation
    cleaned = dict(operation)
    for key, value in operation.items():
        if key.lower() == "value" and isinstance(value, dict):
            cleaned[key] = {k: v for k, v in value.items() if k.lower() != "schemas"}
    return cleaned


def projected(
    resource: dict[str, Any], schema: Any, attributes: list[str] | None, excluded: list[str] | None
) -> dict[str, Any]:
    """The resource with the attributes asked for (RFC 7644 3.4.2.5). Asked for none, it is the
    default set already (nothing "returned: never" or "request" is written): projecting it would
    cost most of a page of 100 users."""
    if attributes is None and excluded is None:
        return resource
    return project(resource, schema, attributes, excluded)
