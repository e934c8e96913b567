"""SCIM JSON values: coercion to an attribute's type, comparison, and case-insensitive keys.

Attribute names are case-insensitive (RFC 7643 §2.1) while JSON keys are not: writes go through
`put`/`pop`, which replace a key spelled in another case by the schema's spelling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enabley.scim.filter import coerce_boolean, get, parse_datetime
from enabley.scim.schema import Attribute

SCIM_TYPES = ("invalidPath", "noTarget", "invalidValue", "mutability", "invalidSyntax", "invalidFilter")


class PatchError(ValueError):
    """A change that cannot apply (a PATCH operation, a POST or PUT body); ``scim_type`` is the
    RFC 7644 §3.12 error type."""

    def __init__(self, scim_type: str, detail: str) -> None:
        if scim_type not in SCIM_TYPES:
            raise ValueError(f"unknown scimType {scim_type!r}")
        super().__init__(detail)
        self.scim_type = scim_type


def key_of(obj: Mapping[str, Any], name: str) -> str | None:
    """The key naming ``name`` in ``obj``, in whatever case it is spelled."""
    if name in obj:
        return name
    wanted = name.lower()
    return next((k for k in obj if isinstance(k, str) and k.lower() == wanted), None)


def put(obj: dict[str, Any], name: str, value: Any) -> None:
    """Set ``name`` to ``value``, dropping a key that spells it in another case."""
    found = key_of(obj, name)
    if found is not None and found != name:
        del obj[found]
    obj[name] = value


def pop(obj: dict[str, Any], name: str) -> None:
    found = key_of(obj, name)
    if found is not None:
        del obj[found]


def coerce(attr: Attribute, value: Any, shown: str) -> Any:
    """``value`` as ``attr``'s type: a list for a multi-valued attribute, an object of the known
    sub-attributes for a complex one. Strings stand for booleans and numbers, and a single value
    may come wrapped as ``[{"value": ...}]`` (Entra ID sends both)."""
    if attr.multi_valued:
        items = value if isinstance(value, list) else [value]
        coerced = [_single(attr, item, shown) for item in items if item is not None]
        # A value left with no sub-attribute we keep says nothing: it is no value.
        return [item for item in coerced if item != {}]
    return _single(attr, _unwrap(attr, value), shown)


def _unwrap(attr: Attribute, value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if attr.type != "complex" and isinstance(value, Mapping) and len(value) == 1:
        inner = get(value, "value")
        if inner is not None:
            return inner
    return value


def _single(attr: Attribute, value: Any, shown: str) -> Any:
    if attr.type == "complex":
        return _complex(attr, value, shown)
    if attr.type == "boolean":
        flag = coerce_boolean(value)
        if flag is None:
            raise PatchError("invalidValue", f"'{shown}' takes true or false, not {value!r}")
        return flag
    if attr.type == "integer":
        return _integer(value, shown)
    if attr.type == "decimal":
        return _decimal(value, shown)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PatchError("invalidValue", f"'{shown}' takes a string, not {value!r}")
    text = value if isinstance(value, str) else str(value)
    if attr.type == "dateTime" and parse_datetime(text) is None:
        raise PatchError("invalidValue", f"'{shown}' takes an RFC 3339 date-time, not {text!r}")
    return text


def _complex(attr: Attribute, value: Any, shown: str) -> dict[str, Any]:
    if isinstance(value, str) and attr.sub("value") is not None:
        # Entra ID sends the enterprise manager as the bare id.
        return {"value": value}
    if not isinstance(value, Mapping):
        raise PatchError("invalidValue", f"'{shown}' takes an object of its sub-attributes, not {value!r}")
    out: dict[str, Any] = {}
    for key, item in value.items():
        sub = attr.sub(key) if isinstance(key, str) else None
        # What the server computes (a member's display) and what the schema does not know are
        # ignored, as RFC 7644 §3.3 has a create ignore them.
        if sub is None or sub.mutability == "readOnly" or item is None:
            continue
        out[sub.name] = _single(sub, _unwrap(sub, item), f"{shown}.{sub.name}")
    return out


def _integer(value: Any, shown: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    raise PatchError("invalidValue", f"'{shown}' takes an integer, not {value!r}")


def _decimal(value: Any, shown: str) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise PatchError("invalidValue", f"'{shown}' takes a number, not {value!r}")


def same_value(attr: Attribute, held: Any, given: Any) -> bool:
    """Whether ``given`` names the value ``held`` of the multi-valued ``attr``: by their "value"
    sub-attributes when the attribute has one (a bare string stands for it), else by equality."""
    value_sub = attr.sub("value")
    if value_sub is not None:
        mine = get(held, "value") if isinstance(held, Mapping) else held
        theirs = get(given, "value") if isinstance(given, Mapping) else given
        if mine is not None and theirs is not None:
            return _equal(value_sub, mine, theirs)
    return bool(held == given)


def _equal(attr: Attribute, left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str) and not attr.case_exact:
        return left.casefold() == right.casefold()
    return bool(left == right)
