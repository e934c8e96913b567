"""SCIM filters checked against a schema and evaluated against a resource (RFC 7644 §3.4.2.2)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from enabley.scim.nodes import (
    TEXT_OPS,
    And,
    AttrPath,
    Compare,
    Filter,
    FilterError,
    Not,
    Or,
    Value,
    ValuePath,
    coerce_boolean,
    parse_datetime,
)
from enabley.scim.schema import CORE_URNS

if TYPE_CHECKING:
    from enabley.scim.schema import Attribute, ResourceSchema


def validate(filter: Filter, schema: ResourceSchema, parent: Attribute | None = None) -> None:
    """Check that every attribute a filter names exists on the resource (or, given ``parent``, is
    one of its sub-attributes, as in a value filter) and that each comparison fits its
    attribute's type; FilterError says what does not."""
    _validate(filter, schema, parent)


def _validate(filter: Filter, schema: ResourceSchema, parent: Attribute | None) -> None:
    match filter:
        case And(left, right) | Or(left, right):
            _validate(left, schema, parent)
            _validate(right, schema, parent)
        case Not(inner):
            _validate(inner, schema, parent)
        case ValuePath(path, inner):
            attr = definition(schema, path, parent)
            if attr.type != "complex":
                raise FilterError(f"'{path.name}' has no sub-attributes to filter on")
            _validate(inner, schema, attr)
        case Compare(path, op, value):
            name = path.name if parent is None else f"{parent.name.lower()}.{path.name}"
            check_compare(compared(definition(schema, path, parent), op), name, op, value)


def definition(schema: ResourceSchema, path: AttrPath, parent: Attribute | None = None) -> Attribute:
    """The attribute ``path`` names (a sub-attribute of ``parent`` inside a value filter)."""
    if parent is not None:
        found = parent.sub(path.attr) if path.urn is None and path.sub is None else None
        shown = f"{parent.name}.{path.name}".lower()
    else:
        found = schema.find(path.name if path.urn is None else f"{path.urn}:{path.name}")
        shown = path.name if path.urn is None else f"{path.urn}:{path.name}"
    if found is None:
        raise FilterError(f"unknown attribute '{shown}'")
    return found


def compared(attr: Attribute, op: str) -> Attribute:
    """What a comparison looks at: a multi-valued attribute named without a sub-attribute
    compares its values' "value" (RFC 7643 §2.4), as in ``emails co "@example.com"``."""
    value = attr.sub("value") if attr.multi_valued and op != "pr" else None
    return value if value is not None else attr


