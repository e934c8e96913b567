"""A refused upload writes nothing and names every bad row: file, line, column and why."""

from __future__ import annotations

from enabley.uploads.schemas import MAX_LISTED_ERRORS
from tests.uploads.helpers import (
    URL,
    age_everything,
    get_user,
    json_headers,
    make_profile,
    ok,
    put_group,
    put_user,
    refused,
    set_hierarchy,
    snapshot,
    to_csv,
    upload,
)


def test_a_bad_row_anywhere_writes_nothing(client, headers, db, account):
    put_group(client, headers, "kept", name="Kept")
    put_user(client, headers, identifier="old", firstName="Old")
    age_everything(db, account)
    before = snapshot(db, account)
    groups = to_csv(["identifier", "name"], ["kept", "Renamed"], ["new-group", "New"])
    good = [[f"u-{i}", f"First {i}", "new-group"] for i in range(50)]
    users = to_csv(
        ["identifier", "firstName", "groups"], ["old", "Changed", "kept"], *good, ["bad", "x" * 256, ""]
    )
    assert refused(upload(client, headers, groups=groups, users=users)) == [("users.csv", 53, "firstName")]
    assert snapshot(db, account) == before
    assert get_user(client, headers, "old")["firstName"] == "Old"


def test_every_bad_row_of_both_files_is_listed_with_file_line_and_column(client, headers):
    set_hierarchy(client, headers, ["Region", "Country"])
    put_user(client, headers, identifier="holder", username="taken")
    make_profile(client, headers, "p")
    groups = to_csv(
        ["identifier", "name", "parentIdentifier", "type", "subAccountName"],
        ["ok", "Fine", "", "Region", ""],  # 2
        ["no-type", "Bad type", "ok", "City", ""],  # 3
        ["orphan", "Orphan", "nowhere", "", ""],  # 4
        ["self", "Self", "self", "", ""],  # 5
        ["nameless", "", "", "", ""],  # 6
        ["sub", "Sub", "", "", "Mars"],  # 7
        ["ok", "Twice", "", "", ""],  # 8
        ["i" * 256, "Long id", "", "", ""],  # 9
    )
    users = to_csv(
        [
            "identifier",
            "email",
            "firstName",
            "username",
            "possibleRoles",
            "subAccountName",
            "groups",
            "profiles",
            "isActive",
        ],
        ["u-1", "not-an-email", "Ana", "", "", "", "", "", ""],  # 2
        ["u-2", "", "", "", "LEARNER;KING", "", "", "", ""],  # 3
        ["u-3", "", "", "", "", "Atlantis", "", "", ""],  # 4
        ["u-4", "", "", "", "", "", "ok;missing", "", ""],  # 5
        ["u-5", "", "", "", "", "", "", "p;nope", ""],  # 6
        ["u-6", "", "", "Taken", "", "", "", "", ""],  # 7
        ["u-7", "", "", "dup", "", "", "", "", ""],  # 8
        ["u-8", "", "", "DUP", "", "", "", "", ""],  # 9
        ["u-1", "", "", "", "", "", "", "", ""],  # 10
        ["u-9", "", "", "", "", "", "", "", "maybe"],  # 11
        ["", "", "", "", "", "", "", "", "true"],  # 12
    )
    r = upload(client, headers, groups=groups, users=users)
    assert refused(r) == [
        ("groups.csv", 3, "type"),
        ("groups.csv", 4, "parentIdentifier"),
        ("groups.csv", 5, "parentIdentifier"),
        ("groups.csv", 6, "name"),
        ("groups.csv", 7, "subAccountName"),
        ("groups.csv", 8, "identifier"),
        ("groups.csv", 9, "identifier"),
        ("users.csv", 2, "email"),
        ("users.csv", 3, "possibleRoles"),
        ("users.csv", 4, "subAccountName"),
        ("users.csv", 5, "groups"),
        ("users.csv", 6, "profiles"),
        ("users.csv", 7, "username"),
        ("users.csv", 9, "username"),
        ("users.csv", 10, "identifier"),
        ("users.csv", 11, "isActive"),
        ("users.csv", 12, "identifier"),
    ]
    data = r.json()
    assert data["moreErrors"] == 0
    assert data["error_description"].startswith("17 bad rows")
    messages = {(e["file"], e["line"]): e["message"] for e in data["errors"]}
    assert "'City'" in messages[("groups.csv", 3)] and "hierarchy" in messages[("groups.csv", 3)]
    assert messages[("groups.csv", 4)] == "Parent group 'nowhere' not found"
    assert messages[("groups.csv", 8)] == "Duplicate identifier 'ok': already on line 2"
    assert "'KING'" in messages[("users.csv", 3)]
    assert messages[("users.csv", 5)] == "Group 'missing' not found"
    assert messages[("users.csv", 6)] == "User profile 'nope' not found"
    assert messages[("users.csv", 7)] == "Username 'Taken' is already taken by 'holder'"
    assert messages[("users.csv", 9)] == "Username 'DUP' is also given to 'u-7' on line 8"


