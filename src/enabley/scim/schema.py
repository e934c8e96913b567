"""The SCIM schemas of exactly what is served (RFC 7643 §4, §7, §8.7).

One definition feeds `/Schemas` discovery, filter validation, PATCH type coercion and attribute
projection, so what is advertised is what is understood. The common attributes (id, externalId,
meta; RFC 7643 §3.1) belong to every resource but to no schema: `ResourceSchema` adds them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

USER_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENTERPRISE_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:Schema"
RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
SERVICE_PROVIDER_CONFIG_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
LIST_RESPONSE_URN = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"
SEARCH_REQUEST_URN = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"

CORE_URNS = frozenset({USER_SCHEMA_URN.lower(), GROUP_SCHEMA_URN.lower()})
"""Core schema URNs, lower-cased: an attribute name prefixed with one means the bare name."""

TYPES = frozenset({"string", "boolean", "decimal", "integer", "dateTime", "reference", "complex", "binary"})
MUTABILITY = frozenset({"readOnly", "readWrite", "immutable", "writeOnly"})
RETURNED = frozenset({"always", "never", "default", "request"})
UNIQUENESS = frozenset({"none", "server", "global"})


@dataclass(frozen=True)
class Attribute:
    """An attribute definition (RFC 7643 §7)."""

    name: str
    type: str
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        # A typo here would be advertised to every identity provider: refuse it at import.
        if (
            self.type not in TYPES
            or self.mutability not in MUTABILITY
            or self.returned not in RETURNED
            or self.uniqueness not in UNIQUENESS
            or (self.type == "complex") != bool(self.sub_attributes)
        ):
            raise ValueError(f"invalid SCIM attribute definition {self.name!r}")

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name`` (any case), if this attribute has it."""
        wanted = name.lower()
        return next((a for a in self.sub_attributes if a.name.lower() == wanted), None)

    def to_scim(self) -> dict[str, Any]:
        """The attribute's definition as `/Schemas` serves it."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.canonical_values:
            out["canonicalValues"] = list(self.canonical_values)
        if self.type == "reference":
            out["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            out["subAttributes"] = [a.to_scim() for a in self.sub_attributes]
        return out


@dataclass(frozen=True)
class Schema:
    """A schema (RFC 7643 §7): its URN and its attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]

    def find(self, dotted: str) -> Attribute | None:
        """The attribute or sub-attribute named ``dotted`` ("name.givenname"), in any case."""
        head, _, rest = dotted.lower().partition(".")
        top = next((a for a in self.attributes if a.name.lower() == head), None)
        if top is None or not rest:
            return top
        return top.sub(rest) if "." not in rest else None

    def to_scim(self, location: str) -> dict[str, Any]:
        """The `/Schemas/{id}` resource."""
        return {
            "schemas": [SCHEMA_URN],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_scim() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": location},
        }


@dataclass(frozen=True)
class ResourceSchema:
    """A resource type: its core schema, its extensions and the common attributes."""

    name: str
    endpoint: str
    description: str
    core: Schema
    extensions: tuple[Schema, ...] = ()
    common: tuple[Attribute, ...] = field(default=())

    @property
    def schemas(self) -> tuple[Schema, ...]:
        return (self.core, *self.extensions)

    def extension(self, urn: str) -> Schema | None:
        """The extension schema whose URN is ``urn`` (any case)."""
        wanted = urn.lower()
        return next((s for s in self.extensions if s.id.lower() == wanted), None)

    def locate(self, dotted: str) -> tuple[Schema | None, Attribute] | None:
        """Where ``dotted`` is defined: (None, attribute) for a common or core attribute,
        (extension, attribute) for an extension's. ``dotted`` may carry a schema URN
        ("urn:...:enterprise:2.0:user:manager.value"); without one, an extension's attribute is
        found when the core has no attribute of that name."""
        text = dotted.lower()
        if text.startswith("urn:"):
            urn, _, name = text.rpartition(":")
            if urn == self.core.id.lower():
                core = self._core(name)
                return (None, core) if core is not None else None
            ext = self.extension(urn)
            found = ext.find(name) if ext is not None else None
            return (ext, found) if found is not None else None
        core = self._core(text)
        if core is not None:
            return None, core
        for ext in self.extensions:
            found = ext.find(text)
            if found is not None:
                return ext, found
        return None

    def _core(self, dotted: str) -> Attribute | None:
        head, _, rest = dotted.partition(".")
        common = next((a for a in self.common if a.name.lower() == head), None)
        if common is None:
            return self.core.find(dotted)
        return common.sub(rest) if rest else common

    def find(self, dotted: str) -> Attribute | None:
        """The attribute named ``dotted``, with or without its schema's URN, in any case."""
        found = self.locate(dotted)
        return found[1] if found is not None else None

    def to_scim(self, location: str) -> dict[str, Any]:
        """The `/ResourceTypes/{name}` resource (RFC 7643 §6)."""
        return {
            "schemas": [RESOURCE_TYPE_URN],
            "id": self.name,
            "name": self.name,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.core.id,
            "schemaExtensions": [{"schema": s.id, "required": False} for s in self.extensions],
            "meta": {"resourceType": "ResourceType", "location": location},
        }


def _string(name: str, description: str, **kwargs: Any) -> Attribute:
    return Attribute(name, "string", description=description, **kwargs)


def _primary(what: str) -> Attribute:
    return Attribute(
        "primary", "boolean", description=f"Whether this is the preferred {what}; at most one is true."
    )


