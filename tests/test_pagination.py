"""paginationKey: one mechanism for every paged endpoint, exercised on GET /api/v3/users."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from enabley.db import Database
from enabley.main import create_app
from enabley.openapi import api_routes
from tests import factories
from tests.conftest import settings_for


def make_users(client, headers, n, prefix="u", **fields):
    for i in range(n):
        r = client.put("/api/v2/users", json={"identifier": f"{prefix}{i:02}", **fields}, headers=headers)
        assert r.status_code == 201


def page(client, headers, **params):
    r = client.get("/api/v3/users", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def walk(client, headers, **params) -> list[dict]:
    pages, key = [], None
    while True:
        body = page(client, headers, **params, **({"paginationKey": key} if key else {}))
        pages.append(body)
        key = body["paginationKey"]
        if key is None:
            return pages


def ids(pages) -> list[str]:
    return [u["identifier"] for p in pages for u in p["items"]]


def test_empty_result(client, headers):
    body = page(client, headers)
    assert body == {"items": [], "pageSize": 100, "currentPage": 1, "totalPages": 0, "paginationKey": None}


def test_walk_through_pages(client, headers, page_size):
    page_size(3)
    make_users(client, headers, 7)
    pages = walk(client, headers)
    assert [p["currentPage"] for p in pages] == [1, 2, 3]
    assert {p["totalPages"] for p in pages} == {3}
    assert {p["pageSize"] for p in pages} == {3}
    assert ids(pages) == [f"u{i:02}" for i in range(7)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]


def test_exact_multiple_of_the_page_size_ends_without_an_empty_page(client, headers, page_size):
    page_size(3)
    make_users(client, headers, 6)
    pages = walk(client, headers)
    assert [len(p["items"]) for p in pages] == [3, 3]
    assert pages[-1]["paginationKey"] is None and pages[-1]["totalPages"] == 2


def test_key_can_be_reused(client, headers, page_size):
    page_size(2)
    make_users(client, headers, 5)
    key = page(client, headers)["paginationKey"]
    first = page(client, headers, paginationKey=key)
    second = page(client, headers, paginationKey=key)
    next_keys = first.pop("paginationKey"), second.pop("paginationKey")
    assert first == second and first["currentPage"] == 2
    assert (
        page(client, headers, paginationKey=next_keys[0])["items"]
        == page(client, headers, paginationKey=next_keys[1])["items"]
    )


def test_filters_travel_with_the_key_and_may_be_repeated(client, headers, page_size):
    page_size(2)
    make_users(client, headers, 3, prefix="acme", email="x@acme.com")
    make_users(client, headers, 3, prefix="other", email="x@other.com")
    key = page(client, headers, emailSubstring="acme")["paginationKey"]
    alone = page(client, headers, paginationKey=key)
    repeated = page(client, headers, paginationKey=key, emailSubstring="acme")
    assert alone["items"] == repeated["items"]
    assert [u["identifier"] for u in alone["items"]] == ["acme02"]
    r = client.get("/api/v3/users", params={"paginationKey": key, "emailSubstring": "other"}, headers=headers)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")


@pytest.mark.parametrize(
    "mangle", [lambda k: k[:-2] + "xx", lambda k: "garbage", lambda k: k[::-1], lambda k: k + "A"]
)
def test_tampered_or_garbage_key_is_404(client, headers, page_size, mangle):
    page_size(1)
    make_users(client, headers, 2)
    key = page(client, headers)["paginationKey"]
    r = client.get("/api/v3/users", params={"paginationKey": mangle(key)}, headers=headers)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")


def test_another_accounts_key_is_404(client, headers, auth, db, page_size):
    page_size(1)
    make_users(client, headers, 2)
    key = page(client, headers)["paginationKey"]
    other = auth(factories.make_account(db))
    r = client.get("/api/v3/users", params={"paginationKey": key}, headers=other)
    assert r.status_code == 404


def test_another_endpoints_key_is_404(client, headers, services, account):
    cursor = services.paginator.open(None, account_id=account.id, endpoint="v3/channels", filters={})
    key = services.paginator._dump({"a": account.id, "e": cursor.endpoint, "f": {}, "p": 2, "k": [0], "t": 5})
    r = client.get("/api/v3/users", params={"paginationKey": key}, headers=headers)
    assert r.status_code == 404


def test_expired_key_is_404(client, headers, page_size, services, monkeypatch):
    page_size(1)
    make_users(client, headers, 2)
    key = page(client, headers)["paginationKey"]
    # As if the key's lifetime had passed: every key is now older than its time to live.
    monkeypatch.setattr(services.paginator, "_ttl", -1)
    r = client.get("/api/v3/users", params={"paginationKey": key}, headers=headers)
    assert r.status_code == 404


def test_key_works_after_a_restart(client, headers, page_size, db, database_url, engine):
    page_size(2)
    make_users(client, headers, 3)
    key = page(client, headers)["paginationKey"]
    token = headers
    restarted = Database(engine)
    restarted.bind = db.connection()
    app = create_app(settings_for(database_url, page_size=2), database=restarted)
    with TestClient(app) as fresh:
        r = fresh.get("/api/v3/users", params={"paginationKey": key}, headers=token)
    assert r.status_code == 200, r.text
    assert [u["identifier"] for u in r.json()["items"]] == ["u02"]


def test_changes_while_paging_never_repeat_nor_skip_an_item(client, headers, page_size):
    page_size(2)
    make_users(client, headers, 6)
    first = page(client, headers)
    seen = [u["identifier"] for u in first["items"]]
    # Data changes between pages: an insert, a deletion of an item already served, an update.
    client.put("/api/v2/users", json={"identifier": "late"}, headers=headers)
    client.delete("/api/v2/users/u00", headers=headers)
    client.put("/api/v2/users", json={"identifier": "u03", "firstName": "Changed"}, headers=headers)
    key = first["paginationKey"]
    while key:
        body = page(client, headers, paginationKey=key)
        seen += [u["identifier"] for u in body["items"]]
        assert body["totalPages"] == 3, "the total is counted once, when the walk begins"
        key = body["paginationKey"]
    originals = [f"u{i:02}" for i in range(6)]
    assert [s for s in seen if s in originals] == originals
    assert len(seen) == len(set(seen))


def test_page_size_follows_the_setting(client, headers):
    make_users(client, headers, 3)
    body = page(client, headers)
    assert body["pageSize"] == 100 and body["paginationKey"] is None and body["totalPages"] == 1


def test_the_walk_lists_what_the_filtered_listing_lists(client, headers, page_size):
    """The plain walk (and one narrowed by sub-account) has a path of its own; it must answer
    exactly what the general listing does, sub-account names and custom attributes included."""
    page_size(3)
    for i in range(7):
        subs = [["EU"], ["EU", "US"], ["US"], []][i % 4]
        body = {"identifier": f"w{i}", "customAttributes": {"n": i}, "possibleRoles": ["LEARNER"]}
        for sub in subs or [None]:
            r = client.put("/api/v2/users", json={**body, "subAccountName": sub}, headers=headers)
            assert r.status_code in (200, 201), r.text
    listed = client.get("/api/v2/users", params={"limit": 200}, headers=headers).json()
    assert [u for p in walk(client, headers) for u in p["items"]] == listed
    assert any(u["userSubAccountNames"] == ["EU", "US"] for u in listed)
    for sub in ("EU", "US"):
        pages = walk(client, headers, subAccountName=sub)
        expected = client.get("/api/v2/users", params={"limit": 200, "subAccountName": sub}, headers=headers)
        assert [u for p in pages for u in p["items"]] == expected.json()
        assert {p["totalPages"] for p in pages} == {2}


def test_an_unknown_sub_account_is_400(client, headers):
    r = client.get("/api/v3/users", params={"subAccountName": "nowhere"}, headers=headers)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_request"


def _paged_routes(app):
    for path, methods, route in api_routes(app):
        if "GET" in methods and any(p.alias == "paginationKey" for p in route.dependant.query_params):
            yield path, route


def test_an_empty_pagination_key_is_the_first_page_on_every_paged_route(app, client, headers):
    make_users(client, headers, 2)
    routes = list(_paged_routes(app))
    assert len(routes) >= 4, "the walk must see every paged route"
    for path_format, route in routes:
        path = re.sub(r"\{[^}]+\}", "nobody", path_format)
        required = {p.alias: "u00" for p in route.dependant.query_params if p.field_info.is_required()}
        first = client.get(path, params=required, headers=headers)
        empty = client.get(path, params={**required, "paginationKey": ""}, headers=headers)
        assert (empty.status_code, empty.json()) == (first.status_code, first.json()), path
    assert page(client, headers, paginationKey="")["currentPage"] == 1
