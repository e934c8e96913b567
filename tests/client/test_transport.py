"""Tokens, retries and error mapping, against a scripted server (MockTransport): nothing waits."""

from __future__ import annotations

import logging

import httpx2
import pytest

from enabley.client import (
    Client,
    ConnectionFailed,
    EnableyError,
    InvalidRequest,
    InvalidResponse,
    ItemExists,
    NotFound,
    RateLimited,
    ServerError,
    ServiceUnavailable,
    Unauthorized,
)
from tests.client.conftest import FakeClock
from tests.client.mock import TOKEN_PATH, Script, error, fail_with, ok, token, user


def make(script: Script, clock: FakeClock | None = None, sleeps: list[float] | None = None, **options):
    options.setdefault("backoff", 1.0)
    options.setdefault("jitter", lambda: 0.0)
    return Client(
        "https://lms.example.com/",
        "key",
        "secret",
        http=httpx2.Client(transport=httpx2.MockTransport(script)),
        clock=clock or FakeClock(),
        sleep=(sleeps if sleeps is not None else []).append,
        **options,
    )


def test_token_is_fetched_once_with_the_credentials_and_sent_as_bearer():
    script = Script(ok(user()), ok(user()))
    sdk = make(script)
    sdk.users.get("ana")
    sdk.users.get("ana")
    [token_request] = [r for r in script.requests if r.url.path == "/api/v1/token"]
    assert token_request.method == "POST"
    assert dict(token_request.url.params) == {"clientKey": "key", "secret": "secret"}
    assert script.bearers == ["Bearer t1", "Bearer t1"]
    assert str(script.requests[1].url) == "https://lms.example.com/api/v2/users/ana"


def test_token_is_renewed_shortly_before_it_expires():
    clock = FakeClock()
    script = Script(ok(user()), ok(user()), ok(user()))
    sdk = make(script, clock)
    sdk.users.get("ana")
    clock.advance(3600 - 61)  # expires_in is 3,600,000 ms; renewed in its last minute
    sdk.users.get("ana")
    clock.advance(2)
    sdk.users.get("ana")
    assert script.bearers == ["Bearer t1", "Bearer t1", "Bearer t2"]


def test_short_lived_tokens_are_renewed_in_their_last_tenth():
    clock = FakeClock()
    script = Script(ok(user()), ok(user()), tokens=[token(1, expires_in_ms=10_000), token(2)])
    sdk = make(script, clock)
    sdk.users.get("ana")
    clock.advance(9.1)
    sdk.users.get("ana")
    assert script.bearers == ["Bearer t1", "Bearer t2"]


def test_a_refused_token_is_renewed_once_and_the_call_repeated():
    script = Script(error(401, "access_denied", "The access token has expired"), ok(user()))
    assert make(script).users.get("ana").identifier == "ana"
    assert script.bearers == ["Bearer t1", "Bearer t2"]


def test_a_token_refused_twice_raises_unauthorized():
    script = Script(error(401, "access_denied"), error(401, "access_denied"))
    with pytest.raises(Unauthorized) as caught:
        make(script).users.get("ana")
    assert (caught.value.status, caught.value.error) == (401, "access_denied")
    assert script.issued == 2


def test_post_is_repeated_after_a_refused_token_since_nothing_was_done():
    script = Script(error(401, "access_denied"), ok())
    make(script).channels.force_complete("c1", "ana")
    assert script.calls == ["POST /api/v4/channels/forceComplete/channel/c1/user/ana"] * 2


def test_wrong_credentials_raise_unauthorized_without_retrying():
    script = Script(tokens=[error(401, "invalid_client", "Invalid clientKey or secret")])
    with pytest.raises(Unauthorized) as caught:
        make(script).users.get("ana")
    assert caught.value.error == "invalid_client"
    assert script.calls == []


