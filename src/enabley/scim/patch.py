"""SCIM PATCH (RFC 7644 §3.5.2) applied to a resource held as SCIM JSON, with no I/O.

Follows the RFC and also accepts what Microsoft Entra ID and Okta actually send: `op` in any
case, booleans as "True"/"False" strings (also wrapped as `[{"value": "False"}]`), a manager as a
bare id, objects without `path` whose keys are dotted or URN-prefixed, `remove` of members with a
`value` list, and `add`/`replace` through a value filter that matches nothing yet (the element is
created from the filter's equalities, as Entra ID expects for `emails[type eq "work"].value`).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from enabley.scim.filter import (
    And,
    Compare,
    FilterError,
    PatchPath,
    get,
    matches_value,
    parse_patch_path,
    validate,
)
from enabley.scim.schema import Attribute, ResourceSchema, Schema
from enabley.scim.values import PatchError, coerce, pop, put, same_value

__all__ = ["PatchError", "apply_patch"]

OPS = ("add", "replace", "remove")
# Qualifiers of a multi-valued attribute's value, not content: an element left with only these
# after a remove is dropped.
_QUALIFIERS = frozenset({"type", "primary"})


@dataclass(frozen=True)
class _Target:
    """A resolved path: where the attribute lives and what it is."""

    shown: str
    extension: Schema | None
    attr: Attribute
    path: PatchPath
    leaf: Attribute  # the attribute written: a sub-attribute when the path names one


def apply_patch(
    resource: dict[str, Any], operations: list[Mapping[str, Any]], schema: ResourceSchema
) -> dict[str, Any]:
    """The resource after every operation, in order, as a new dict; PatchError (with its SCIM
    ``scimType``) names the first operation that cannot apply, and nothing is applied then."""
    if not isinstance(operations, list) or not operations:
        raise PatchError("invalidSyntax", "'Operations' must be a non-empty list")
    result = copy.deepcopy(resource)
    for number, operation in enumerate(operations, 1):
        try:
            _apply(result, operation, schema)
        except PatchError as exc:
            raise PatchError(exc.scim_type, f"operation {number}: {exc}") from None
    _tidy_extensions(result, schema)
    return result


def _apply(resource: dict[str, Any], operation: Any, schema: ResourceSchema) -> None:
    if not isinstance(operation, Mapping):
        raise PatchError("invalidSyntax", "an operation must be an object")
    op = get(operation, "op")
    if not isinstance(op, str) or op.lower() not in OPS:
        raise PatchError("invalidSyntax", f"'op' must be add, replace or remove, not {op!r}")
    op = op.lower()
    has_value = any(isinstance(k, str) and k.lower() == "value" for k in operation)
    value = get(operation, "value")
    path = get(operation, "path")
    if path is not None and not isinstance(path, str):
        raise PatchError("invalidPath", "'path' must be a string")
    if op == "add" and (not has_value or value is None):
        raise PatchError("invalidValue", "add needs a 'value'")
    if op == "replace" and not has_value:
        raise PatchError("invalidValue", "replace needs a 'value'")
    if path is None or not path.strip():
        if op == "remove":
            raise PatchError("noTarget", "remove needs a 'path'")
        if not isinstance(value, Mapping):
            raise PatchError("invalidValue", "without a 'path', the value must be an object of attributes")
        _apply_object(resource, op, value, schema)
        return
    extension = schema.extension(path.strip())
    if extension is not None:
        _apply_extension(resource, op, extension, value, schema)
        return
    _apply_target(resource, op, _resolve(path, schema), value, schema, from_object=False)


def _apply_extension(
    resource: dict[str, Any], op: str, extension: Schema, value: Any, schema: ResourceSchema
) -> None:
    """A path naming a whole extension: its object's attributes, or all of them for remove."""
    if op == "remove":
        pop(resource, extension.id)
        return
    if not isinstance(value, Mapping):
        raise PatchError("invalidValue", f"'{extension.id}' takes an object of its attributes")
    _apply_object(resource, op, {extension.id: value}, schema)


def _apply_object(
    resource: dict[str, Any], op: str, value: Mapping[str, Any], schema: ResourceSchema
) -> None:
    """``add``/``replace`` without a path: each key ("name.givenName", a URN-prefixed name, or an
    extension's URN holding an object of its attributes) is an operation of its own."""
    for key, item in value.items():
        if not isinstance(key, str) or key.lower() == "schemas":
            continue
        extension = schema.extension(key)
        if extension is not None:
            if not isinstance(item, Mapping):
                raise PatchError("invalidValue", f"'{key}' takes an object of its attributes")
            for name, sub_item in item.items():
                if not isinstance(name, str) or name.lower() == "schemas":
                    continue
                target = _resolve(f"{extension.id}:{name}", schema)
                _apply_target(resource, op, target, sub_item, schema, from_object=True)
            continue
        _apply_target(resource, op, _resolve(key, schema), item, schema, from_object=True)


