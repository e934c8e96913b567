"""Including routers so that a request skips, by its path's first characters, those it can't be for.

FastAPI tries an application's routes in order, each through its router's context: a few
microseconds a route, some 40 µs for a router of 20 routes that the request's path can't match,
paid by every request that is answered by a router further down (bench/README.md, SCIM: a
creation through the last router, SCIM, matched 87 routes before its own, a tenth of its time).
Every route of a router starts with the same literal text (``/scim/v2/``, ``/api/v1/groups``):
a path that does not start with it can't match any of them, nor partly (a 405), so the router
answers "no match" from that text alone. What matches, in which order, is unchanged.
"""

from __future__ import annotations

import os

from fastapi import APIRouter, FastAPI
from fastapi.routing import _IncludedRouter
from starlette.routing import Match
from starlette.types import Scope


class _Guarded(_IncludedRouter):
    """An included router that first checks the literal prefix every one of its routes has."""

    prefix = ""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # Paid by every request for every router before its own: the path is taken as it is
        # unless the application is served under a root path.
        path: str = scope["path"] if not scope.get("root_path") else _route_path(scope)
        if not path.startswith(self.prefix):
            return Match.NONE, {}
        return super().matches(scope)


def _route_path(scope: Scope) -> str:
    """The path the routes match against: without the application's ``root_path`` (as Starlette)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        return path[len(root) :]
    return path


def literal_prefix(router: APIRouter) -> str:
    """The text every route path of ``router`` starts with, up to its first parameter ('' when
    none, or when a route has no plain path)."""
    paths = [path for route in router.routes if isinstance(path := getattr(route, "path", None), str)]
    if not paths or len(paths) != len(router.routes):
        return ""
    # Character by character on purpose: the literal text the routes' patterns start with.
    return os.path.commonprefix(paths).split("{", 1)[0]  # noqa: RUF071


def include(app: FastAPI, router: APIRouter) -> None:
    """``app.include_router(router)``, guarded by the literal prefix of its routes when they share one."""
    app.include_router(router)
    prefix = literal_prefix(router)
    included = app.router.routes[-1]
    if not prefix or not isinstance(included, _IncludedRouter) or included.original_router is not router:
        return
    guarded = _Guarded(original_router=router, include_context=included.include_context)
    guarded.prefix = prefix
    app.router.routes[-1] = guarded
