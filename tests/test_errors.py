"""Every non-2xx answer is the spec's ErrorResponse; FastAPI's 422 never reaches a client."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from enabley.db.database import Database
from enabley.db.engine import make_engine
from enabley.main import create_app
from tests.conftest import settings_for

ERROR_CODES = {
    "invalid_request",
    "invalid_client",
    "not_found",
    "access_denied",
    "general_error",
    "item_exists",
    "item_not_exists",
    "service_unavailable",
}


def assert_error(response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error and body["error"] in ERROR_CODES
    assert isinstance(body["error_description"], str) and body["error_description"]
    return body


def test_unknown_route_is_404_error_response(client, headers):
    assert_error(client.get("/api/v9/nothing", headers=headers), 404, "not_found")
    assert_error(client.get("/nothing"), 404, "not_found")


def test_wrong_method_is_405_error_response(client, headers):
    response = client.patch("/api/v2/users", headers=headers)
    assert_error(response, 405, "invalid_request")
    assert response.headers["allow"]


def test_validation_failures_are_400_never_422(client, headers):
    for response in (
        client.get("/api/v2/users", params={"limit": "many"}, headers=headers),
        client.put("/api/v2/users", json=[1, 2], headers=headers),
        client.put("/api/v2/users", json={"identifier": None}, headers=headers),
        client.put("/api/v2/users/u1", params={"isActive": "x"}, headers=headers),
    ):
        assert_error(response, 400, "invalid_request")


def test_non_json_body_is_400(client, headers):
    response = client.put(
        "/api/v2/users", content=b"identifier=u1", headers={**headers, "Content-Type": "text/plain"}
    )
    assert_error(response, 400, "invalid_request")


def test_oversized_body_is_413(client, headers, context):
    limit = context.settings.max_body_bytes
    body = b'{"identifier": "u1", "address": "' + b"x" * limit + b'"}'
    response = client.put(
        "/api/v2/users", content=body, headers={**headers, "Content-Type": "application/json"}
    )
    assert_error(response, 413, "invalid_request")


def test_unexpected_failure_is_500_without_details(database_url, engine, db):
    database = Database(engine)
    database.bind = db.connection()
    app = create_app(settings_for(database_url), database=database)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    body = assert_error(response, 500, "general_error")
    assert "secret internal detail" not in response.text and "Traceback" not in response.text
    assert body["error_description"] == "General error"


@pytest.fixture
def unreachable_url(backend, tmp_path):
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/missing-dir/enabley.db"
    return "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


def test_unreachable_database_is_503(database_url, unreachable_url, client, headers, db):
    app = create_app(settings_for(database_url), database=Database(make_engine(unreachable_url, timeout=1)))
    # No lifespan: the database is down from the start, as it may go down at any time; the
    # signing keys were read when it still answered.
    app.state.context.keyring.load(db)
    down = TestClient(app)
    assert_error(down.get("/api/v2/users/u1", headers=headers), 503, "service_unavailable")
    assert_error(down.get("/api/v2/users", headers=headers), 503, "service_unavailable")
    assert_error(
        down.post("/api/v1/token", params={"clientKey": "k", "secret": "s"}), 503, "service_unavailable"
    )


def test_oversized_streamed_body_is_413(client, headers, context):
    limit = context.settings.max_body_bytes

    def chunks():
        yield b'{"identifier": "u1", "address": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = client.put(
        "/api/v2/users", content=chunks(), headers={**headers, "Content-Type": "application/json"}
    )
    body = assert_error(response, 413, "invalid_request")
    assert str(limit) in body["error_description"]


def test_nul_characters_are_refused_everywhere(client, headers):
    for response in (
        client.put("/api/v2/users", json={"identifier": "a\x00b"}, headers=headers),
        client.put("/api/v2/users", json={"identifier": "u1", "firstName": "x\u0000"}, headers=headers),
        client.get("/api/v2/users/a%00b", headers=headers),
        client.get("/api/v2/users", params={"emailSubstring": "a\x00"}, headers=headers),
    ):
        body = assert_error(response, 400, "invalid_request")
        assert "NUL" in body["error_description"]


def test_overlong_query_and_headers_are_refused(client, headers):
    assert_error(
        client.get("/api/v2/users", params={"emailSubstring": "x" * 9000}, headers=headers),
        400,
        "invalid_request",
    )
    big = {**headers, "X-Padding": "y" * 17000}
    assert_error(client.get("/api/v2/users", headers=big), 431, "invalid_request")


def test_every_refusal_renders_its_body_the_same_way(client, headers, context):
    """The request limits answer before any route: their bodies are the same JSON, byte for byte in
    form, as the routes' errors."""
    too_long = b'{"identifier": "u1", "address": "' + b"x" * context.settings.max_body_bytes + b'"}'
    answers = {
        "route's 404": client.get("/api/v2/users/nobody-here", headers=headers),
        "413": client.put(
            "/api/v2/users", content=too_long, headers={**headers, "Content-Type": "application/json"}
        ),
        "400 NUL": client.get("/api/v2/users", params={"x": "\x00"}, headers=headers),
        "431": client.get("/api/v2/users", headers={**headers, "X-Padding": "p" * 17_000}),
    }
    for name, response in answers.items():
        body = response.json()
        compact = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        assert response.content == compact, (name, response.content)
        assert response.headers["content-type"] == "application/json", name


USER = '{"identifier": "ct-1", "email": "ct@example.com"}'


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_json_body_without_the_json_content_type_says_so(client, headers, content_type):
    sent = {**headers, **({"Content-Type": content_type} if content_type else {})}
    response = client.put("/api/v2/users", content=USER, headers=sent)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "invalid_request"
    assert "Content-Type" in body["error_description"]
    assert "application/json" in body["error_description"]
    if content_type:
        assert content_type in body["error_description"]
    assert client.get("/api/v2/users/ct-1", headers=headers).status_code == 404


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8"])
def test_a_json_body_with_the_json_content_type_is_taken(client, headers, content_type):
    response = client.put("/api/v2/users", content=USER, headers={**headers, "Content-Type": content_type})
    assert response.status_code == 201, response.text
