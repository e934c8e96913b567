"""The OpenAPI document: FastAPI's, plus the bearer scheme on every route that needs a tenant, the
Idempotency-Key header on each of their writes, and the answers the request limits can give on
any route."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from enabley.deps import BEARER_SCHEME, get_tenant
from enabley.errors import is_scim
from enabley.scim import openapi as scim_openapi
from enabley.scim.auth import SCIM_BEARER_SCHEME, get_scim_tenant

SCHEME_NAME = "bearerAuth"
SCIM_SCHEME_NAME = "scimBearerAuth"

_BODY_MODELS: dict[str, type[BaseModel]] = {}


def json_body(model: type[BaseModel], description: str) -> dict[str, Any]:
    """``openapi_extra`` of a route that reads its JSON body itself (rather than have FastAPI
    validate it as a parameter): the body refers to ``model``, which the document then carries."""
    _BODY_MODELS[model.__name__] = model
    schema = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


def _add_body_models(schema: dict[str, Any]) -> None:
    if not _BODY_MODELS:
        return
    _, definitions = models_json_schema(
        [(model, "validation") for model in _BODY_MODELS.values()],
        ref_template="#/components/schemas/{model}",
    )
    schema.setdefault("components", {}).setdefault("schemas", {}).update(definitions.get("$defs", {}))


AUTHORIZATION_PATH = "/api/v1/token"
_ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
}


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from dependency_calls(sub)


def needs_tenant(route: APIRoute) -> bool:
    """Whether the route answers only a tenant: an access token's, or a SCIM token's."""
    calls = set(dependency_calls(route.dependant))
    return get_tenant in calls or get_scim_tenant in calls


def _scheme(route: APIRoute) -> str:
    return SCIM_SCHEME_NAME if get_scim_tenant in set(dependency_calls(route.dependant)) else SCHEME_NAME


def api_routes(app: FastAPI) -> Iterator[tuple[str, set[str], APIRoute]]:
    """Every API route with its full path, included routers flattened."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path_format is not None:
            yield context.path_format, set(context.methods or route.methods or ()), route


def _drop_validation_errors(schema: dict[str, Any]) -> None:
    """FastAPI documents a 422 on every operation; this server answers every such failure with a
    400 ErrorResponse instead (errors.py), so the 422 and its schemas would only mislead."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)


def _error(description: str, headers: dict[str, Any] | None = None, *, scim: bool = False) -> dict[str, Any]:
    if scim:
        return scim_openapi.scim_error(description, headers)
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": dict(_ERROR_SCHEMA)}},
    }
    if headers:
        response["headers"] = headers
    return response


def _document_limits(path: str, operation: dict[str, Any], *, tenant: bool) -> None:
    """Answers that come from the request limits (limits.py, admission.py) rather than the route:
    they can reach any operation, so each one documents them."""
    responses = operation.setdefault("responses", {})
    scim = is_scim(path)
    responses.setdefault("400", _error("Invalid input", scim=scim))
    responses.setdefault("431", _error("Request headers too large", scim=scim))
    if "requestBody" in operation:
        responses.setdefault("413", _error("Request body too large", scim=scim))
    if tenant:
        responses.setdefault(
            "429",
            _error(
                "Rate limit exceeded: the API client's, or the address's for requests without a valid token",
                _RETRY_AFTER,
                scim=scim,
            ),
        )
    else:
        responses.setdefault("429", _error("Too many requests from this address", _RETRY_AFTER))
    if path == AUTHORIZATION_PATH:
        responses["401"] = _error("Invalid clientKey or secret, or a revoked client")
        responses["429"] = _error(
            "Too many failed token requests for this clientKey or address, too many token "
            "requests of this client, or too many requests without a valid token from this address",
            _RETRY_AFTER,
        )


IDEMPOTENCY_PARAMETER = "IdempotencyKey"
_WRITES = {"post", "put", "patch", "delete"}
_IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes the call safe to retry (draft-ietf-httpapi-idempotency-key-header): a retry with "
        "the same key and the same request (method, path, query and body) gets the first answer "
        "again, marked `Idempotency-Replayed: true`, without running again. Keys belong to the "
        "API client and are kept 24 hours. Any unique string of up to 255 visible ASCII "
        "characters (a UUID): a quoted string, or bare without quotes, backslashes, commas or "
        "semicolons."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[\\x21\\x23-\\x2B\\x2D-\\x3A\\x3C-\\x5B\\x5D-\\x7E]+$",
    },
}


def _document_idempotency(operation: dict[str, Any]) -> None:
    """The Idempotency-Key header of every write that a tenant sends (idempotency/middleware.py)."""
    parameters = operation.setdefault("parameters", [])
    parameters.append({"$ref": f"#/components/parameters/{IDEMPOTENCY_PARAMETER}"})
    responses = operation.setdefault("responses", {})
    responses.setdefault(
        "409", _error("A request with the same Idempotency-Key is still running", _RETRY_AFTER)
    )
    responses["422"] = _error("The Idempotency-Key was sent with a different request in the last 24 hours")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            components = schema.setdefault("components", {})
            schemes = components.setdefault("securitySchemes", {})
            schemes[SCHEME_NAME] = BEARER_SCHEME
            schemes[SCIM_SCHEME_NAME] = SCIM_BEARER_SCHEME
            components.setdefault("parameters", {})[IDEMPOTENCY_PARAMETER] = _IDEMPOTENCY_KEY
            paths = schema.get("paths", {})
            _add_body_models(schema)
            scim_openapi.add_components(schema)
            _drop_validation_errors(schema)
            for path, methods, route in api_routes(app):
                if not route.include_in_schema:
                    continue
                tenant = needs_tenant(route)
                for method in methods:
                    operation = paths.get(path, {}).get(method.lower())
                    if operation is None:
                        continue
                    if tenant:
                        operation["security"] = [{_scheme(route): []}]
                    if is_scim(path):
                        scim_openapi.document(path, method.lower(), operation)
                    elif tenant and method.lower() in _WRITES:
                        # Keys are honoured under /api only (idempotency/middleware.py).
                        _document_idempotency(operation)
                    _document_limits(path, operation, tenant=tenant)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
