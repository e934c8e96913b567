"""Answers of the request limits, provoked one by one and held to the OpenAPI document.

The contract fuzz (test_contract.py) runs without rate limits and never sends oversized requests,
so it never sees these answers: each is provoked here and checked as Schemathesis checks a fuzzed
answer (documented status code, content type, headers and body).
"""

from __future__ import annotations

import pytest
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories
from tests.security import fuzzing

schema = fuzzing.load_schema()


def _bearer(client, db, account) -> dict[str, str]:
    key, secret = factories.make_client(db, account)
    token = client.post("/api/v1/token", params={"clientKey": key, "secret": secret}).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _until_refused(call):
    """Calls until one is refused (429), the budget being small; at most a few more than it."""
    for _ in range(6):
        response = call()
        if response.status_code == 429:
            break
    return response


LIMITS_CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    fuzzing.error_response,
]


@pytest.mark.parametrize(
    "scenario",
    [
        "body-too-large",
        "headers-too-large",
        "nul-in-query",
        "query-too-long",
        "pdf-token-too-long",
        "rate-limited",
        "token-throttled",
        "wrong-secret",
        "address-limited",
        "pdf-limited",
        "token-rate-limited",
    ],
)
def test_answers_of_the_request_limits_are_documented(scenario, app_with, db, account):
    """The fuzz runs without rate limits and never sends oversized requests: these answers are
    provoked one by one and held to the operation's documented responses."""
    client = app_with(
        rate_limit=1,
        rate_limit_burst=1,
        token_failure_limit=1,
        max_body_bytes=1024,
        anonymous_rate_limit=0.01,
        anonymous_rate_limit_burst=3,
        pdf_rate_limit=0.01,
        pdf_rate_limit_burst=1,
    )
    headers = _bearer(client, db, account)
    method, path, expected = {
        "body-too-large": ("PUT", "/api/v2/users", 413),
        "headers-too-large": ("GET", "/api/v2/users", 431),
        "nul-in-query": ("GET", "/api/v1/certificates", 400),
        "query-too-long": ("GET", "/api/admin/v1/catalog", 400),
        "pdf-token-too-long": ("GET", "/api/v1/certificates/pdf/{token}", 400),
        "rate-limited": ("GET", "/api/v1/groups/hierarchy", 429),
        "token-throttled": ("POST", "/api/v1/token", 429),
        "wrong-secret": ("POST", "/api/v1/token", 401),
        "address-limited": ("GET", "/api/v1/groups/hierarchy", 429),
        "pdf-limited": ("GET", "/api/v1/certificates/pdf/{token}", 429),
        "token-rate-limited": ("POST", "/api/v1/token", 429),
    }[scenario]
    pdf_token = "t" * (300 if scenario == "pdf-token-too-long" else 20)
    if scenario == "body-too-large":
        response = client.put(path, json=factories.user_body(address="a" * 2000), headers=headers)
    elif scenario == "headers-too-large":
        response = client.get(path, headers={**headers, "X-Padding": "p" * 17_000})
    elif scenario == "nul-in-query":
        response = client.get(path, params={"x": "\x00"}, headers=headers)
    elif scenario == "query-too-long":
        response = client.get(path, params={"x": "q" * 9000}, headers=headers)
    elif scenario in ("pdf-token-too-long", "pdf-limited"):
        for _ in range(2 if scenario == "pdf-limited" else 1):
            response = client.get("/api/v1/certificates/pdf/" + pdf_token)
    elif scenario == "address-limited":
        response = _until_refused(lambda: client.get(path))
    elif scenario == "token-rate-limited":
        key, secret = factories.make_client(db, account)
        response = _until_refused(lambda: client.post(path, params={"clientKey": key, "secret": secret}))
    elif scenario == "rate-limited":
        client.get(path, headers=headers)
        response = client.get(path, headers=headers)
    else:
        for _ in range(2 if scenario == "token-throttled" else 1):
            response = client.post(path, params={"clientKey": "nobody", "secret": "wrong"})
    assert response.status_code == expected, response.text
    params = {"token": pdf_token} if "{token}" in path else {}
    case = schema[path][method].Case(path_parameters=params)
    case.validate_response(response, checks=LIMITS_CHECKS)
