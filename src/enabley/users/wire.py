"""SQL that writes a user as ``UserInfo``'s JSON, so the plain walk's pages skip Python's
conversion, validation and serialisation of every row.

The expressions render the bytes Pydantic writes for the same values, on both databases: keys in
``UserInfo``'s order, no spaces, strings escaped as JSON (``"``, ``\\``, ``\\b \\t \\n \\f \\r``,
``\\u00xx`` for the other control characters, everything else as is), timestamps as
``schemas.format_timestamp`` writes them (UTC, milliseconds cut, not rounded), booleans, the roles
and the sub-account names (in name order) as compact lists. The custom attributes are left
``null``: they hold any JSON, whose numbers each database writes its own way, so they come back
as stored text for Python to write (``service.walk_page``). ``tests/users/test_walk.py`` holds
the result to the general path's bytes on both databases.
"""

from __future__ import annotations

# ruff: noqa: S608 - the SQL is built from this module's constants and compiled column names, no input
from typing import Any

from sqlalchemy import ColumnElement, String, Table, Text, cast
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from enabley.models import SubAccount, UserSubAccount

ATTRIBUTES_PLACEHOLDER = '"customAttributes":null'
"""How the object shows the custom attributes it leaves out. Found at its first occurrence: no
JSON string before it can hold it (a quote inside a string is escaped)."""

# UserInfo's fields in its order, with how each is written from the users table's columns.
_FIELDS = (
    ("address", "string", "address"),
    ("created", "timestamp", "created_at"),
    ("customAttributes", "null", None),
    ("email", "string", "email"),
    ("firstName", "string", "first_name"),
    ("identifier", "string", "external_id"),
    ("isActive", "boolean", "is_active"),
    ("lastName", "string", "last_name"),
    ("modified", "timestamp", "modified_at"),
    ("phone", "string", "phone"),
    ("possibleRoles", "roles", "possible_roles"),
    ("userSubAccountNames", "names", "id"),
    ("username", "string", "username"),
)
_COLUMNS = tuple(column for _, _, column in _FIELDS if column is not None)

_MEMBERSHIPS = (
    f"FROM {UserSubAccount.__tablename__} AS m JOIN {SubAccount.__tablename__} AS s "
    "ON s.id = m.sub_account_id WHERE m.user_id = "
)


class _UserObject(FunctionElement[str]):
    """The user's JSON object; its arguments are ``_COLUMNS`` of the users table."""

    type = String()
    inherit_cache = True
    name = "user_json"


def _sqlite_value(kind: str, v: str) -> str:
    """A value as ``json_object`` takes it: text is quoted by it, JSON marked by ``json()``."""
    if kind == "string":
        return v
    if kind == "timestamp":
        # SQLite holds UTC as text, "YYYY-MM-DD HH:MM:SS.ffffff"; its own date functions round the
        # milliseconds, so they are cut from the text (a value without a fraction reads .000).
        return (
            f"CASE WHEN length({v}) = 26 THEN replace(substr({v}, 1, 23), ' ', 'T') || 'Z' "
            f"ELSE substr({v}, 1, 10) || 'T' || substr({v}, 12, 8) || '.' "
            f"|| substr(substr({v}, 21) || '000', 1, 3) || 'Z' END"
        )
    if kind == "boolean":
        return f"json(CASE WHEN {v} THEN 'true' ELSE 'false' END)"
    if kind == "roles":
        return f"json({v})"
    if kind == "names":
        # SQLite 3.40 has no ORDER BY inside an aggregate: it aggregates the rows in the order
        # they come, here the ordered subquery's.
        names = f"SELECT s.name AS name {_MEMBERSHIPS}{v} ORDER BY s.name"
        return f"(SELECT json_group_array(name) FROM ({names}))"
    return "NULL"


def _postgresql_value(kind: str, v: str) -> str:
    """A value as JSON text (PostgreSQL's own JSON builders put spaces after commas and colons)."""
    if kind == "string":
        return f"coalesce(to_json({v})::text, 'null')"
    if kind == "timestamp":
        # MS cuts the microseconds to milliseconds, as Python's isoformat does.
        return f"('\"' || to_char({v} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"') || '\"')"
    if kind == "boolean":
        return f"CASE WHEN {v} THEN 'true' ELSE 'false' END"
    if kind == "roles":
        # jsonb writes ", " between items; a role's name (UserRole) never holds one.
        return f"replace(({v})::text, ', ', ',')"
    if kind == "names":
        return (
            "(SELECT '[' || coalesce(string_agg(to_json(s.name)::text, ',' ORDER BY s.name), '') "
            f"|| ']' {_MEMBERSHIPS}{v})"
        )
    return "'null'"


def _rendered(element: _UserObject, compiler: SQLCompiler, **kw: Any) -> list[tuple[str, str, str]]:
    values = iter([compiler.process(clause, **kw) for clause in element.clauses])
    return [(key, kind, next(values) if column is not None else "") for key, kind, column in _FIELDS]


@compiles(_UserObject, "sqlite")
def _user_object_sqlite(element: _UserObject, compiler: SQLCompiler, **kw: Any) -> str:
    pairs = ", ".join(
        f"'{key}', {_sqlite_value(kind, v)}" for key, kind, v in _rendered(element, compiler, **kw)
    )
    return f"json_object({pairs})"


@compiles(_UserObject, "postgresql")
def _user_object_postgresql(element: _UserObject, compiler: SQLCompiler, **kw: Any) -> str:
    parts = [
        f"'{',' if i else '{'}\"{key}\":' || {_postgresql_value(kind, v)}"
        for i, (key, kind, v) in enumerate(_rendered(element, compiler, **kw))
    ]
    return "(" + " || ".join(parts) + " || '}')"


def user_json(users: Table) -> tuple[ColumnElement[str], ColumnElement[str]]:
    """A user of ``users`` as two columns: its JSON object with ``ATTRIBUTES_PLACEHOLDER``, and
    its custom attributes as stored (JSON text, or NULL)."""
    item = _UserObject(*(users.c[column] for column in _COLUMNS)).label("item")
    return item, cast(users.c.custom_attributes, Text).label("custom_attributes")
