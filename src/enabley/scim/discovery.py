"""The discovery resources (RFC 7644 4): what this service provider supports and serves."""

from __future__ import annotations

from typing import Any

from enabley.errors import NotFound
from enabley.scim.listing import MAX_COUNT
from enabley.scim.schema import (
    ENTERPRISE_URN,
    ENTERPRISE_USER,
    GROUP,
    GROUP_SCHEMA_URN,
    USER,
    USER_SCHEMA_URN,
)
from enabley.scim.wire import list_response

_CONFIG_URN = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
_RESOURCE_TYPE_URN = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
_SCHEMAS = (USER, ENTERPRISE_USER, GROUP)


def service_provider_config(base_url: str) -> dict[str, Any]:
    return {
        "schemas": [_CONFIG_URN],
        "documentationUri": f"{base_url}/docs",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": MAX_COUNT},
        "changePassword": {"supported": False},
        "sort": {"supported": True},
        "etag": {"supported": True},
        "authenticationSchemes": [
            {
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "A SCIM token from `enabley scim tokens create`, sent as "
                "`Authorization: Bearer <token>`",
                "primary": True,
            }
        ],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": f"{base_url}/scim/v2/ServiceProviderConfig",
        },
    }


def _resource_type(name: str, endpoint: str, schema: str, base_url: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "schemas": [_RESOURCE_TYPE_URN],
        "id": name,
        "name": name,
        "endpoint": endpoint,
        "description": f"{name} account",
        "schema": schema,
    }
    if name == "User":
        found["schemaExtensions"] = [{"schema": ENTERPRISE_URN, "required": False}]
    found["meta"] = {"resourceType": "ResourceType", "location": f"{base_url}/scim/v2/ResourceTypes/{name}"}
    return found


def resource_types(base_url: str) -> list[dict[str, Any]]:
    return [
        _resource_type("User", "/Users", USER_SCHEMA_URN, base_url),
        _resource_type("Group", "/Groups", GROUP_SCHEMA_URN, base_url),
    ]


def resource_type_list(base_url: str) -> dict[str, Any]:
    found = resource_types(base_url)
    return list_response(found, len(found), 1)


def resource_type(name: str, base_url: str) -> dict[str, Any]:
    for found in resource_types(base_url):
        if found["id"] == name:
            return found
    raise NotFound(f"No resource type {name!r}")


def _schema(schema: Any, base_url: str) -> dict[str, Any]:
    found: dict[str, Any] = schema.to_scim(f"{base_url}/scim/v2/Schemas/{schema.id}")
    for attribute in found["attributes"]:
        if schema is USER and attribute["name"] == "active":
            # Every enabley user is active or not: "active" can't be unassigned, so a client must
            # not expect a removal to leave it out (a creation without it makes an active user).
            attribute["required"] = True
    return found


def schema_list(base_url: str) -> dict[str, Any]:
    found = [_schema(schema, base_url) for schema in _SCHEMAS]
    return list_response(found, len(found), 1)


def schema(schema_id: str, base_url: str) -> dict[str, Any]:
    for candidate in _SCHEMAS:
        if candidate.id == schema_id:
            return _schema(candidate, base_url)
    raise NotFound(f"No schema {schema_id!r}")
