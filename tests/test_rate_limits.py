"""Per-client rate limits (OWASP API4) and throttled token guessing."""

from __future__ import annotations

import uuid

import pytest
import redis

from tests import factories

REDIS_URL = "redis://127.0.0.1:6379/0"


def token_headers(client, db, account) -> dict[str, str]:
    key, secret = factories.make_client(db, account)
    token = client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def test_every_response_carries_rate_limit_headers(client, headers):
    r = client.get("/api/v2/users", headers=headers)
    assert r.headers["x-ratelimit-limit"] == "200"
    assert int(r.headers["x-ratelimit-remaining"]) < 200
    assert int(r.headers["x-ratelimit-reset"]) >= 0


def test_a_client_over_its_limit_gets_429_with_retry_after(app_with, db, account):
    client = app_with(rate_limit=0.5, rate_limit_burst=3)
    headers = token_headers(client, db, account)
    statuses = [client.get("/api/v2/users", headers=headers) for _ in range(4)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    refused = statuses[-1]
    assert refused.json()["error"] == "access_denied"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["x-ratelimit-remaining"] == "0"
    other = token_headers(client, db, factories.make_account(db))
    assert client.get("/api/v2/users", headers=other).status_code == 200, "limits are per client"


def test_rate_limit_zero_turns_it_off(app_with, db, account):
    client = app_with(rate_limit=0)
    headers = token_headers(client, db, account)
    r = client.get("/api/v2/users", headers=headers)
    assert r.status_code == 200 and "x-ratelimit-limit" not in r.headers


def test_failed_token_requests_are_throttled_per_client_key(app_with, db, account):
    client = app_with(token_failure_limit=3)
    key, secret = factories.make_client(db, account)
    for _ in range(3):
        assert client.post("/api/v1/token", params={"clientKey": key, "secret": "guess"}).status_code == 401
    blocked = client.post("/api/v1/token", params={"clientKey": key, "secret": secret})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert blocked.json()["error"] == "access_denied"


def test_failed_token_requests_are_throttled_per_address(app_with, db, account):
    client = app_with(token_failure_limit=3)
    for i in range(3):
        client.post("/api/v1/token", params={"clientKey": f"guess-{i}", "secret": "guess"})
    key, secret = factories.make_client(db, account)
    assert client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).status_code == 429


def test_successful_token_requests_are_never_throttled(app_with, db, account):
    client = app_with(token_failure_limit=2)
    key, secret = factories.make_client(db, account)
    for _ in range(5):
        assert client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).status_code == 200


@pytest.fixture
def redis_url():
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("Redis is not reachable at 127.0.0.1:6379")
    return REDIS_URL


def test_limits_are_shared_by_every_process_through_redis(app_with, db, account, redis_url):
    first = app_with(rate_limit=0.5, rate_limit_burst=4, redis_url=redis_url)
    second = app_with(rate_limit=0.5, rate_limit_burst=4, redis_url=redis_url)
    headers = token_headers(first, db, account)
    codes = [
        c.get("/api/v2/users", headers=headers).status_code for c in (first, second, first, second, first)
    ]
    assert codes == [200, 200, 200, 200, 429]


def test_failed_logins_are_shared_through_redis(app_with, db, account, redis_url):
    first = app_with(token_failure_limit=2, redis_url=redis_url)
    second = app_with(token_failure_limit=2, redis_url=redis_url)
    key, secret = factories.make_client(db, account)
    address_free = {"clientKey": key, "secret": f"guess-{uuid.uuid4()}"}
    assert first.post("/api/v1/token", params=address_free).status_code == 401
    assert second.post("/api/v1/token", params=address_free).status_code == 401
    assert first.post("/api/v1/token", params={"clientKey": key, "secret": secret}).status_code == 429
    redis.Redis.from_url(redis_url).delete("enabley:fail:addr:testclient")


def test_an_unreachable_redis_lets_requests_through(app_with, db, account):
    client = app_with(rate_limit=1, rate_limit_burst=1, redis_url="redis://127.0.0.1:1/0")
    headers = token_headers(client, db, account)
    assert [client.get("/api/v2/users", headers=headers).status_code for _ in range(3)] == [200, 200, 200]
