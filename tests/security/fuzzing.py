"""Contract fuzzing support: run settings, identifiers of the seeded account, checks and the summary.

Two depths, chosen by environment variables (``make fuzz`` sets them):

- the normal suite: ``FUZZ_EXAMPLES`` examples per operation (default below), a fixed seed, the
  checks that make the contract: no 5xx, documented status codes, content types, headers and
  bodies, invalid input refused with a 4xx, and every error an ErrorResponse;
- ``ENABLEY_FUZZ_DEEP=1``: many more examples, a random seed (printed), every Schemathesis check
  that applies to this API, and a summary of what was sent and answered.
"""

from __future__ import annotations

import functools
import os
import random
import re
from collections import Counter, defaultdict
from typing import TYPE_CHECKING, Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    missing_required_header,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
    use_after_free,
)

from tests.security.world import SUB_ACCOUNT, Ids

if TYPE_CHECKING:
    from tests.security.conftest import Seed

PREFIX = "fz-"
MARKER = "FUZZ"
DEEP = os.environ.get("ENABLEY_FUZZ_DEEP", "") not in ("", "0")
EXAMPLES = int(os.environ.get("ENABLEY_FUZZ_EXAMPLES", "100" if DEEP else "6"))
SUMMARY = DEEP or os.environ.get("ENABLEY_FUZZ_SUMMARY", "") not in ("", "0")
SEED = int(os.environ.get("ENABLEY_FUZZ_SEED") or (random.getrandbits(32) if DEEP else 1))


def error_response(ctx: Any, response: Any, case: Any) -> None:
    """Every 4xx and 5xx answer is the spec's ErrorResponse, as JSON (an operation may document more
    fields beside the two; response_schema_conformance holds it to what it documents)."""
    if response.status_code < 400:
        return
    content_type = response.headers.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    if case.operation.path.startswith("/scim/"):
        _scim_error(response, content_type)
        return
    assert content_type.startswith("application/json"), f"{response.status_code} answered as {content_type!r}"
    body = response.json()
    assert isinstance(body, dict), body
    assert {"error", "error_description"} <= set(body), body
    assert body["error"] in {
        "invalid_request",
        "invalid_client",
        "not_found",
        "access_denied",
        "general_error",
        "item_exists",
        "item_not_exists",
        "service_unavailable",
    }, body
    assert isinstance(body["error_description"], str) and body["error_description"], body


SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"


def _scim_error(response: Any, content_type: str) -> None:
    """SCIM answers its errors as RFC 7644 §3.12 Error resources, not as the API's ErrorResponse."""
    assert content_type.startswith("application/scim+json"), (
        f"{response.status_code} answered as {content_type!r}"
    )
    body = response.json()
    assert isinstance(body, dict) and body.get("schemas") == [SCIM_ERROR], body
    assert body.get("status") == str(response.status_code), body
    assert isinstance(body.get("detail"), str) and body["detail"], body


CONTRACT_CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    error_response,
]
# Checks of the deep pass on top of the contract. positive_data_acceptance is left out: a request
# can match the schema and still break a business rule the spec answers with 400 or 409 (an
# unknown sub-account, untilDate before fromDate, a course that is not a course).
DEEP_CHECKS = [missing_required_header, unsupported_method, ignored_auth, use_after_free]
_ = positive_data_acceptance