def test_the_list_is_capped_and_says_how_many_more(client, headers):
    rows = [[f"u-{i}", "not-an-email"] for i in range(MAX_LISTED_ERRORS + 150)]
    r = upload(client, headers, users=to_csv(["identifier", "email"], *rows))
    listed = refused(r)
    assert len(listed) == MAX_LISTED_ERRORS
    assert listed[0] == ("users.csv", 2, "email") and listed[-1] == (
        "users.csv",
        MAX_LISTED_ERRORS + 1,
        "email",
    )
    assert r.json()["moreErrors"] == 150
    assert r.json()["error_description"].startswith(f"{MAX_LISTED_ERRORS + 150} bad rows")


def test_the_cap_keeps_the_first_problems_whatever_order_they_are_found_in(client, headers):
    # Username clashes with stored users are settled after the whole file: they still sort by line.
    put_user(client, headers, identifier="holder", username="taken")
    rows = [["u-0", "taken", ""]] + [[f"u-{i}", "", "bad"] for i in range(1, MAX_LISTED_ERRORS + 10)]
    r = upload(client, headers, users=to_csv(["identifier", "username", "isActive"], *rows))
    assert refused(r)[0] == ("users.csv", 2, "username")
    assert r.json()["moreErrors"] == 10


def test_a_cycle_within_the_upload_is_refused(client, headers, db, account):
    groups = to_csv(
        ["identifier", "name", "parentIdentifier"],
        ["a", "A", "b"],
        ["b", "B", "c"],
        ["c", "C", "a"],
        ["d", "D", "a"],
    )
    r = upload(client, headers, groups=groups)
    assert refused(r) == [
        ("groups.csv", 2, "parentIdentifier"),
        ("groups.csv", 3, "parentIdentifier"),
        ("groups.csv", 4, "parentIdentifier"),
    ]
    assert r.json()["errors"][0]["message"] == "Group 'a' would be its own ancestor: a -> b -> c -> a"
    assert snapshot(db, account)["groups"] == []


def test_a_cycle_through_stored_groups_is_refused(client, headers):
    put_group(client, headers, "root")
    put_group(client, headers, "mid", parentIdentifier="root")
    put_group(client, headers, "leaf", parentIdentifier="mid")
    groups = to_csv(["identifier", "name", "parentIdentifier"], ["root", "Root", "leaf"])
    r = upload(client, headers, groups=groups)
    assert refused(r) == [("groups.csv", 2, "parentIdentifier")]
    assert (
        r.json()["errors"][0]["message"]
        == "Group 'root' would be its own ancestor: root -> leaf -> mid -> root"
    )
    # Through a new group of the same upload too.
    groups = to_csv(
        ["identifier", "name", "parentIdentifier"], ["root", "Root", "new"], ["new", "New", "leaf"]
    )
    assert refused(upload(client, headers, groups=groups)) == [
        ("groups.csv", 2, "parentIdentifier"),
        ("groups.csv", 3, "parentIdentifier"),
    ]


def test_moving_a_stored_subtree_without_a_cycle_is_fine(client, headers):
    put_group(client, headers, "root")
    put_group(client, headers, "a", parentIdentifier="root")
    put_group(client, headers, "b", parentIdentifier="root")
    ok(upload(client, headers, groups=to_csv(["identifier", "name", "parentIdentifier"], ["a", "a", "b"])))


def test_types_outside_the_hierarchy_are_refused(client, headers):
    set_hierarchy(client, headers, ["Region"])
    groups = to_csv(["identifier", "name", "type"], ["r", "R", "Region"], ["x", "X", "region"])
    assert refused(upload(client, headers, groups=groups)) == [("groups.csv", 3, "type")]


def test_usernames_are_unique_case_insensitively_within_the_upload_and_against_stored_users(client, headers):
    put_user(client, headers, identifier="holder", username="Ana")
    users = to_csv(["identifier", "username"], ["a", "bob"], ["b", "BOB"], ["c", "ana"], ["holder", "ana"])
    r = upload(client, headers, users=users)
    assert refused(r) == [("users.csv", 3, "username"), ("users.csv", 5, "username")]
    # The holder keeps its username (line 5 names it again): "c" clashes within the upload.
    assert r.json()["errors"][1]["message"] == "Username 'ana' is also given to 'c' on line 4"