def _multi(name: str, description: str, subs: tuple[Attribute, ...], **kwargs: Any) -> Attribute:
    return Attribute(
        name, "complex", multi_valued=True, sub_attributes=subs, description=description, **kwargs
    )


COMMON_ATTRIBUTES: tuple[Attribute, ...] = (
    _string(
        "id",
        "The resource's identifier, issued by the service provider.",
        case_exact=True,
        mutability="readOnly",
        returned="always",
        uniqueness="server",
    ),
    _string("externalId", "The resource's identifier in the provisioning client.", case_exact=True),
    Attribute(
        "meta",
        "complex",
        mutability="readOnly",
        description="The resource's metadata.",
        sub_attributes=(
            _string("resourceType", "The resource's type.", case_exact=True, mutability="readOnly"),
            Attribute("created", "dateTime", mutability="readOnly", description="When it was created."),
            Attribute("lastModified", "dateTime", mutability="readOnly", description="When it last changed."),
            Attribute(
                "location",
                "reference",
                case_exact=True,
                mutability="readOnly",
                reference_types=("uri",),
                description="The resource's URI.",
            ),
            _string("version", "The resource's weak entity tag.", case_exact=True, mutability="readOnly"),
        ),
    ),
)

USER = Schema(
    id=USER_SCHEMA_URN,
    name="User",
    description="User Account",
    attributes=(
        _string(
            "userName",
            "The unique identifier the user signs in with; unique in the account, in any case.",
            required=True,
            uniqueness="server",
        ),
        Attribute(
            "name",
            "complex",
            description="The components of the user's name.",
            sub_attributes=(
                _string("formatted", "The full name, formatted for display."),
                _string("familyName", "The family name (last name)."),
                _string("givenName", "The given name (first name)."),
            ),
        ),
        _string("displayName", "The name to display for the user."),
        _string("title", 'The user\'s title, such as "Vice President".'),
        _string("preferredLanguage", "The user's preferred language (RFC 7231 Accept-Language)."),
        _string("locale", "The user's locale, such as en-US."),
        _string("timezone", "The user's time zone, in the IANA database's format."),
        Attribute("active", "boolean", description="Whether the user may sign in."),
        _string(
            "password",
            "The user's clear-text password; it is stored hashed and never returned.",
            mutability="writeOnly",
            returned="never",
        ),
        _multi(
            "emails",
            "The user's email addresses.",
            (
                _string("value", "The email address."),
                _string("type", "The address's kind.", canonical_values=("work", "home", "other")),
                _primary("email address"),
            ),
        ),
        _multi(
            "phoneNumbers",
            "The user's phone numbers.",
            (
                _string("value", "The phone number."),
                _string(
                    "type",
                    "The number's kind.",
                    canonical_values=("work", "home", "mobile", "fax", "pager", "other"),
                ),
                _primary("phone number"),
            ),
        ),
        _multi(
            "addresses",
            "The user's physical addresses.",
            (
                _string("formatted", "The full address, formatted for display."),
                _string("type", "The address's kind.", canonical_values=("work", "home", "other")),
                _primary("address"),
            ),
        ),
        _multi(
            "groups",
            "The groups the user is a direct member of.",
            (
                _string("value", "The group's id.", mutability="readOnly"),
                Attribute(
                    "$ref",
                    "reference",
                    mutability="readOnly",
                    reference_types=("Group",),
                    description="The group's URI.",
                ),
                _string("display", "The group's display name.", mutability="readOnly"),
            ),
            mutability="readOnly",
        ),
    ),
)

ENTERPRISE_USER = Schema(
    id=ENTERPRISE_URN,
    name="EnterpriseUser",
    description="Enterprise User",
    attributes=(
        _string("employeeNumber", "The user's number in the organisation."),
        _string("costCenter", "The user's cost center."),
        _string("organization", "The user's organisation."),
        _string("division", "The user's division."),
        _string("department", "The user's department."),
        Attribute(
            "manager",
            "complex",
            description="The user's manager.",
            sub_attributes=(
                _string("value", "The manager's id."),
                Attribute(
                    "$ref",
                    "reference",
                    reference_types=("User",),
                    description="The manager's URI.",
                ),
                _string("displayName", "The manager's display name.", mutability="readOnly"),
            ),
        ),
    ),
)

GROUP = Schema(
    id=GROUP_SCHEMA_URN,
    name="Group",
    description="Group",
    attributes=(
        _string("displayName", "The group's name.", required=True),
        _multi(
            "members",
            "The group's direct members.",
            (
                _string("value", "The member's id.", mutability="immutable"),
                Attribute(
                    "$ref",
                    "reference",
                    mutability="immutable",
                    reference_types=("User", "Group"),
                    description="The member's URI.",
                ),
                _string("display", "The member's display name.", mutability="readOnly"),
                _string(
                    "type", "The member's kind.", mutability="immutable", canonical_values=("User", "Group")
                ),
            ),
        ),
    ),
)

USER_RESOURCE = ResourceSchema(
    name="User",
    endpoint="/Users",
    description="User Account",
    core=USER,
    extensions=(ENTERPRISE_USER,),
    common=COMMON_ATTRIBUTES,
)

GROUP_RESOURCE = ResourceSchema(
    name="Group",
    endpoint="/Groups",
    description="Group",
    core=GROUP,
    common=COMMON_ATTRIBUTES,
)

ALL_SCHEMAS: tuple[Schema, ...] = (USER, ENTERPRISE_USER, GROUP)
"""Every schema `/Schemas` serves, in its order."""
