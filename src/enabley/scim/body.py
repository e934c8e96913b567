"""A POST or PUT body (RFC 7644 §3.3, §3.5.1) as the resource it asks for, with no I/O.

What the schema does not know is ignored, not refused, and so is what the server computes
(readOnly: id, meta, groups, a member's display): identity providers send both back. Values are
coerced by the schema's types as PATCH values are (Entra ID's "True"/"False" strings), names are
matched in any case and written as the schema spells them, and the required attributes must be
there. The result holds only attributes the schema defines, extensions under their URN, and a
``schemas`` listing the core schema and each extension present.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enabley.scim.filter import get
from enabley.scim.schema import Attribute, ResourceSchema
from enabley.scim.values import PatchError, coerce

__all__ = ["prepare_resource"]


def prepare_resource(body: Any, schema: ResourceSchema) -> dict[str, Any]:
    """The resource ``body`` describes; PatchError ("invalidSyntax" or "invalidValue") says why
    it cannot be one."""
    if not isinstance(body, Mapping):
        raise PatchError("invalidSyntax", "the body must be a JSON object")
    out = _known(body, (*schema.common, *schema.core.attributes))
    listed = [schema.core.id]
    for extension in schema.extensions:
        given = get(body, extension.id)
        if given is None:
            continue
        if not isinstance(given, Mapping):
            raise PatchError("invalidValue", f"'{extension.id}' takes an object of its attributes")
        part = _known(given, extension.attributes)
        if part:
            out[extension.id] = part
            listed.append(extension.id)
    holders = [(schema.core, out)] + [(e, out.get(e.id, {})) for e in schema.extensions]
    for held_schema, holder in holders:
        missing = [a.name for a in held_schema.attributes if a.required and a.name not in holder]
        if missing:
            raise PatchError("invalidValue", f"'{missing[0]}' is required")
    return {"schemas": listed, **out}


def _known(given: Mapping[str, Any], attrs: tuple[Attribute, ...]) -> dict[str, Any]:
    """The attributes of ``given`` that ``attrs`` define and a client may write, coerced; empty
    values (null, "", [], {}) are left out as unassigned (RFC 7643 §2.5)."""
    by_name = {a.name.lower(): a for a in attrs}
    out: dict[str, Any] = {}
    for key, value in given.items():
        attr = by_name.get(key.lower()) if isinstance(key, str) else None
        if attr is None or attr.mutability == "readOnly" or value is None:
            continue
        coerced = coerce(attr, value, attr.name)
        if coerced not in ("", [], {}):
            out[attr.name] = coerced
    return out