def test_a_stored_username_is_free_once_its_holder_takes_another(client, headers):
    put_user(client, headers, identifier="holder", username="ana")
    ok(upload(client, headers, users=to_csv(["identifier", "username"], ["new", "ANA"], ["holder", "ana2"])))
    assert get_user(client, headers, "new")["username"] == "ANA"


def test_unknown_columns_files_and_a_file_given_twice(client, headers):
    r = upload(client, headers, users=to_csv(["identifier", "password", "nickname"], ["u", "x", "y"]))
    assert refused(r) == [("users.csv", 1, "nickname"), ("users.csv", 1, "password")]
    files = [
        {"fileName": "users.csv", "content": "identifier\nu\n"},
        {"fileName": "people.csv", "content": "identifier\nu\n"},
        {"fileName": "users.csv", "content": "identifier\nv\n"},
    ]
    r = client.post(URL, json={"files": files}, headers=headers)
    assert refused(r) == [("users.csv", None, None), ("people.csv", None, None)]
    assert "given more than once" in r.json()["errors"][0]["message"]


def test_required_columns(client, headers):
    assert refused(upload(client, headers, users=to_csv(["email"], ["a@example.com"]))) == [
        ("users.csv", 1, "identifier")
    ]
    assert refused(upload(client, headers, groups=to_csv(["identifier"], ["g"]))) == [
        ("groups.csv", 1, "name")
    ]
    assert refused(
        upload(client, headers, groups=to_csv(["identifier", "name", "name"], ["g", "a", "b"]))
    ) == [("groups.csv", 1, "name")]
    assert refused(upload(client, headers, users="")) == [("users.csv", None, None)]


def test_malformed_rows_and_csv(client, headers):
    users = 'identifier,firstName\nu-1,Ana,extra\nu-2\nu-3,"open\n'
    r = upload(client, headers, users=users)
    assert refused(r) == [("users.csv", 2, None), ("users.csv", 3, None), ("users.csv", 4, None)]
    assert r.json()["errors"][0]["message"] == "The row has 3 cells; the header has 2"
    assert r.json()["errors"][2]["message"].startswith("Malformed CSV")


def test_a_body_that_is_not_the_request_is_refused(client, headers):
    for content in (b"not json", b"[]", b'{"files": [{"fileName": "users.csv"}]}'):
        r = client.post(URL, content=content, headers={**headers, "Content-Type": "application/json"})
        assert refused(r) == [], content
    r = client.post(URL, content=b'{"files": [{"fileName": "users.csv"}]}', headers=json_headers(headers))
    assert "files.0.content" in r.json()["error_description"]


def test_an_upload_over_the_limit_is_413_and_other_bodies_keep_theirs(app_with, headers):
    client = app_with(max_upload_bytes=2048)
    small = to_csv(["identifier"], *[[f"u-{i}"] for i in range(10)])
    assert ok(upload(client, headers, users=small))["created"]["users"] == 10
    big = to_csv(["identifier"], *[[f"user-{i}"] for i in range(400)])
    r = upload(client, headers, users=big)
    assert r.status_code == 413, r.text
    assert r.json()["error"] == "invalid_request"
    # Streamed without a length, the limit holds too.
    r = client.post(URL, content=iter([b'{"files": [', b" " * 4096, b"]}"]), headers=json_headers(headers))
    assert r.status_code == 413, r.text


def test_the_limit_of_uploads_is_not_that_of_other_bodies(app_with, headers):
    client = app_with(max_upload_bytes=64 * 1024, max_body_bytes=1024)
    users = to_csv(["identifier", "address"], *[[f"u-{i}", "x" * 100] for i in range(50)])
    assert ok(upload(client, headers, users=users))["created"]["users"] == 50


def test_the_operation_is_documented(client):
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/api/v1/uploads/org"]["post"]
    assert operation["tags"] == ["Uploads"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/ExternalOrgBulkUploadRequest"}
    schemas = document["components"]["schemas"]
    assert {"ExternalOrgBulkUploadRequest", "OrgBulkDataRequest", "ExternalOrgBulkUploadResponse"} <= set(
        schemas
    )
    bad = operation["responses"]["400"]["content"]["application/json"]["schema"]
    assert bad == {"$ref": "#/components/schemas/UploadErrorResponse"}
    assert {"error", "error_description", "errors", "moreErrors"} <= set(
        schemas["UploadErrorResponse"]["properties"]
    )
    assert operation["security"] == [{"bearerAuth": []}]
