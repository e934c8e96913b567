"""Routers included behind the literal prefix of their routes (enabley.routing): what matches is
unchanged, and a request passes over a router it can't be for without trying its routes."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import Match

from enabley.routing import include, literal_prefix


def _router(*paths: str) -> APIRouter:
    router = APIRouter()
    for path in paths:
        router.add_api_route(path, lambda: None, methods=["GET"])
    return router


def test_the_prefix_is_the_literal_text_before_any_parameter():
    assert literal_prefix(_router("/scim/v2/Users", "/scim/v2/Users/{id}", "/scim/v2/Groups")) == "/scim/v2/"
    assert literal_prefix(_router("/api/v1/items/{id}")) == "/api/v1/items/"
    assert literal_prefix(_router("/{anything}", "/x")) == "/"
    assert literal_prefix(APIRouter()) == ""


def _scope(method: str, path: str, root_path: str = "") -> dict[str, object]:
    return {"type": "http", "method": method, "path": path, "root_path": root_path, "headers": []}


def test_a_guarded_router_matches_as_before_and_skips_other_paths():
    app = FastAPI()
    include(app, _router("/scim/v2/Users", "/scim/v2/Users/{id}"))
    guarded = app.router.routes[-1]
    assert guarded.matches(_scope("GET", "/scim/v2/Users/42"))[0] == Match.FULL
    assert guarded.matches(_scope("POST", "/scim/v2/Users"))[0] == Match.PARTIAL, "a 405 still"
    assert guarded.matches(_scope("GET", "/api/v2/users"))[0] == Match.NONE
    assert guarded.matches(_scope("GET", "/base/scim/v2/Users", root_path="/base"))[0] == Match.FULL


def test_the_application_answers_through_guarded_routers(client, headers):
    assert client.get("/api/v1/groups/list", headers=headers).status_code == 200
    assert client.get("/api/v2/users", headers=headers).status_code == 200
    assert client.get("/api/v1/token").status_code == 405
    assert client.delete("/scim/v2/ServiceProviderConfig").status_code == 405
    assert client.get("/api/v1/nothing", headers=headers).status_code == 404
    assert client.get("/scim/v2/Nothing").status_code == 404