def test_503_and_429_are_retried_with_exponential_backoff_honouring_retry_after():
    sleeps: list[float] = []
    script = Script(
        error(503, "service_unavailable"),
        error(503, "service_unavailable"),
        error(429, "access_denied", headers={"Retry_After": "7"}),
        ok(user()),
    )
    assert make(script, sleeps=sleeps, max_retries=3).users.get("ana").identifier == "ana"
    # backoff 1 s doubling; with no jitter each wait is half its ceiling; Retry-After is a floor.
    assert sleeps == [0.5, 1.0, 7.0]
    assert len(script.calls) == 4


def test_jitter_spreads_each_wait_over_the_upper_half_of_its_ceiling():
    sleeps: list[float] = []
    script = Script(error(503, "service_unavailable"), error(503, "service_unavailable"), ok(user()))
    make(script, sleeps=sleeps, jitter=lambda: 0.5).users.get("ana")
    assert sleeps == [0.75, 1.5]


def test_retries_stop_after_max_retries():
    sleeps: list[float] = []
    script = Script(*[error(503, "service_unavailable", "Database unavailable")] * 3)
    with pytest.raises(ServiceUnavailable) as caught:
        make(script, sleeps=sleeps, max_retries=2).users.get("ana")
    assert (caught.value.status, caught.value.error_description) == (503, "Database unavailable")
    assert isinstance(caught.value, ServerError)
    assert len(script.calls) == 3 and len(sleeps) == 2


def test_a_retry_after_beyond_max_wait_is_not_waited_for():
    sleeps: list[float] = []
    script = Script(error(429, "access_denied", "Rate limit", headers={"Retry_After": "600"}))
    with pytest.raises(RateLimited) as caught:
        make(script, sleeps=sleeps, max_wait=60).users.get("ana")
    assert caught.value.retry_after == 600
    assert sleeps == []


@pytest.mark.parametrize("status", [503, 429])
def test_a_post_that_changes_something_is_repeated_under_its_idempotency_key(status):
    script = Script(error(status, "service_unavailable"), ok())
    make(script).channels.force_complete("c1", "ana")
    keys = [r.headers.get("idempotency-key") for r in script.requests if r.url.path != TOKEN_PATH]
    assert len(keys) == 2 and keys[0] is not None and keys[0] == keys[1]


def test_a_post_whose_answer_was_lost_is_repeated_under_its_idempotency_key():
    script = Script(fail_with(httpx2.ReadTimeout), ok())
    make(script).channels.force_complete("c1", "ana")
    keys = {r.headers.get("idempotency-key") for r in script.requests if r.url.path != TOKEN_PATH}
    assert len(script.calls) == 2 and len(keys) == 1 and None not in keys


def test_a_post_whose_connection_failed_is_repeated_since_it_never_left():
    sleeps: list[float] = []
    script = Script(fail_with(httpx2.ConnectError), ok())
    make(script, sleeps=sleeps).channels.force_complete("c1", "ana")
    assert len(script.calls) == 2 and sleeps == [0.5]


def test_read_only_posts_and_idempotent_methods_are_repeated_after_lost_answers():
    script = Script(
        fail_with(httpx2.ReadError),
        ok([]),
        fail_with(httpx2.ReadTimeout),
        error(503, "service_unavailable"),
        ok(),
    )
    sdk = make(script)
    assert sdk.profiles.get_many(["p1"]) == []
    sdk.users.delete("ana")
    assert script.calls == ["POST /api/v2/getUserProfiles"] * 2 + ["DELETE /api/v2/users/ana"] * 3


def test_the_token_request_is_retried_though_it_is_a_post():
    sleeps: list[float] = []
    script = Script(
        ok(user()), tokens=[error(503, "service_unavailable"), fail_with(httpx2.ReadError), token(9)]
    )
    make(script, sleeps=sleeps).users.get("ana")
    assert script.bearers == ["Bearer t9"] and sleeps == [0.5, 1.0]


