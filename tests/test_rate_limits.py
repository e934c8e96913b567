"""Rate limits (OWASP API4): per client when a request is authenticated, per address otherwise, and
throttled token guessing."""

from __future__ import annotations

import uuid

import pytest
import redis
from fastapi.testclient import TestClient

from enabley import ratelimit
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


def test_failed_token_requests_are_throttled_per_client_key_and_address(app_with, db, account):
    client = app_with(token_failure_limit=3)
    key, secret = factories.make_client(db, account)
    for _ in range(3):
        assert client.post("/api/v1/token", params={"clientKey": key, "secret": "guess"}).status_code == 401
    blocked = client.post("/api/v1/token", params={"clientKey": key, "secret": secret})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert blocked.json()["error"] == "access_denied"


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


# --- Who a request counts against: its client when it is authenticated, else its address -------


@pytest.fixture(params=["local", "redis"])
def store(request) -> str | None:
    """Where counters live: this process, or Redis (shared by every process)."""
    return request.getfixturevalue("redis_url") if request.param == "redis" else None


def new_address() -> str:
    """An address no other test (nor an earlier run sharing Redis) has used."""
    return "10.{}.{}.{}".format(*uuid.uuid4().bytes[:3])


def at(client, address: str):
    """``client``'s app, called from ``address``, on ``client``'s event loop (a Redis connection
    belongs to the loop that opened it)."""
    caller = TestClient(client.app, client=(address, 50000))
    caller.portal = client.portal
    return caller


def token_request(client, key: str, secret: str):
    return client.post("/api/v1/token", params={"clientKey": key, "secret": secret})


def test_guessing_a_key_from_one_address_never_locks_its_owner_out(app_with, db, account, store):
    app = app_with(token_failure_limit=3, redis_url=store)
    attacker, owner = at(app, new_address()), at(app, new_address())
    key, secret = factories.make_client(db, account)
    for _ in range(10):
        assert token_request(attacker, key, "guess").status_code in (401, 429)
    assert token_request(attacker, key, secret).status_code == 429
    assert token_request(owner, key, secret).status_code == 200


def test_one_address_trying_many_keys_is_throttled_for_every_key(app_with, db, account, store):
    app = app_with(token_failure_address_limit=3, redis_url=store)
    attacker, owner = at(app, new_address()), at(app, new_address())
    for _ in range(3):
        assert token_request(attacker, f"made-up-{uuid.uuid4()}", "guess").status_code == 401
    key, secret = factories.make_client(db, account)
    refused = token_request(attacker, key, secret)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert token_request(owner, key, secret).status_code == 200


def test_a_key_guessed_from_many_addresses_allows_each_one_guess_and_never_locks_out(
    app_with, db, account, store
):
    app = app_with(token_failure_limit=3, token_failure_key_limit=4, redis_url=store)
    key, secret = factories.make_client(db, account)
    botnet = [at(app, new_address()) for _ in range(4)]
    for bot in botnet:
        assert token_request(bot, key, "guess").status_code == 401
    # The key is now under attack: an address that failed once on it is throttled for it...
    assert token_request(botnet[0], key, "guess").status_code == 429
    assert token_request(botnet[0], key, secret).status_code == 429
    late = at(app, new_address())
    assert token_request(late, key, "guess").status_code == 401
    assert token_request(late, key, "guess").status_code == 429
    # ...while the owner, from an address with no failure on it, always gets its token.
    owner = at(app, new_address())
    assert [token_request(owner, key, secret).status_code for _ in range(3)] == [200, 200, 200]
    # Other keys are not touched by it.
    other_key, other_secret = factories.make_client(db, account)
    assert token_request(botnet[1], other_key, other_secret).status_code == 200


def test_unauthenticated_requests_are_limited_per_address(app_with, db, account, store):
    app = app_with(anonymous_rate_limit=0.01, anonymous_rate_limit_burst=5, redis_url=store)
    key, _ = factories.make_client(db, account)
    stranger, neighbour = at(app, new_address()), at(app, new_address())
    answers = [
        stranger.get("/api/v2/users"),
        stranger.get("/api/v2/users", headers={"Authorization": "Bearer not-a-token"}),
        stranger.get("/api/v9/nothing"),
        stranger.patch("/api/v2/users"),
        token_request(stranger, key, "guess"),
    ]
    assert [r.status_code for r in answers] == [401, 401, 404, 405, 401]
    assert [r.headers["x-ratelimit-limit"] for r in answers] == ["5"] * 5
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["4", "3", "2", "1", "0"]
    refused = stranger.get("/api/v2/users")
    assert refused.status_code == 429 and refused.json()["error"] == "access_denied"
    assert int(refused.headers["retry-after"]) >= 1 and refused.headers["x-ratelimit-remaining"] == "0"
    assert token_request(stranger, key, "guess").status_code == 429
    assert neighbour.get("/api/v2/users").status_code == 401, "each address has its own budget"


