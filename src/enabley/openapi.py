"""The OpenAPI document: FastAPI's, plus the bearer scheme on every route that needs a tenant."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from enabley.deps import BEARER_SCHEME, get_tenant

SCHEME_NAME = "bearerAuth"


def dependency_calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for sub in dependant.dependencies:
        if sub.call is not None:
            yield sub.call
        yield from dependency_calls(sub)


def needs_tenant(route: APIRoute) -> bool:
    return get_tenant in set(dependency_calls(route.dependant))


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
            schema.setdefault("components", {}).setdefault("securitySchemes", {})[SCHEME_NAME] = BEARER_SCHEME
            paths = schema.get("paths", {})
            _drop_validation_errors(schema)
            for path, methods, route in api_routes(app):
                if route.include_in_schema and needs_tenant(route):
                    for method in methods:
                        operation = paths.get(path, {}).get(method.lower())
                        if operation is not None:
                            operation["security"] = [{SCHEME_NAME: []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