def test_an_unreachable_server_raises_connection_failed_after_the_retries():
    sleeps: list[float] = []
    script = Script(tokens=[fail_with(httpx2.ConnectError)] * 4)
    with pytest.raises(ConnectionFailed, match=r"lms\.example\.com"):
        make(script, sleeps=sleeps).users.get("ana")
    assert sleeps == [0.5, 1.0, 2.0]


def test_error_bodies_map_to_typed_errors():
    script = Script(
        error(404, "not_found", "User 'x' not found"),
        error(409, "item_exists", "taken"),
        error(400, "invalid_request", "bad"),
        error(500, "general_error"),
        httpx2.Response(502, text="<html>Bad gateway</html>"),
        httpx2.Response(405, json={"error": "invalid_request", "error_description": "Method not allowed"}),
    )
    sdk = make(script)
    expected = [
        (NotFound, 404, "not_found", "User 'x' not found"),
        (ItemExists, 409, "item_exists", "taken"),
        (InvalidRequest, 400, "invalid_request", "bad"),
        (ServerError, 500, "general_error", "general_error"),
        (ServerError, 502, "general_error", "<html>Bad gateway</html>"),
        (EnableyError, 405, "invalid_request", "Method not allowed"),
    ]
    for cls, status, code, description in expected:
        with pytest.raises(EnableyError) as caught:
            sdk.users.get("x")
        assert type(caught.value) is cls
        assert (caught.value.status, caught.value.error, caught.value.error_description) == (
            status,
            code,
            description,
        )


def test_upload_validation_errors_carry_every_row():
    body = {
        "errors": [
            {"file": "users.csv", "line": 3, "column": "email", "message": "not a valid email"},
            {"file": "groups.csv", "line": 2, "column": "parentIdentifier", "message": "unknown group"},
        ],
        "moreErrors": 5,
    }
    script = Script(error(400, "invalid_request", "2 files have errors", **body))
    with pytest.raises(InvalidRequest) as caught:
        make(script).uploads.org([("users.csv", "identifier\n")])
    assert [(e.file, e.line, e.column, e.message) for e in caught.value.errors] == [
        ("users.csv", 3, "email", "not a valid email"),
        ("groups.csv", 2, "parentIdentifier", "unknown group"),
    ]
    assert caught.value.more_errors == 5


def test_an_answer_in_another_format_raises_invalid_response():
    script = Script(httpx2.Response(200, text="<html>login page</html>"))
    with pytest.raises(InvalidResponse, match="GET /api/v2/users/ana"):
        make(script).users.get("ana")


def test_upload_reports_progress_and_sends_a_content_length():
    seen: list[tuple[int, int]] = []
    counts = {"groups": 0, "users": 20_000}
    summary = {"filesProcessed": 1, "created": counts, "updated": counts, "unchanged": counts}
    script = Script(ok(summary))
    content = "identifier,email\n" + "".join(f"u{i},u{i}@example.com\n" for i in range(20_000))
    result = make(script).uploads.org(
        [("users.csv", content)], progress=lambda sent, total: seen.append((sent, total))
    )
    assert (result.files_processed, result.created.users) == (1, 20_000)
    request = script.requests[-1]
    total = int(request.headers["content-length"])
    assert len(request.read()) == total
    assert seen[0] == (0, total) and seen[-1] == (total, total) and len(seen) > 2


def test_a_base_url_without_scheme_is_refused():
    with pytest.raises(ValueError, match="http"):
        Client("lms.example.com", "key", "secret")


def test_closing_leaves_a_given_http_client_open():
    http = httpx2.Client(transport=httpx2.MockTransport(Script()))
    with Client("https://lms.example.com", "k", "s", http=http):
        pass
    assert not http.is_closed


def test_the_secret_never_reaches_the_http_log(caplog):
    script = Script(ok(user()))
    with caplog.at_level(logging.INFO, logger="httpx2"):
        make(script).users.get("ana")
    assert "clientKey=key" in caplog.text and "/api/v2/users/ana" in caplog.text
    assert "secret=secret" not in caplog.text
