"""SCIM JSON of users and groups: what each enabley column is called on the wire, and back.

A user's SCIM attributes without a column of their own (``displayName``, ``title``, the
enterprise extension's ``department``, the full ``emails`` list...) are kept in its custom
attributes under their SCIM names, so they read back and the integration API shows them; the
columns (``email``, ``phone``, ``address``) hold the primary value of each list, and win over the
kept list when the integration API changed them since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from enabley.errors import SCIM_MEDIA_TYPE, InvalidRequest
from enabley.scim.schema import ENTERPRISE_URN, LIST_RESPONSE_URN
from enabley.scim.schema import GROUP_SCHEMA_URN as GROUP_URN
from enabley.scim.schema import USER_SCHEMA_URN as USER_URN

MEDIA_TYPE = SCIM_MEDIA_TYPE

KEPT_CORE = (
    "displayName",
    "title",
    "preferredLanguage",
    "locale",
    "timezone",
    "emails",
    "phoneNumbers",
    "addresses",
)
"""Core User attributes kept in the custom attributes under these names."""
KEPT_ENTERPRISE = ("employeeNumber", "costCenter", "organization", "division", "department", "manager")
"""Enterprise extension attributes kept in the custom attributes under these names."""
KEPT_NAME = "name"
"""``name.formatted`` (the other parts have columns), kept as ``{"formatted": ...}`` under this name."""
_KEPT = frozenset((*KEPT_CORE, *KEPT_ENTERPRISE, KEPT_NAME))


def version(modified_at: datetime) -> str:
    """The weak ETag of a row: its last modification, to the microsecond."""
    return f'W/"{int(modified_at.timestamp() * 1_000_000):x}"'


def _meta(kind: str, location: str, created: datetime, modified: datetime) -> dict[str, Any]:
    created_at = _timestamp(created)
    return {
        "resourceType": kind,
        "created": created_at,
        # The same for a resource just created, and for many never changed since.
        "lastModified": created_at if modified == created else _timestamp(modified),
        "location": location,
        "version": version(modified),
    }


def _timestamp(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _primary(items: Any, prefer_type: str | None = None) -> dict[str, Any] | None:
    """The primary item of a multi-valued attribute, else the one of ``prefer_type``, else the first."""
    if not isinstance(items, list):
        return None
    dicts = [item for item in items if isinstance(item, dict)]
    for item in dicts:
        if item.get("primary") is True:
            return item
    for item in dicts:
        if prefer_type is not None and str(item.get("type", "")).lower() == prefer_type:
            return item
    return dicts[0] if dicts else None


def _with_column(items: Any, column: str | None, key: str, kind: str) -> list[dict[str, Any]] | None:
    """A kept list whose primary value is the column's (the integration API may have changed it)."""
    if column is None:
        return None
    kept = [dict(item) for item in items if isinstance(item, dict)] if isinstance(items, list) else []
    primary = _primary(kept, "work")
    if primary is None:
        return [{key: column, "type": kind, "primary": True}]
    primary[key] = column
    return kept


@dataclass(slots=True)
class UserFields:
    """What a SCIM User body sets, in enabley's terms."""

    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    is_active: bool = True
    password: str | None = None
    external_id: str | None = None
    kept: dict[str, Any] = field(default_factory=dict)


def user_to_scim(user: Any, groups: list[tuple[str, str]], base_url: str) -> dict[str, Any]:
    """A user row (columns of ``models.User``) as a SCIM User; ``groups`` are (identifier, name).
    Attributes without a value are left out (RFC 7643 2.5)."""
    custom = user.custom_attributes if isinstance(user.custom_attributes, dict) else {}
    location = f"{base_url}/scim/v2/Users/{user.external_id}"
    kept_name = custom.get(KEPT_NAME)
    name = dict(kept_name) if isinstance(kept_name, dict) else {}
    if user.first_name is not None:
        name["givenName"] = user.first_name
    if user.last_name is not None:
        name["familyName"] = user.last_name
    resource: dict[str, Any] = {"schemas": [USER_URN], "id": user.external_id}
    if user.scim_external_id is not None:
        resource["externalId"] = user.scim_external_id
    if user.username is not None:
        resource["userName"] = user.username
    if name:
        resource["name"] = name
    resource["active"] = user.is_active
    for key in _KEPT_CORE_PLAIN:
        if (value := custom.get(key)) is not None:
            resource[key] = value
    for key, column, sub in (
        ("emails", user.email, "value"),
        ("phoneNumbers", user.phone, "value"),
        ("addresses", user.address, "formatted"),
    ):
        if (items := _with_column(custom.get(key), column, sub, "work")) is not None:
            resource[key] = items
    enterprise = (
        {key: custom[key] for key in KEPT_ENTERPRISE if custom.get(key) is not None} if custom else None
    )
    if enterprise:
        resource["schemas"].append(ENTERPRISE_URN)
        resource[ENTERPRISE_URN] = enterprise
    if groups:
        resource["groups"] = [
            {"value": identifier, "display": name_, "$ref": f"{base_url}/scim/v2/Groups/{identifier}"}
            for identifier, name_ in groups
        ]
    resource["meta"] = _meta("User", location, user.created_at, user.modified_at)
    return resource