def _resolve(text: str, schema: ResourceSchema) -> _Target:
    try:
        path = parse_patch_path(text)
    except FilterError as exc:
        raise PatchError("invalidPath", str(exc)) from None
    top = path.path
    qualified = top.attr if top.urn is None else f"{top.urn}:{top.attr}"
    located = schema.locate(qualified)
    if located is None:
        raise PatchError("invalidPath", f"unknown attribute '{qualified}'")
    extension, attr = located
    leaf = attr
    sub_name = top.sub or path.sub
    if sub_name is not None:
        found = attr.sub(sub_name)
        if found is None:
            raise PatchError("invalidPath", f"unknown attribute '{qualified}.{sub_name}'")
        leaf = found
    if path.filter is not None:
        if not (attr.multi_valued and attr.type == "complex"):
            raise PatchError("invalidPath", f"'{attr.name}' is not multi-valued: it takes no value filter")
        try:
            validate(path.filter, schema, attr)
        except FilterError as exc:
            raise PatchError("invalidFilter", str(exc)) from None
    shown = attr.name if sub_name is None else f"{attr.name}.{leaf.name}"
    return _Target(shown, extension, attr, path, leaf)


def _apply_target(
    resource: dict[str, Any],
    op: str,
    target: _Target,
    value: Any,
    schema: ResourceSchema,
    *,
    from_object: bool,
) -> None:
    container = _container(resource, target.extension, create=op != "remove")
    if container is None:
        return
    attr = target.attr
    if "readOnly" in (attr.mutability, target.leaf.mutability):
        # Okta repeats the id in a rename; a read-only value sent unchanged is no change.
        current = get(container, attr.name)
        if from_object and op != "remove" and target.leaf is attr and value == current:
            return
        raise PatchError("mutability", f"'{target.shown}' is read-only")
    if target.leaf is not attr and target.leaf.mutability == "immutable":
        raise PatchError("mutability", f"'{target.shown}' cannot change once set")
    if op == "remove" or value is None:
        # RFC 7643 §2.5: assigning null unassigns.
        _remove(container, target, value, schema)
    elif target.path.filter is not None or (attr.multi_valued and target.leaf is not attr):
        _write_selected(container, op, target, value, schema)
    elif target.leaf is not attr:
        _write_sub(container, target, value)
    else:
        _write_whole(container, op, target, value)
    if attr.required and _unassigned(get(container, attr.name)):
        raise PatchError("invalidValue", f"'{attr.name}' is required: it cannot be removed or emptied")


def _container(resource: dict[str, Any], extension: Schema | None, *, create: bool) -> dict[str, Any] | None:
    """The object holding the attribute: the resource, or its extension's object."""
    if extension is None:
        return resource
    found = get(resource, extension.id)
    if isinstance(found, dict):
        return found
    if not create:
        return None
    put(resource, extension.id, {})
    created: dict[str, Any] = resource[extension.id]
    return created


def _write_whole(container: dict[str, Any], op: str, target: _Target, value: Any) -> None:
    """add/replace of a whole attribute: multi-valued values are merged by add and replaced by
    replace; a complex value's sub-attributes are merged by both (RFC 7644 §3.5.2.1, §3.5.2.3)."""
    attr = target.attr
    new = coerce(attr, value, target.shown)
    if attr.multi_valued:
        current = get(container, attr.name) if op == "add" else None
        merged = _merge_values(attr, current if isinstance(current, list) else [], new)
        put(container, attr.name, merged)
    elif attr.type == "complex":
        current = get(container, attr.name)
        merged_object = dict(current) if isinstance(current, Mapping) else {}
        for key, item in new.items():
            put(merged_object, key, item)
        put(container, attr.name, merged_object)
    else:
        put(container, attr.name, new)
    _drop_if_unassigned(container, attr.name)


def _write_sub(container: dict[str, Any], target: _Target, value: Any) -> None:
    """add/replace of a singular complex attribute's sub-attribute ("name.givenName")."""
    current = get(container, target.attr.name)
    holder = dict(current) if isinstance(current, Mapping) else {}
    put(holder, target.leaf.name, coerce(target.leaf, value, target.shown))
    put(container, target.attr.name, holder)
    _drop_if_unassigned(container, target.attr.name)


def _write_selected(
    container: dict[str, Any], op: str, target: _Target, value: Any, schema: ResourceSchema
) -> None:
    """add/replace through a value filter (or a multi-valued attribute's sub-attribute without
    one, which selects every value): the matching values are changed, or one is created from
    the filter's equalities when none matches."""
    attr, leaf, path = target.attr, target.leaf, target.path
    current = get(container, attr.name)
    elements = [dict(e) for e in current if isinstance(e, Mapping)] if isinstance(current, list) else []
    selected = [
        i
        for i, e in enumerate(elements)
        if path.filter is None or matches_value(path.filter, e, schema, attr)
    ]
    if leaf is attr:
        values = coerce(attr, value, target.shown) if isinstance(value, list | Mapping) else []
        if len(values) != 1:
            raise PatchError("invalidValue", f"'{target.shown}' takes one object of its sub-attributes")
        new = values[0]
    else:
        new = {leaf.name: coerce(leaf, value, target.shown)}
    if not selected:
        seed = _seed(path.filter, attr)
        if seed is None:
            raise PatchError("noTarget", f"no value of '{attr.name}' matches the path's filter")
        elements.append({**seed, **new})
        selected = [len(elements) - 1]
    else:
        for i in selected:
            if op == "replace" and leaf is attr:
                elements[i] = dict(new)
            else:
                for key, item in new.items():
                    put(elements[i], key, item)
    if any(get(elements[i], "primary") is True for i in selected):
        _settle_primary(elements, set(selected))
    put(container, attr.name, elements)


