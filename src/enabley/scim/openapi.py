"""How the OpenAPI document describes /scim/v2: SCIM bodies in, SCIM resources and Errors out."""

from __future__ import annotations

from typing import Any

from enabley.errors import SCIM_MEDIA_TYPE

ERROR_SCHEMA_NAME = "ScimError"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "description": "A SCIM Error (RFC 7644 3.12)",
    "required": ["schemas", "status"],
    "properties": {
        "schemas": {"type": "array", "items": {"type": "string"}},
        "status": {"type": "string", "description": "The HTTP status, as a string"},
        "scimType": {"type": "string", "description": "invalidFilter, invalidValue, uniqueness, ..."},
        "detail": {"type": "string"},
    },
}
_RESOURCE = {"type": "object", "description": "A SCIM resource or message (RFC 7643, RFC 7644)"}
_BODY_ERRORS = {
    "400": "Invalid request (scimType invalidSyntax, invalidValue, invalidFilter, mutability, ...)",
    "413": "Request body too large",
    "415": "The body is not sent as application/scim+json or application/json",
}


def _content(schema: dict[str, Any]) -> dict[str, Any]:
    return {SCIM_MEDIA_TYPE: {"schema": schema}}


def scim_error(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": _content({"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}),
    }
    if headers:
        response["headers"] = headers
    return response


def document(path: str, method: str, operation: dict[str, Any]) -> None:
    """Describes one SCIM operation: what it reads and answers, and the SCIM Errors it can give."""
    responses = operation.setdefault("responses", {})
    for status, response in responses.items():
        if status.startswith("2") and status != "204":
            response["content"] = _content(_RESOURCE)
    if method in {"post", "put", "patch"}:
        operation["requestBody"] = {
            "required": True,
            "content": {SCIM_MEDIA_TYPE: {"schema": _RESOURCE}, "application/json": {"schema": _RESOURCE}},
        }
        for status, description in _BODY_ERRORS.items():
            responses[status] = scim_error(description)
    responses["400"] = scim_error(_BODY_ERRORS["400"])
    responses["401"] = scim_error("Missing, invalid or revoked SCIM token")
    if "{id}" in path:
        responses["404"] = scim_error("No such resource, or one outside the token's account or sub-account")
    if "{id}" in path and method in {"put", "patch", "delete"}:
        responses["412"] = scim_error("If-Match names another version than the resource's")
    if method == "post" and not path.endswith(".search"):
        responses["409"] = scim_error("userName already taken (scimType uniqueness)")


def add_components(schema: dict[str, Any]) -> None:
    schema.setdefault("components", {}).setdefault("schemas", {})[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