def check_compare(attr: Attribute, name: str, op: str, value: Value) -> None:
    """Refuse a comparison RFC 7644 §3.4.2.2 gives no meaning for ``attr``'s type."""
    if attr.returned == "never":
        # Filtering on a secret would reveal it one guess at a time.
        raise FilterError(f"'{name}' cannot be filtered on")
    if op == "pr":
        return
    if attr.type == "complex":
        raise FilterError(f"'{name}' is complex: filter on one of its sub-attributes")
    if value is None:
        if op not in ("eq", "ne"):
            raise FilterError(f"null can be compared only with eq or ne, not {op}")
        return
    kind = attr.type
    if kind == "boolean":
        if op not in ("eq", "ne"):
            raise FilterError(f"'{name}' is a boolean: only eq, ne and pr apply to it, not {op}")
        if coerce_boolean(value) is None:
            raise FilterError(f"'{name}' is a boolean: compare it with true or false")
    elif kind in ("integer", "decimal", "dateTime") and op in TEXT_OPS:
        article = "an" if kind == "integer" else "a"
        raise FilterError(f"'{name}' is {article} {kind}: {op} applies only to strings")
    elif kind in ("integer", "decimal"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FilterError(f"'{name}' is a number: compare it with a number")
    elif kind == "dateTime":
        if not isinstance(value, str) or parse_datetime(value) is None:
            raise FilterError(
                f"'{name}' is a dateTime: compare it with an RFC 3339 date-time such as "
                f'"2026-12-06T12:00:00Z", not {json.dumps(value)}'
            )
    elif not isinstance(value, str):
        raise FilterError(f"'{name}' is a string: compare it with a quoted string")


def matches(filter: Filter, resource: Mapping[str, Any], schema: ResourceSchema | None = None) -> bool:
    """Whether a SCIM JSON resource satisfies ``filter``; names match in any case. With ``schema``
    the filter is validated first and each attribute's type and caseExact are honoured; without
    it types follow the JSON values and strings compare case-insensitively."""
    if schema is not None:
        validate(filter, schema)
    return _eval(filter, resource, schema, None)


def matches_value(
    filter: Filter, element: Mapping[str, Any], schema: ResourceSchema, parent: Attribute
) -> bool:
    """Whether one value of the multi-valued ``parent`` satisfies a value filter's inner filter."""
    return _eval(filter, element, schema, parent)


def _eval(
    filter: Filter, resource: Mapping[str, Any], schema: ResourceSchema | None, parent: Attribute | None
) -> bool:
    match filter:
        case And(left, right):
            return _eval(left, resource, schema, parent) and _eval(right, resource, schema, parent)
        case Or(left, right):
            return _eval(left, resource, schema, parent) or _eval(right, resource, schema, parent)
        case Not(inner):
            return not _eval(inner, resource, schema, parent)
        case ValuePath(path, inner):
            attr = definition(schema, path) if schema is not None else None
            found = _lookup(resource, AttrPath(path.urn, path.attr))
            elements = found if isinstance(found, list) else [found]
            return any(_eval(inner, e, schema, attr) for e in elements if isinstance(e, Mapping))
        case Compare(path, op, value):
            attr = compared(definition(schema, path, parent), op) if schema is not None else None
            return _compare(_candidates(resource, path), op, value, attr)
    raise TypeError(f"not a filter: {filter!r}")


def get(obj: Any, name: str) -> Any:
    """``obj[name]`` with the key matched in any case; None when absent or ``obj`` is no object."""
    if not isinstance(obj, Mapping):
        return None
    if name in obj:
        return obj[name]
    wanted = name.lower()
    return next((v for k, v in obj.items() if k.lower() == wanted), None)


def _lookup(resource: Mapping[str, Any], path: AttrPath) -> Any:
    """The attribute's raw JSON value; an unqualified name is also looked for in the extensions."""
    if path.urn is not None and path.urn not in CORE_URNS:
        return get(get(resource, path.urn), path.attr)
    found = get(resource, path.attr)
    if found is None:
        for key, ext in resource.items():
            if key.lower().startswith("urn:") and isinstance(ext, Mapping):
                found = get(ext, path.attr)
                if found is not None:
                    break
    return found


def _candidates(resource: Mapping[str, Any], path: AttrPath) -> list[Any]:
    """The values a comparison looks at: each element's for a multi-valued attribute (its "value"
    when no sub-attribute is named); absent values dropped."""
    raw = _lookup(resource, AttrPath(path.urn, path.attr))
    items = raw if isinstance(raw, list) else [raw]
    if path.sub is not None:
        values = [get(item, path.sub) for item in items]
    elif isinstance(raw, list):
        values = [get(item, "value") if isinstance(item, Mapping) else item for item in items]
    else:
        values = items
    return [v for v in values if _present(v)]


def _present(value: Any) -> bool:
    # RFC 7643 §2.5: null, an empty array (and an empty string or object) are unassigned.
    return value is not None and value != "" and value != [] and value != {}


def _compare(values: list[Any], op: str, expected: Value, attr: Attribute | None) -> bool:
    if op == "pr":
        return bool(values)
    if expected is None:
        return not values if op == "eq" else bool(values)
    if op == "ne":
        return not any(_compare_one(v, "eq", expected, attr) for v in values)
    return any(_compare_one(v, op, expected, attr) for v in values)


def _compare_one(actual: Any, op: str, expected: Value, attr: Attribute | None) -> bool:
    kind = attr.type if attr is not None else _kind(actual)
    if kind == "boolean":
        if op != "eq":
            raise FilterError(f"a boolean: only eq, ne and pr apply to it, not {op}")
        wanted = coerce_boolean(expected)
        return wanted is not None and coerce_boolean(actual) == wanted
    if kind in ("integer", "decimal"):
        if isinstance(actual, bool) or not isinstance(actual, int | float):
            return False
        if isinstance(expected, bool) or not isinstance(expected, int | float):
            return False
        return _ordered(actual, op, expected)
    if not isinstance(actual, str) or not isinstance(expected, str):
        return False
    if kind == "dateTime":
        moment, bound = parse_datetime(actual), parse_datetime(expected)
        return moment is not None and bound is not None and _ordered(moment, op, bound)
    return _compare_text(actual, op, expected, attr is not None and attr.case_exact)


def _compare_text(actual: str, op: str, expected: str, case_exact: bool) -> bool:
    if not case_exact:
        actual, expected = actual.casefold(), expected.casefold()
    if op == "co":
        return expected in actual
    if op == "sw":
        return actual.startswith(expected)
    if op == "ew":
        return actual.endswith(expected)
    return _ordered(actual, op, expected)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    return "decimal" if isinstance(value, int | float) else "string"


def _ordered(actual: Any, op: str, expected: Any) -> bool:
    if op == "eq":
        return bool(actual == expected)
    if op == "gt":
        return bool(actual > expected)
    if op == "ge":
        return bool(actual >= expected)
    if op == "lt":
        return bool(actual < expected)
    if op == "le":
        return bool(actual <= expected)
    return False