def _remove(container: dict[str, Any], target: _Target, value: Any, schema: ResourceSchema) -> None:
    attr, leaf, path = target.attr, target.leaf, target.path
    current = get(container, attr.name)
    if current is None:
        return
    if not attr.multi_valued:
        if leaf is attr:
            pop(container, attr.name)
        elif isinstance(current, Mapping):
            holder = dict(current)
            pop(holder, leaf.name)
            put(container, attr.name, holder)
        _drop_if_unassigned(container, attr.name)
        return
    elements = list(current) if isinstance(current, list) else [current]
    if path.filter is not None:
        chosen = [isinstance(e, Mapping) and matches_value(path.filter, e, schema, attr) for e in elements]
    elif leaf is attr and value is not None:
        # Entra ID and Okta name the members to remove in the value: [{"value": "u1"}].
        listed = value if isinstance(value, list) else [value]
        chosen = [any(same_value(attr, e, item) for item in listed) for e in elements]
    else:
        chosen = [True] * len(elements)
    kept: list[Any] = []
    for element, hit in zip(elements, chosen, strict=True):
        if not hit:
            kept.append(element)
        elif leaf is not attr and isinstance(element, Mapping):
            rest = {k: v for k, v in element.items() if k.lower() != leaf.name.lower()}
            if set(map(str.lower, rest)) - _QUALIFIERS:
                kept.append(rest)
    put(container, attr.name, kept)
    _drop_if_unassigned(container, attr.name)


def _seed(filter: Any, attr: Attribute) -> dict[str, Any] | None:
    """The value a filter made of ``eq`` comparisons joined by ``and`` describes, if it is one."""
    if filter is None:
        return {}
    if isinstance(filter, And):
        left, right = _seed(filter.left, attr), _seed(filter.right, attr)
        return {**left, **right} if left is not None and right is not None else None
    if isinstance(filter, Compare) and filter.op == "eq" and filter.value is not None:
        sub = attr.sub(filter.path.attr)
        if sub is not None and sub.mutability != "readOnly":
            return {sub.name: coerce(sub, filter.value, f"{attr.name}.{sub.name}")}
    return None


def _merge_values(attr: Attribute, current: list[Any], new: list[Any]) -> list[Any]:
    """``current`` with ``new`` added: a value equal to one held (by its "value" sub-attribute when
    it has one) updates it instead of repeating it."""
    merged = [dict(e) if isinstance(e, Mapping) else e for e in current]
    added: set[int] = set()
    for item in new:
        at = next((i for i, e in enumerate(merged) if same_value(attr, e, item)), None)
        if at is None:
            merged.append(item)
            added.add(len(merged) - 1)
        elif isinstance(item, Mapping) and isinstance(merged[at], dict):
            for key, sub in item.items():
                put(merged[at], key, sub)
            added.add(at)
        else:
            added.add(at)
    if any(get(merged[i], "primary") is True for i in added):
        _settle_primary(merged, added)
    return merged


def _settle_primary(elements: list[Any], chosen: set[int]) -> None:
    """At most one value is primary: the one just written wins (RFC 7643 §2.4)."""
    winner = max(i for i in chosen if get(elements[i], "primary") is True)
    for i, element in enumerate(elements):
        if i != winner and isinstance(element, dict) and get(element, "primary") is True:
            put(element, "primary", False)


def _unassigned(value: Any) -> bool:
    # RFC 7643 §2.5: null and an empty array are unassigned; an empty string or object says no more.
    return value is None or value == "" or value == [] or value == {}


def _drop_if_unassigned(container: dict[str, Any], name: str) -> None:
    if _unassigned(get(container, name)):
        pop(container, name)


def _tidy_extensions(resource: dict[str, Any], schema: ResourceSchema) -> None:
    """An extension's URN is listed in ``schemas`` exactly when the resource holds its attributes."""
    for extension in schema.extensions:
        held = get(resource, extension.id)
        if isinstance(held, Mapping) and not held:
            pop(resource, extension.id)
            held = None
        schemas = resource.get("schemas")
        if not isinstance(schemas, list):
            continue
        listed = [s for s in schemas if isinstance(s, str) and s.lower() == extension.id.lower()]
        if held is None:
            resource["schemas"] = [s for s in schemas if s not in listed]
        elif not listed:
            resource["schemas"] = [*schemas, extension.id]
