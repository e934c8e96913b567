"""Which attributes a response carries (RFC 7644 §3.4.2.5, RFC 7643 §7 "returned").

``attributes`` replaces the default set, ``excludedAttributes`` takes from it; neither touches
``schemas`` or what is returned "always" (``id``, and ``meta.resourceType`` so that a partial
resource still says what it is); what is returned "never" (``password``) never leaves, and what
is returned on "request" only when named. Names are case-insensitive, may be dotted
("name.givenName", "emails.value") and URN-prefixed, or an extension's URN for all of it. Names
the schema does not know select nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from enabley.scim.filter import FilterError, parse_patch_path
from enabley.scim.schema import Attribute, ResourceSchema

_WHOLE = "*"
# A selection: (scope, attribute) -> its sub-attributes, or None for all of it. The scope is the
# lower-cased URN of the extension holding the attribute, "" for the core and common ones; the
# attribute _WHOLE stands for all of an extension.
_Selection = dict[tuple[str, str], set[str] | None]


def parse_attribute_list(text: str | None) -> list[str] | None:
    """The names of an ``attributes``/``excludedAttributes`` query parameter (comma-separated)."""
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    return names or None


def project(
    resource: Mapping[str, Any],
    schema: ResourceSchema,
    attributes: list[str] | None,
    excluded: list[str] | None,
) -> dict[str, Any]:
    """The resource as a response may show it."""
    wanted = _select(attributes, schema) if attributes else None
    unwanted = _select(excluded, schema) if excluded else {}
    core = {a.name.lower(): a for a in (*schema.common, *schema.core.attributes)}
    out = _project_object(resource, core, "", wanted, unwanted)
    for key, value in resource.items():
        if key.lower() == "schemas":
            out[key] = value
            continue
        extension = schema.extension(key)
        if extension is None or not isinstance(value, Mapping):
            continue
        scope = extension.id.lower()
        if (scope, _WHOLE) in unwanted:
            continue
        # Naming the extension's URN selects all of it.
        whole = wanted is not None and (scope, _WHOLE) in wanted
        attrs = {a.name.lower(): a for a in extension.attributes}
        part = _project_object(value, attrs, scope, None if whole else wanted, unwanted)
        if part:
            out[key] = part
    return {k: out[k] for k in resource if k in out}


def _select(names: list[str], schema: ResourceSchema) -> _Selection:
    selection: _Selection = {}
    for name in names:
        extension = schema.extension(name)
        if extension is not None:
            selection[(extension.id.lower(), _WHOLE)] = None
            continue
        try:
            parsed = parse_patch_path(name)
        except FilterError:
            continue
        if parsed.filter is not None:
            continue
        path = parsed.path
        located = schema.locate(path.attr if path.urn is None else f"{path.urn}:{path.attr}")
        if located is None:
            continue
        holder, attr = located
        key = (holder.id.lower() if holder is not None else "", attr.name.lower())
        if path.sub is None:
            selection[key] = None
        elif attr.sub(path.sub) is not None:
            subs = selection.setdefault(key, set())
            if subs is not None:
                subs.add(path.sub)
    return selection


def _project_object(
    obj: Mapping[str, Any],
    attrs: dict[str, Attribute],
    scope: str,
    wanted: _Selection | None,
    unwanted: _Selection,
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in obj.items():
        attr = attrs.get(key.lower())
        if attr is None or attr.returned == "never":
            continue
        selected = _ALL if wanted is None else wanted.get((scope, attr.name.lower()), _NONE)
        if selected is _NONE and attr.returned != "always" and not _has_always(attr):
            continue
        if wanted is None and attr.returned == "request":
            continue
        dropped = unwanted.get((scope, attr.name.lower()), _NONE)
        if dropped is None and attr.returned != "always" and not _has_always(attr):
            continue
        if attr.type != "complex":
            out[key] = value
            continue
        kept = _project_complex(attr, value, selected, dropped)
        if kept:
            out[key] = kept
    return out


# Markers for "every sub-attribute" (no list given) and "not named".
_ALL: set[str] | None = None
_NONE: set[str] = set()


def _has_always(attr: Attribute) -> bool:
    return any(_always(attr, sub) for sub in attr.sub_attributes)


def _always(parent: Attribute, sub: Attribute) -> bool:
    return sub.returned == "always" or (parent.name == "meta" and sub.name == "resourceType")


def _project_complex(attr: Attribute, value: Any, selected: set[str] | None, dropped: set[str] | None) -> Any:
    """``value`` (one object, or a list of them) with only the sub-attributes to show."""
    items = value if isinstance(value, list) else [value]
    kept_items = []
    for item in items:
        if not isinstance(item, Mapping):
            continue
        kept: dict[str, Any] = {}
        for key, sub_value in item.items():
            sub = attr.sub(key)
            if sub is not None and _shows(attr, sub, selected, dropped):
                kept[key] = sub_value
        if kept:
            kept_items.append(kept)
    if isinstance(value, list):
        return kept_items
    return kept_items[0] if kept_items else None


def _shows(parent: Attribute, sub: Attribute, selected: set[str] | None, dropped: set[str] | None) -> bool:
    """Whether a sub-attribute is shown: ``selected`` None means every default one and _NONE
    that its attribute was not named; ``dropped`` None means all of its attribute was excluded."""
    if sub.returned == "never":
        return False
    if _always(parent, sub):
        return True
    if selected is _NONE or dropped is None:
        return False
    name = sub.name.lower()
    if name in dropped:
        return False
    return sub.returned != "request" if selected is None else name in selected