_KEPT_CORE_PLAIN = tuple(key for key in KEPT_CORE if key not in ("emails", "phoneNumbers", "addresses"))
"""The kept core attributes shown as they were kept (the lists with a column are shown with it)."""


def _text(value: Any, what: str) -> str | None:
    if value is None or isinstance(value, str):
        return value or None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise InvalidRequest(f"{what} must be a string", scim_type="invalidValue")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    # Entra ID sends booleans as strings.
    if isinstance(value, str) and value.lower() in {"true", "false"}:
        return value.lower() == "true"
    raise InvalidRequest("active must be a boolean", scim_type="invalidValue")


def folded(body: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """``body`` with its keys spelled as ``names`` spells them: attribute names are
    case-insensitive (RFC 7643 2.1); keys it doesn't know are left as they are."""
    canonical = _spellings(names)
    return {canonical.get(key.lower(), key): value for key, value in body.items()}


@lru_cache(maxsize=64)
def _spellings(names: tuple[str, ...]) -> dict[str, str]:
    """Each name, lower-cased -> as it is spelled: made once for each set of names."""
    return {name.lower(): name for name in names}


_USER_NAMES = (
    "schemas",
    "id",
    "externalId",
    "userName",
    "name",
    "active",
    "password",
    "groups",
    "meta",
    *KEPT_CORE,
    ENTERPRISE_URN,
)


def user_from_scim(body: dict[str, Any]) -> UserFields:
    """The enabley fields of a SCIM User body (a replacement: what it leaves out is cleared).
    Attributes the schema doesn't know are ignored, as RFC 7644 3.5.1 allows."""
    body = folded(body, _USER_NAMES)
    fields = UserFields(
        username=_text(body.get("userName"), "userName"),
        external_id=_text(body.get("externalId"), "externalId"),
        is_active=_boolean(body["active"]) if body.get("active") is not None else True,
        password=_text(body.get("password"), "password"),
    )
    name = body.get("name")
    if isinstance(name, dict):
        name = folded(name, ("givenName", "familyName", "formatted"))
        fields.first_name = _text(name.get("givenName"), "name.givenName")
        fields.last_name = _text(name.get("familyName"), "name.familyName")
        if isinstance(name.get("formatted"), str) and name["formatted"]:
            fields.kept[KEPT_NAME] = {"formatted": name["formatted"]}
    for key in KEPT_CORE:
        if body.get(key) not in (None, [], ""):
            fields.kept[key] = body[key]
    enterprise = body.get(ENTERPRISE_URN)
    if isinstance(enterprise, dict):
        enterprise = folded(enterprise, KEPT_ENTERPRISE)
        fields.kept.update({k: enterprise[k] for k in KEPT_ENTERPRISE if enterprise.get(k) not in (None, "")})
        if isinstance(fields.kept.get("manager"), str):
            # Entra ID sends the manager as the bare id.
            fields.kept["manager"] = {"value": fields.kept["manager"]}
    fields.email = _column_of(fields.kept, "emails", "value")
    fields.phone = _column_of(fields.kept, "phoneNumbers", "value")
    fields.address = _column_of(fields.kept, "addresses", "formatted")
    return fields


def _column_of(kept: dict[str, Any], name: str, key: str) -> str | None:
    """The column's value from a multi-valued attribute; the list itself stays kept only when it
    says more than the column does (several items, another type, other sub-attributes)."""
    items = kept.get(name)
    if items is None:
        return None
    value = _text(_value_of(items, key), f"{name}.{key}")
    if value is not None and items == _with_column(None, value, key, "work"):
        del kept[name]
    return value


def _value_of(items: Any, key: str) -> Any:
    primary = _primary(items, "work")
    return primary.get(key) if primary is not None else None


def merged_attributes(stored: Any, kept: dict[str, Any]) -> dict[str, Any] | None:
    """The user's custom attributes after a SCIM replacement: the SCIM attributes as ``kept``
    says, the others (set through the integration API) as they were."""
    others = {k: v for k, v in (stored or {}).items() if k not in _KEPT} if isinstance(stored, dict) else {}
    merged = {**others, **kept}
    return merged or None


def group_to_scim(group: Any, members: list[str] | None, base_url: str) -> dict[str, Any]:
    """A group row as a SCIM Group; ``members`` are user identifiers, None when not asked for.
    A member carries no ``display``: what a client sets there is not kept, so it would not read
    back as written."""
    location = f"{base_url}/scim/v2/Groups/{group.external_id}"
    resource: dict[str, Any] = {
        "schemas": [GROUP_URN],
        "id": group.external_id,
        "externalId": group.scim_external_id,
        "displayName": group.name,
    }
    if members:
        resource["members"] = [
            {"value": identifier, "$ref": f"{base_url}/scim/v2/Users/{identifier}", "type": "User"}
            for identifier in members
        ]
    resource["meta"] = _meta("Group", location, group.created_at, group.modified_at)
    return {key: value for key, value in resource.items() if value is not None}


def list_response(resources: list[dict[str, Any]], total: int, start_index: int) -> dict[str, Any]:
    return {
        "schemas": [LIST_RESPONSE_URN],
        "totalResults": total,
        "itemsPerPage": len(resources),
        "startIndex": start_index,
        "Resources": resources,
    }
