"""SCIM filters compiled to SQLAlchemy boolean expressions (RFC 7644 §3.4.2.2), with no I/O.

The caller maps each filterable attribute (its `AttrPath.dotted` name) to a column, or to a
function building its own expression (such as EXISTS over memberships). Every comparison
compiles to TRUE or FALSE, never NULL, so `not (...)` means what the RFC says: `ne` and
`not (x eq ...)` are true where the value is missing. Case-insensitive strings are compared
lower-cased (an index on lower(column) serves `eq`), or as they are when the column already
holds the case-folded text (`folded`, as the users' `*_key` columns do). SQLite's lower() folds
ASCII letters only, so text that may hold others compares the same on both databases only
through a folded column.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, false, func, not_, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import Integer

from enabley.scim.filter import (
    And,
    AttrPath,
    Compare,
    Filter,
    FilterError,
    Not,
    Or,
    ValuePath,
    check_compare,
    coerce_boolean,
    parse_datetime,
    parse_patch_path,
)
from enabley.scim.schema import Attribute

__all__ = ["Column", "Mapping", "compile_filter", "sort_key"]

TYPES = ("string", "boolean", "dateTime", "integer", "decimal")
# What LIKE would not take literally on one database or the other, and autoescape's own "/".
_LIKE_SPECIAL = "%_/\\"
_ORDER: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}


@dataclass(frozen=True)
class Column:
    """A filterable attribute's column: its SCIM type, whether its text compares case-exactly,
    and whether the column holds the text already case-folded (``str.casefold``)."""

    expression: ColumnElement[Any]
    type: str
    case_exact: bool = False
    folded: bool = False

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown SCIM column type {self.type!r}")


Mapping = dict[str, Column | Callable[[Compare], ColumnElement[bool]]]


def compile_filter(filter: Filter, mapping: Mapping) -> ColumnElement[bool]:
    """The boolean expression selecting the rows ``filter`` matches; FilterError for an attribute
    the mapping does not offer or a comparison its type gives no meaning."""
    return _compile(filter, mapping, None)


def _compile(filter: Filter, mapping: Mapping, parent: AttrPath | None) -> ColumnElement[bool]:
    match filter:
        case And(left, right):
            return and_(_compile(left, mapping, parent), _compile(right, mapping, parent))
        case Or(left, right):
            return or_(_compile(left, mapping, parent), _compile(right, mapping, parent))
        case Not(inner):
            return not_(_compile(inner, mapping, parent))
        case ValuePath(path, inner):
            return _compile(inner, mapping, path)
        case Compare(path, op, value):
            if parent is not None:
                # The value filter's names are sub-attributes of its path.
                path = AttrPath(parent.urn, parent.attr, path.name)
            compare = Compare(path, op, value)
            entry = _entry(mapping, path)
            return entry(compare) if callable(entry) else _column(entry, compare)
    raise TypeError(f"not a filter: {filter!r}")


def sort_key(sort_by: str, mapping: Mapping) -> ColumnElement[Any]:
    """The expression a ``sortBy`` attribute (RFC 7644 §3.4.2.3) orders by: case-insensitive text
    lower-cased, as `eq` compares it. FilterError when the mapping offers no column for it."""
    try:
        path = parse_patch_path(sort_by)
    except FilterError as exc:
        raise FilterError(f"sortBy: {exc}") from None
    try:
        entry = _entry(mapping, path.path) if path.filter is None else None
    except FilterError:
        entry = None
    if not isinstance(entry, Column):
        raise FilterError(f"sortBy: attribute '{sort_by.strip().lower()}' cannot be sorted on")
    if entry.type == "string" and not (entry.case_exact or entry.folded):
        return func.lower(entry.expression)
    return entry.expression


def _entry(mapping: Mapping, path: AttrPath) -> Column | Callable[[Compare], ColumnElement[bool]]:
    """The mapping's entry for ``path``: a multi-valued attribute named without a sub-attribute
    means its "value"; an extension's attribute may be named without its URN."""
    key = path.dotted
    for candidate in (key, f"{key}.value"):
        if candidate in mapping:
            return mapping[candidate]
    if path.urn is None:
        qualified = [k for k in mapping if k.startswith("urn:") and k.endswith(f":{key}")]
        if len(qualified) == 1:
            return mapping[qualified[0]]
    raise FilterError(f"attribute '{key}' cannot be filtered on")


def _column(column: Column, compare: Compare) -> ColumnElement[bool]:
    op, value, col = compare.op, compare.value, column.expression
    name = compare.path.dotted
    check_compare(Attribute(name, column.type, case_exact=column.case_exact), name, op, value)
    if op == "pr":
        present = col.is_not(None)
        return and_(present, col != "") if column.type == "string" else present
    if value is None:
        missing = col.is_(None)
        return or_(missing, col == "") if column.type == "string" else missing
    target, bound = _operands(column, value)
    if op == "ne":
        return or_(col.is_(None), target != bound)
    return and_(col.is_not(None), _operator(column, target, op, bound))


def _operands(column: Column, value: Any) -> tuple[ColumnElement[Any], Any]:
    """The column side and the value side of a comparison, in the column's terms."""
    col = column.expression
    if column.type == "boolean":
        return col, coerce_boolean(value)
    if column.type == "dateTime":
        moment: datetime | None = parse_datetime(str(value))
        return col, moment
    if column.type != "string":
        return col, value
    text = str(value)
    if column.folded:
        return col, text.casefold()
    if column.case_exact:
        return col, text
    return func.lower(col), text.lower()


def _operator(column: Column, target: ColumnElement[Any], op: str, bound: Any) -> ColumnElement[bool]:
    if op in _ORDER:
        return cast("ColumnElement[bool]", _ORDER[op](target, bound))
    text = str(bound)
    if column.case_exact and not column.folded:
        return _exact_text(target, op, text)
    escape = any(ch in text for ch in _LIKE_SPECIAL)
    if op == "co":
        return target.contains(text, autoescape=escape)
    if op == "sw":
        return target.startswith(text, autoescape=escape)
    return target.endswith(text, autoescape=escape)


def _exact_text(target: ColumnElement[Any], op: str, text: str) -> ColumnElement[bool]:
    """co/sw/ew respecting case on both databases: SQLite's LIKE ignores ASCII case."""
    if not text:
        return true()
    if op == "co":
        return _Position(target, text) > 0
    if op == "sw":
        return func.substr(target, 1, len(text)) == text
    if op == "ew":
        return and_(
            func.length(target) >= len(text),
            func.substr(target, func.length(target) - len(text) + 1) == text,
        )
    return false()


class _Position(FunctionElement[int]):
    """Where a text first occurs in another (1-based, 0 when absent), case-sensitively."""

    type = Integer()
    inherit_cache = True


@compiles(_Position)
def _position_default(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"instr({compiler.process(element.clauses, **kw)})"


@compiles(_Position, "postgresql")
def _position_postgresql(element: _Position, compiler: SQLCompiler, **kw: Any) -> str:
    return f"strpos({compiler.process(element.clauses, **kw)})"
