"""Guard rails: every API route needs a tenant unless it is public on purpose."""

from __future__ import annotations

from fastapi.routing import iter_route_contexts

from enabley.console.auth import get_console
from enabley.openapi import api_routes, needs_tenant

# Public on purpose: getting a token, and opening a certificate PDF from a signed, expiring link.
PUBLIC = {
    ("POST", "/api/v1/token"),
    ("GET", "/api/v1/certificates/pdf/{token}"),
}


def test_every_api_route_requires_a_tenant(app):
    routes = list(api_routes(app))
    assert len(routes) > 10, "the walk must see the routes of included routers"
    open_routes = sorted(
        f"{method} {path}"
        for path, methods, route in routes
        if path.startswith("/api/")
        for method in methods
        if (method, path) not in PUBLIC and not needs_tenant(route)
    )
    assert open_routes == []


def test_public_routes_are_really_open(app, client):
    paths = {(m, p) for p, methods, _ in api_routes(app) for m in methods}
    assert ("POST", "/api/v1/token") in paths
    assert client.post("/api/v1/token").status_code == 400, "reachable without a token"


def test_every_scim_route_requires_a_scim_tenant(app):
    routes = [(path, route) for path, _, route in api_routes(app) if path.startswith("/scim/v2/")]
    assert len(routes) > 10, "the SCIM routes are included"
    assert [path for path, route in routes if not needs_tenant(route)] == []


def test_non_api_routes_are_only_docs_probes_scim_and_the_console(app):
    allowed = {"/", "/openapi.json", "/docs", "/redoc", "/docs/assets", "/healthz", "/readyz", "/metrics"}
    paths = {context.path for context in iter_route_contexts(app.routes)}
    others = {p for p in paths if p and not p.startswith(("/api/", "/scim/v2/"))}
    assert {p for p in others if p != "/console" and not p.startswith("/console/")} <= allowed


CONSOLE_OPEN = {("GET", "/console/login"), ("POST", "/console/login")}
"""The console's only pages without a session: the sign-in form and its post (its static files are
a mount, not a route)."""


def test_every_console_route_but_the_login_requires_a_session(app):
    routes = [
        (path, methods, route) for path, methods, route in api_routes(app) if path.startswith("/console")
    ]
    assert len(routes) > 5, "the walk must see the console's routes"
    open_routes = sorted(
        f"{method} {path}"
        for path, methods, route in routes
        for method in methods
        if (method, path) not in CONSOLE_OPEN and get_console not in set(_calls(route.dependant))
    )
    assert open_routes == []
    assert all(not route.include_in_schema for _, _, route in routes), "the console is not the API"


def _calls(dependant):
    for sub in dependant.dependencies:
        yield sub.call
        yield from _calls(sub)