def test_an_authenticated_request_counts_against_its_client_not_its_address(app_with, db, account):
    app = app_with(anonymous_rate_limit=0.01, anonymous_rate_limit_burst=2, rate_limit_burst=50)
    office = at(app, new_address())
    # Two integrations behind one address make many more calls than its anonymous budget.
    tokens = [token_headers(office, db, account) for _ in range(2)]
    for headers in tokens * 5:
        r = office.get("/api/v2/users", headers=headers)
        assert r.status_code == 200 and r.headers["x-ratelimit-limit"] == "50"
    assert office.get("/api/v2/users").headers["x-ratelimit-remaining"] == "1", "nothing was charged to it"
    assert office.get("/api/v2/users").status_code == 401
    assert office.get("/api/v2/users").status_code == 429
    # The address is throttled now; a valid token, even one never used before, still counts
    # against its client.
    fresh = token_headers(app, db, account)
    assert office.get("/api/v2/users", headers=fresh).status_code == 200
    assert office.get("/api/v2/users", headers=tokens[0]).status_code == 200


@pytest.mark.parametrize("caller", ["client", "address"])
def test_answers_given_before_the_route_carry_rate_limit_headers(caller, app_with, db, account):
    app = app_with(
        rate_limit_burst=50, anonymous_rate_limit=1, anonymous_rate_limit_burst=7, max_body_bytes=1024
    )
    client = at(app, new_address())
    headers = token_headers(app, db, account) if caller == "client" else {}
    answers = {
        "413": client.put("/api/v2/users", content=b"x" * 2000, headers=headers),
        "400 NUL": client.get("/api/v2/users", params={"x": "\x00"}, headers=headers),
        "431": client.get("/api/v2/users", headers={**headers, "X-Padding": "p" * 17_000}),
        "404": client.get("/api/v9/nothing", headers=headers),
        "405": client.patch("/api/v2/users", headers=headers),
    }
    expected = "50" if caller == "client" else "7"
    for name, response in answers.items():
        assert response.status_code == int(name.split()[0]), (name, response.text)
        assert response.headers.get("x-ratelimit-limit") == expected, name
        assert "x-ratelimit-remaining" in response.headers and "x-ratelimit-reset" in response.headers


def test_token_requests_are_limited_per_client(app_with, db, account):
    app = app_with(rate_limit=0.01, rate_limit_burst=2)
    key, secret = factories.make_client(db, account)
    for _ in range(3):
        assert token_request(at(app, new_address()), key, "guess").status_code == 401
    answers = [token_request(app, key, secret) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 429], "failures are not charged to the client"
    assert [r.headers["x-ratelimit-remaining"] for r in answers] == ["1", "0", "0"]
    assert int(answers[-1].headers["retry-after"]) >= 1
    other_key, other_secret = factories.make_client(db, account)
    assert token_request(app, other_key, other_secret).status_code == 200


def test_certificate_pdfs_are_limited_per_address_on_a_budget_of_their_own(app_with, db, account):
    app = app_with(
        pdf_rate_limit=0.01, pdf_rate_limit_burst=2, anonymous_rate_limit=1, anonymous_rate_limit_burst=10
    )
    browser, other = at(app, new_address()), at(app, new_address())
    link = "/api/v1/certificates/pdf/not-a-real-link"
    answers = [browser.get(link) for _ in range(3)]
    assert [r.status_code for r in answers] == [404, 404, 429]
    assert [r.headers["x-ratelimit-limit"] for r in answers] == ["2"] * 3
    assert int(answers[-1].headers["retry-after"]) >= 1
    # A token changes nothing: the link is the PDF's only credential.
    assert browser.get(link, headers=token_headers(app, db, account)).status_code == 429
    assert other.get(link).status_code == 404
    assert browser.get("/api/v2/users").headers["x-ratelimit-limit"] == "10"


def test_a_flood_of_made_up_keys_resets_no_throttled_address(app_with, db, account, monkeypatch):
    monkeypatch.setattr(ratelimit, "MAX_LOCAL_KEYS", 50)
    app = app_with(token_failure_limit=2)
    key, secret = factories.make_client(db, account)
    attacker = at(app, new_address())
    assert [token_request(attacker, key, "guess").status_code for _ in range(2)] == [401, 401]
    for _ in range(10):
        # Each failure of the flood takes three entries: many times the table's size in all.
        for _ in range(10):
            assert (
                token_request(at(app, new_address()), f"made-up-{uuid.uuid4()}", "guess").status_code == 401
            )
        assert token_request(attacker, key, secret).status_code == 429
