"""The OpenAPI document describes every operation of the API reference, and the docs work offline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SPEC = Path(__file__).parent / "spec" / "enabley-api.txt"
OPERATION = re.compile(r"^(GET|POST|PUT|DELETE) (/api/\S+)$", re.MULTILINE)


def spec_operations() -> list[tuple[str, str]]:
    return OPERATION.findall(SPEC.read_text())


@pytest.fixture(scope="module")
def document(http):
    response = http.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def test_the_reference_lists_its_operations():
    assert len(spec_operations()) >= 40


def test_every_operation_of_the_reference_is_documented(document):
    missing = [
        f"{method} {path}"
        for method, path in spec_operations()
        if method.lower() not in document["paths"].get(path, {})
    ]
    assert missing == []


def test_openapi_version_and_error_responses(document):
    assert document["openapi"].startswith("3.1")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            responses = operation["responses"]
            assert "400" in responses or method == "get", f"{method} {path} documents no 400"
            for status, response in responses.items():
                if status.startswith(("4", "5")) and path.startswith("/scim/v2/"):
                    schema = response["content"]["application/scim+json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/ScimError"}, (method, path, status)
                elif status.startswith(("4", "5")):
                    schema = response["content"]["application/json"]["schema"]
                    assert _is_error_response(document, schema), (method, path, status)


def _is_error_response(document, schema) -> bool:
    """ErrorResponse itself, or an extension of it (the upload's per-row report)."""
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    properties = document["components"]["schemas"].get(name, {}).get("properties", {})
    return name == "ErrorResponse" or {"error", "error_description"} <= properties.keys()


def test_routes_that_need_a_token_say_so(document):
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    token = document["paths"]["/api/v1/token"]["post"]
    assert "security" not in token
    assert {p["name"] for p in token["parameters"]} == {"clientKey", "secret"}
    assert document["paths"]["/api/v2/users"]["get"]["security"] == [{"bearerAuth": []}]


def test_scim_endpoints_have_their_own_tag_and_token(document):
    scim = {
        (method, path): operation
        for path, operations in document["paths"].items()
        if path.startswith("/scim/v2/")
        for method, operation in operations.items()
    }
    assert ("get", "/scim/v2/Users") in scim and ("patch", "/scim/v2/Groups/{id}") in scim
    assert all(operation["tags"] == ["SCIM"] for operation in scim.values())
    assert all(operation["security"] == [{"scimBearerAuth": []}] for operation in scim.values())
    assert document["components"]["securitySchemes"]["scimBearerAuth"]["scheme"] == "bearer"
    assert "SCIM" in {tag["name"] for tag in document["tags"]}


def test_docs_are_served_without_any_outside_asset(http):
    page = http.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/docs/assets/") for a in assets), assets
    assert "https://" not in page.text and "http://" not in page.text
    for asset in assets:
        assert http.get(asset).status_code == 200, asset
    redoc = http.get("/redoc")
    assert redoc.status_code == 200 and "https://" not in redoc.text


def test_the_root_points_to_the_docs(client):
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (302, 303, 307, 308)
    assert response.headers["location"] == "/docs"
    assert client.get("/").status_code == 200