def config() -> schemathesis.Config:
    settings: dict[str, Any] = {
        # The bearer token is the seeded account's, sent with every request: the generator leaves
        # the Authorization header alone (ignored_auth, in the deep pass, sends it wrong or not at all).
        "generation": {
            "max-examples": EXAMPLES,
            "database": "none",
            "mode": "all",
            "with-security-parameters": False,
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": DEEP},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "suppress-health-check": ["all"],
    }
    settings["seed"] = SEED
    return schemathesis.Config.from_dict(settings)


@functools.cache
def load_schema() -> schemathesis.BaseSchema:
    """The app's /openapi.json, as Schemathesis sees it, with this module's run settings."""
    from fastapi.testclient import TestClient

    from enabley.main import create_app
    from tests.conftest import settings_for

    # The document is built from the routes alone: this app never opens its database.
    app = create_app(settings_for("sqlite:///never-opened.db"))
    response = TestClient(app).get("/openapi.json")
    assert response.status_code == 200
    return schemathesis.openapi.from_dict(response.json(), config=config())


class Known:
    """What a generated request may use so that it reaches real objects of the seeded account."""

    def __init__(self) -> None:
        self.seed: Seed | None = None

    def load(self, seed: Seed) -> None:
        self.seed = seed

    def clear(self) -> None:
        self.seed = None

    def pools(self) -> dict[str, list[Any]]:
        assert self.seed is not None
        ids: Ids = self.seed.world.ids
        keys = [k for ks in self.seed.pagination_keys.values() for k in ks]
        return {
            "users": [ids.user, ids.instructor],
            "groups": [ids.group, ids.root_group],
            "channels": [ids.channel, ids.instance, ids.master],
            "masters": [ids.master, ids.draft_master],
            "items": [ids.item, ids.event],
            "certificates": [ids.certificate, ids.confirmed_certificate],
            "profiles": [ids.profile],
            "workspaces": [ids.workspace],
            "entities": [ids.channel, ids.group, ids.workspace],
            "sub_accounts": [SUB_ACCOUNT, "US"],
            "token": [self.seed.pdf_token],
            "pagination": keys,
            "client_key": [self.seed.client_key],
            "secret": [self.seed.secret],
        }


KNOWN = Known()

_BY_NAME = {
    "userIdentifier": "users",
    "externalUserId": "users",
    "currentUserIdentifier": "users",
    "groupIdentifier": "groups",
    "parentIdentifier": "groups",
    "channelIdentifier": "channels",
    "externalChannelId": "channels",
    "masterCourseIdentifier": "masters",
    "itemIdentifier": "items",
    "externalCertificateId": "certificates",
    "certificateIdentifier": "certificates",
    "profileIdentifier": "profiles",
    "entityIdentifier": "entities",
    "subAccountName": "sub_accounts",
    "token": "token",
    "paginationKey": "pagination",
    "clientKey": "client_key",
    "secret": "secret",
}
# What an ``identifier`` names, by the path segment it follows (path) or the path (body).
_IDENTIFIER_BY_SEGMENT = [
    ("contentItems", "items"),
    ("trainingEvents", "items"),
    ("master", "masters"),
    ("workspaces", "workspaces"),
    ("userProfiles/users", "users"),
    ("userProfiles", "profiles"),
    ("getUserProfiles", "profiles"),
    ("groups", "groups"),
    ("channels", "channels"),
    ("users", "users"),
]


def _identifier_kind(path: str, *, in_path: bool) -> str | None:
    where = path.split("/{identifier}")[0] if in_path else path
    for segment, kind in _IDENTIFIER_BY_SEGMENT:
        if re.search(rf"/{segment}(/|$)", where) or where.endswith(f"/{segment}"):
            return kind
    return None


def _kind(path: str, name: str, *, in_path: bool) -> str | None:
    if name == "identifier":
        return _identifier_kind(path, in_path=in_path)
    return _BY_NAME.get(name)


def _slots(case: Any, pools: dict[str, list[Any]]) -> list[tuple[str, Any, list[Any]]]:
    """(container, key, candidates) for every value of the case that may name a seeded object."""
    path = case.operation.path
    found: list[tuple[str, Any, list[Any]]] = []
    for location in ("path_parameters", "query"):
        values = getattr(case, location) or {}
        for name in values:
            kind = _kind(path, name, in_path=location == "path_parameters")
            if kind is not None:
                found.append((location, name, pools[kind]))
    body = case.body
    if isinstance(body, dict):
        for name in body:
            kind = _kind(path, name, in_path=False)
            if kind is not None:
                found.append(("body", name, pools[kind]))
        if "courseIds" in body:
            found.append(("body", "courseIds", [[c] for c in pools["channels"]]))
    elif isinstance(body, list) and path.endswith("/getUserProfiles"):
        found.append(("body", None, [pools["profiles"]]))
    return found


def _apply(case: Any, slots: list[tuple[str, Any, list[Any]]], picks: list[Any]) -> Any:
    for (location, name, _), pick in zip(slots, picks, strict=True):
        if pick is None:
            continue
        if location == "body" and name is None:
            case.body = list(pick)
        elif location == "body":
            case.body = {**case.body, name: pick}
        else:
            setattr(case, location, {**getattr(case, location), name: pick})
    return case


def aim_at_seeded_objects(_context: Any, case: Any) -> Any:
    """Valid requests name a seeded object in about half of their identifiers: the rest stay random."""
    meta = case.meta
    if KNOWN.seed is None or meta is None or not meta.generation.mode.is_positive:
        return st.just(case)
    slots = _slots(case, KNOWN.pools())
    if not slots:
        return st.just(case)
    picks = st.tuples(*(st.one_of(st.none(), st.sampled_from(candidates)) for _, _, candidates in slots))
    return picks.map(lambda chosen: _apply(case, slots, list(chosen)))


# operation label -> status code -> responses; filled as the fuzz runs, printed by ``make fuzz``.
STATS: dict[str, Counter[int]] = defaultdict(Counter)


def record(case: Any, status: int, backend: str) -> None:
    STATS[f"{backend:<10} {case.operation.label}"][status] += 1


def print_summary(reporter: Any) -> None:
    if not SUMMARY or not STATS:
        return
    reporter.section("contract fuzz summary")
    reporter.write_line(f"ENABLEY_FUZZ_SEED={SEED}, {EXAMPLES} examples per operation")
    total = Counter[int]()
    for label in sorted(STATS):
        counts = STATS[label]
        total.update(counts)
        spread = " ".join(f"{code}:{n}" for code, n in sorted(counts.items()))
        reporter.write_line(f"{label:<95} {sum(counts.values()):>6}  {spread}")
    spread = " ".join(f"{code}:{n}" for code, n in sorted(total.items()))
    reporter.write_line(f"{'all operations':<95} {sum(total.values()):>6}  {spread}")
    server_errors = sum(n for code, n in total.items() if code >= 500)
    reporter.write_line(f"5xx answers: {server_errors}")
