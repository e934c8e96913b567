"""Users 3.9.1 to 3.9.11: create/update, lookups, filters, status, deletion, identity, permissions."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from enabley.models import User
from tests.factories import user_body

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
USER_FIELDS = {
    "address",
    "created",
    "customAttributes",
    "email",
    "firstName",
    "identifier",
    "isActive",
    "lastName",
    "modified",
    "phone",
    "possibleRoles",
    "userSubAccountNames",
    "username",
}


def put(client, headers, **fields):
    return client.put("/api/v2/users", json=fields, headers=headers)


def test_create_answers_201_with_every_field_and_defaults(client, headers):
    r = put(client, headers, identifier="u-1", email="ana@example.com", firstName="Ana")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == USER_FIELDS
    assert body["identifier"] == "u-1"
    assert body["isActive"] is True
    assert body["possibleRoles"] == ["LEARNER"]
    assert body["userSubAccountNames"] == []
    assert body["lastName"] is None and body["customAttributes"] is None
    assert TIMESTAMP.match(body["created"]) and TIMESTAMP.match(body["modified"])


def test_update_answers_200_and_keeps_fields_the_request_leaves_out(client, headers):
    put(client, headers, identifier="u-1", email="a@example.com", firstName="Ana", phone="+1 555")
    r = put(client, headers, identifier="u-1", lastName="Souza", phone=None)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["firstName"], body["lastName"], body["email"], body["phone"]) == (
        "Ana",
        "Souza",
        "a@example.com",
        None,
    )


def test_unchanged_update_keeps_modified(client, headers):
    first = put(client, headers, identifier="u-1", firstName="Ana").json()
    again = put(client, headers, identifier="u-1", firstName="Ana").json()
    assert again["modified"] == first["modified"]
    changed = put(client, headers, identifier="u-1", firstName="Bia").json()
    assert changed["modified"] >= first["modified"]


def test_all_fields_round_trip_in_any_script(client, headers):
    body = user_body(
        "7f1d2c3b-0000-4000-8000-000000000001",
        firstName="João",
        lastName="Łukasz—Öström",
        username="30518472961",
        phone="+55 11 5555 0100",
        address="Av. Paulista 1000, São Paulo",
        possibleRoles=["LEARNER", "INSTRUCTOR", "HR_MANAGER"],
        customAttributes={"department": "Vendas", "level": 3, "tags": ["a", "b"]},
        isActive=False,
        subAccountName="EU",
    )
    created = client.put("/api/v2/users", json=body, headers=headers).json()
    fetched = client.get(f"/api/v2/users/{body['identifier']}", headers=headers).json()
    assert fetched == created
    for field in (
        "firstName",
        "lastName",
        "username",
        "phone",
        "address",
        "possibleRoles",
        "customAttributes",
    ):
        assert fetched[field] == body[field]
    assert fetched["isActive"] is False
    assert fetched["userSubAccountNames"] == ["EU"]


def test_password_is_hashed_with_argon2_and_never_returned(client, headers, db):
    r = put(client, headers, identifier="u-1", password="correct horse battery staple")
    assert "password" not in r.json()
    assert "correct horse" not in r.text
    stored = db.scalar(select(User.password_hash).where(User.external_id == "u-1"))
    assert stored.startswith("$argon2id$")


def test_unknown_fields_are_ignored(client, headers):
    r = put(client, headers, identifier="u-1", favouriteColour="blue", nested={"x": 1})
    assert r.status_code == 201


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"possibleRoles": ["WIZARD"]}, "possibleRoles"),
        ({"isActive": "maybe"}, "isActive"),
        ({"identifier": "x" * 256}, "identifier"),
        ({"identifier": ""}, "identifier"),
        ({"firstName": 12}, "firstName"),
    ],
    ids=["email", "role", "bool", "long-id", "empty-id", "type"],
)
def test_invalid_input_is_400_naming_the_field(client, headers, fields, named):
    body = {"identifier": "u-1", **fields}
    r = client.put("/api/v2/users", json=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    assert named in r.json()["error_description"]


def test_missing_identifier_and_malformed_json_are_400(client, headers):
    r = client.put("/api/v2/users", json={"email": "a@example.com"}, headers=headers)
    assert r.status_code == 400 and "identifier" in r.json()["error_description"]
    r = client.put(
        "/api/v2/users", content=b'{"identifier": ', headers={**headers, "Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "JSON" in r.json()["error_description"]


def test_username_is_unique_per_account_whatever_its_case(client, headers, auth, db):
    assert put(client, headers, identifier="u-1", username="Ana.Souza").status_code == 201
    r = put(client, headers, identifier="u-2", username="ana.souza")
    assert (r.status_code, r.json()["error"]) == (409, "item_exists")
    assert put(client, headers, identifier="u-1", username="ANA.SOUZA").status_code == 200
    from tests import factories

    other = auth(factories.make_account(db))
    assert put(client, other, identifier="u-9", username="ana.souza").status_code == 201


def test_the_creation_answers_what_a_read_back_answers(client, headers):
    for identifier, sub in (("u-1", "EU"), ("u-2", None)):
        r = put(client, headers, identifier=identifier, subAccountName=sub, customAttributes={"a": 1})
        assert r.status_code == 201
        assert r.json() == client.get(f"/api/v2/users/{identifier}", headers=headers).json()
    assert r.json()["userSubAccountNames"] == []


def test_an_update_may_not_take_another_users_username(client, headers):
    assert put(client, headers, identifier="u-1", username="ana").status_code == 201
    assert put(client, headers, identifier="u-2", username="bia").status_code == 201
    r = put(client, headers, identifier="u-2", username="ANA", firstName="Bia")
    assert (r.status_code, r.json()["error"]) == (409, "item_exists")
    assert client.get("/api/v2/users/u-2", headers=headers).json()["username"] == "bia"
    assert put(client, headers, identifier="u-2", firstName="Bia").status_code == 200


def test_sub_account_name_adds_and_unknown_is_400(client, headers):
    put(client, headers, identifier="u-1", subAccountName="EU")
    body = put(client, headers, identifier="u-1", subAccountName="US").json()
    assert body["userSubAccountNames"] == ["EU", "US"]
    r = put(client, headers, identifier="u-1", subAccountName="Mars")
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    assert "Mars" in r.json()["error_description"]


def test_get_user_by_identifier_and_sub_account(client, headers):
    put(client, headers, identifier="u-1", subAccountName="EU")
    assert client.get("/api/v2/users/u-1", headers=headers).status_code == 200
    assert (
        client.get("/api/v2/users/u-1", params={"subAccountName": "EU"}, headers=headers).status_code == 200
    )
    r = client.get("/api/v2/users/u-1", params={"subAccountName": "US"}, headers=headers)
    assert (r.status_code, r.json()["error"]) == (404, "not_found")
    r = client.get("/api/v2/users/u-1", params={"subAccountName": "Mars"}, headers=headers)
    assert r.status_code == 400
    r = client.get("/api/v2/users/U-1", headers=headers)
    assert r.status_code == 404, "identifiers are case-sensitive"
    r = client.get("/api/v2/users/" + "x" * 256, headers=headers)
    assert r.status_code == 400


def test_identifiers_with_reserved_url_characters(client, headers):
    identifier = "ana souza#ä+1@example?x=1"
    assert put(client, headers, identifier=identifier).status_code == 201
    from urllib.parse import quote

    r = client.get("/api/v2/users/" + quote(identifier, safe=""), headers=headers)
    assert r.status_code == 200 and r.json()["identifier"] == identifier


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [u["identifier"] for u in response.json()]


def test_find_users_filters_case_insensitively_and_answers_a_bare_array(client, headers):
    put(
        client,
        headers,
        identifier="a",
        email="Ana.Souza@Acme.com",
        firstName="Ana",
        lastName="Souza",
        username="asouza",
    )
    put(
        client,
        headers,
        identifier="b",
        email="bruno@other.org",
        firstName="Bruno",
        lastName="Sousa",
        username="bs",
    )
    put(
        client,
        headers,
        identifier="c",
        email="carla@acme.com",
        firstName="Carla",
        lastName="Ölund",
        subAccountName="EU",
    )
    find = lambda **params: client.get("/api/v2/users", params=params, headers=headers)  # noqa: E731
    assert _ids(find()) == ["a", "b", "c"]
    assert _ids(find(emailSubstring="@ACME")) == ["a", "c"]
    assert _ids(find(firstNameSubstring="an")) == ["a"]
    assert _ids(find(lastNameSubstring="so")) == ["a", "b"]
    assert _ids(find(lastNameSubstring="ölu")) == ["c"]
    assert _ids(find(usernameSubstring="SOU")) == ["a"]
    assert _ids(find(identifier="b")) == ["b"]
    assert _ids(find(subAccountName="EU")) == ["c"]
    assert _ids(find(emailSubstring="acme", lastNameSubstring="souza")) == ["a"]
    assert _ids(find(emailSubstring="%")) == []
    assert _ids(find(emailSubstring="_")) == []
    # PostgreSQL's LIKE takes "\" as its escape character unless told another: "s\o" would find "so".
    assert _ids(find(lastNameSubstring="s\\o")) == []
    assert _ids(find(lastNameSubstring="\\")) == []
    assert find(subAccountName="Mars").status_code == 400
    put(client, headers, identifier="d", firstName="50%_off", lastName="Back\\slash")
    for text in ("\\", "k\\s", "ck\\sl", "%", "0%_", "%_o", "_"):
        column = "lastNameSubstring" if "\\" in text else "firstNameSubstring"
        assert _ids(find(**{column: text})) == ["d"], text


def test_find_users_start_and_limit(client, headers):
    for i in range(7):
        put(client, headers, identifier=f"u{i}")
    assert _ids(client.get("/api/v2/users", params={"start": 2, "limit": 3}, headers=headers)) == [
        "u2",
        "u3",
        "u4",
    ]
    assert _ids(client.get("/api/v2/users", params={"start": 6}, headers=headers)) == ["u6"]
    assert _ids(client.get("/api/v2/users", params={"start": 50}, headers=headers)) == []
    for bad in ({"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"start": -1}):
        r = client.get("/api/v2/users", params=bad, headers=headers)
        assert r.status_code == 400, bad
        assert next(iter(bad)) in r.json()["error_description"]
    assert client.get("/api/v2/users", params={"limit": 200}, headers=headers).status_code == 200


def test_default_limit_is_50(client, headers, db, account):
    db.add_all(
        User(account_id=account.id, external_id=f"u{i:03}", possible_roles=["LEARNER"]) for i in range(55)
    )
    db.flush()
    assert len(client.get("/api/v2/users", headers=headers).json()) == 50


def test_update_status(client, headers):
    put(client, headers, identifier="u-1")
    r = client.put("/api/v2/users/u-1", params={"isActive": "false"}, headers=headers)
    assert r.status_code == 200 and r.json()["isActive"] is False
    r = client.put("/api/v2/users/u-1", headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["isActive"] is True, "isActive defaults to true"
    assert client.put("/api/v2/users/ghost", params={"isActive": "false"}, headers=headers).status_code == 404
    assert client.put("/api/v2/users/u-1", params={"isActive": "perhaps"}, headers=headers).status_code == 400


def test_delete_user(client, headers):
    put(client, headers, identifier="u-1")
    r = client.request("DELETE", "/api/v2/users/u-1", json={"subAccountName": "EU"}, headers=headers)
    assert r.status_code == 200 and r.content == b""
    assert client.get("/api/v2/users/u-1", headers=headers).status_code == 404
    assert client.delete("/api/v2/users/u-1", headers=headers).status_code == 404


def test_remove_user_from_sub_account(client, headers):
    put(client, headers, identifier="u-1", subAccountName="EU")
    put(client, headers, identifier="u-1", subAccountName="US")
    r = client.delete("/api/v2/users/u-1/subAccountName/EU", headers=headers)
    assert r.status_code == 200
    assert client.get("/api/v2/users/u-1", headers=headers).json()["userSubAccountNames"] == ["US"]
    assert client.delete("/api/v2/users/ghost/subAccountName/EU", headers=headers).status_code == 404
    assert client.delete("/api/v2/users/u-1/subAccountName/Mars", headers=headers).status_code == 400


def test_identity_management(client, headers):
    put(client, headers, identifier="old", subAccountName="EU", firstName="Ana")
    put(client, headers, identifier="taken")
    change = lambda cur, new: client.put(  # noqa: E731
        "/api/v2/users/identityManagement",
        json={"currentUserIdentifier": cur, "newUserIdentifier": new},
        headers=headers,
    )
    r = change("old", "new")
    assert r.status_code == 200 and r.json()["identifier"] == "new"
    fetched = client.get("/api/v2/users/new", headers=headers).json()
    assert (fetched["firstName"], fetched["userSubAccountNames"]) == ("Ana", ["EU"])
    assert client.get("/api/v2/users/old", headers=headers).status_code == 404
    assert change("ghost", "x").status_code == 404
    r = change("new", "taken")
    assert (r.status_code, r.json()["error"]) == (409, "item_exists")
    assert change("new", "new").status_code == 200
    assert change("new", "").status_code == 400


def test_permissions_need_the_instructor_role_and_replace_the_set(client, headers):
    put(client, headers, identifier="learner")
    put(client, headers, identifier="teacher", possibleRoles=["INSTRUCTOR"])
    url = "/api/v2/users/{}/permissions"
    r = client.put(url.format("learner"), json={"permissions": ["INSTRUCTOR_CREATE_COURSE"]}, headers=headers)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
    both = ["INSTRUCTOR_CREATE_COURSE", "INSTRUCTOR_CREATE_COURSE_INSTANCE"]
    r = client.put(url.format("teacher"), json={"permissions": both}, headers=headers)
    assert r.status_code == 200 and sorted(r.json()["permissions"]) == both
    client.put(url.format("teacher"), json={"permissions": ["INSTRUCTOR_CREATE_COURSE"]}, headers=headers)
    r = client.get(url.format("teacher"), headers=headers)
    assert r.json() == {"permissions": ["INSTRUCTOR_CREATE_COURSE"]}
    assert client.put(url.format("ghost"), json={"permissions": []}, headers=headers).status_code == 404
    assert client.get(url.format("ghost"), headers=headers).status_code == 404
    r = client.put(url.format("teacher"), json={"permissions": ["FLY"]}, headers=headers)
    assert r.status_code == 400


def test_other_accounts_users_are_not_found(client, headers, auth, db):
    from tests import factories

    put(client, headers, identifier="u-1", email="a@example.com")
    other = auth(factories.make_account(db, sub_accounts=["EU"]))
    assert client.get("/api/v2/users/u-1", headers=other).status_code == 404
    assert client.get("/api/v2/users", headers=other).json() == []
    assert client.put("/api/v2/users/u-1", params={"isActive": "false"}, headers=other).status_code == 404
    assert client.delete("/api/v2/users/u-1", headers=other).status_code == 404
    ident = {"currentUserIdentifier": "u-1", "newUserIdentifier": "u-2"}
    assert client.put("/api/v2/users/identityManagement", json=ident, headers=other).status_code == 404
    assert client.get("/api/v2/users/u-1", headers=headers).json()["isActive"] is True
    # The same identifier is free in the other account.
    assert put(client, other, identifier="u-1").status_code == 201
