"""Request ids, one JSON log line per request with nothing secret in it, metrics and probes."""

from __future__ import annotations

import io
import json
import logging

import pytest

from enabley import observability
from enabley.observability import JsonFormatter
from tests import factories


@pytest.fixture
def log_lines(caplog, monkeypatch):
    """Every log line the server wrote: access lines (written straight to a stream) and other records."""
    caplog.set_level(logging.INFO, logger="enabley")
    formatter = JsonFormatter()
    stream = io.StringIO()
    monkeypatch.setattr(observability, "access_stream", stream)

    def lines() -> list[dict]:
        access = [json.loads(line) for line in stream.getvalue().splitlines()]
        return access + [json.loads(formatter.format(r)) for r in caplog.records]

    return lines


def test_request_id_is_echoed_or_generated(client, headers):
    r = client.get("/api/v2/users", headers={**headers, "X-Request-ID": "abc-123"})
    assert r.headers["x-request-id"] == "abc-123"
    generated = client.get("/api/v2/users", headers=headers).headers["x-request-id"]
    assert len(generated) == 32
    hostile = client.get("/api/v2/users", headers={**headers, "X-Request-ID": "a b\tc" + "x" * 300})
    assert hostile.headers["x-request-id"] != "a b\tc" + "x" * 300


def test_one_json_line_per_request_with_the_route_template(client, headers, log_lines, account):
    client.put("/api/v2/users", json={"identifier": "ana@example.com"}, headers=headers)
    client.get("/api/v2/users/ana@example.com", headers={**headers, "X-Request-ID": "req-1"})
    access = [line for line in log_lines() if line["logger"] == "enabley.access"]
    assert len(access) == 2
    last = access[-1]
    assert last["route"] == "/api/v2/users/{identifier}"
    assert (last["method"], last["status"], last["request_id"], last["account"]) == (
        "GET",
        200,
        "req-1",
        account.id,
    )
    assert last["client"] and last["duration_ms"] >= 0
    assert "ana@example.com" not in json.dumps(access), "concrete paths hold identifiers: never logged"


def test_no_secret_token_or_password_reaches_the_logs(client, db, account, log_lines):
    key, secret = factories.make_client(db, account)
    token = client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).json()["access_token"]
    client.post("/api/v1/token", params={"clientKey": key, "secret": secret + "wrong"})
    client.post("/api/v1/token", json={"clientKey": key, "secret": secret})
    auth = {"Authorization": f"Bearer {token}"}
    client.put("/api/v2/users", json={"identifier": "u1", "password": "hunter2-Secret!"}, headers=auth)
    client.put(
        "/api/v2/users",
        json={"identifier": "u1", "email": "bad", "password": "hunter2-Secret!"},
        headers=auth,
    )
    client.get("/api/v2/users", headers={"Authorization": f"Bearer {token}x"})
    text = json.dumps(log_lines())
    for secret_text in (secret, token, token.split(".")[2], "hunter2-Secret!", "Bearer"):
        assert secret_text not in text


def test_probes(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_metrics_count_requests_by_route_template(client, headers):
    client.get("/api/v2/users/nobody", headers=headers)
    body = client.get("/metrics").text
    assert 'enabley_requests_total{method="GET",route="/api/v2/users/{identifier}",status="404"}' in body
    assert "enabley_request_duration_seconds_bucket" in body
    assert "enabley_db_pool_in_use" in body
