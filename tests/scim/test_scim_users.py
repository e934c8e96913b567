"""SCIM Users (RFC 7644 3): create, read, replace, patch, delete, lists, versions and errors."""

from __future__ import annotations

from tests.scim.conftest import ENTERPRISE_URN, SCIM, assert_error, patch, user


def create(client, scim, body):
    response = client.post("/scim/v2/Users", json=body, headers=scim)
    assert response.status_code == 201, response.text
    return response.json()


def test_create_answers_201_with_location_etag_and_the_resource(client, scim):
    body = user("ana@example.com", externalId="ext-1", displayName="Ana S.", title="Engineer")
    body["schemas"].append(ENTERPRISE_URN)
    body[ENTERPRISE_URN] = {"department": "Sales", "manager": {"value": "boss-1"}}
    response = client.post("/scim/v2/Users", json=body, headers=scim)
    assert response.status_code == 201, response.text
    assert response.headers["content-type"].startswith(SCIM)
    created = response.json()
    assert created["id"] == "ext-1", "the externalId is the identifier when it is free"
    assert response.headers["Location"] == created["meta"]["location"]
    assert created["meta"]["location"].endswith("/scim/v2/Users/ext-1")
    assert response.headers["ETag"] == created["meta"]["version"]
    assert created["meta"]["version"].startswith('W/"')
    assert created["meta"]["resourceType"] == "User"
    assert created["userName"] == "ana@example.com"
    assert created["name"] == {"givenName": "Ana", "familyName": "Souza"}
    assert created["displayName"] == "Ana S." and created["title"] == "Engineer"
    assert created[ENTERPRISE_URN] == {"department": "Sales", "manager": {"value": "boss-1"}}
    assert created["emails"] == [{"value": "ana@example.com", "type": "work", "primary": True}]
    assert "password" not in created
    fetched = client.get("/scim/v2/Users/ext-1", headers=scim)
    assert fetched.status_code == 200 and fetched.json() == created


def test_externalid_taken_as_identifier_gives_a_new_uuid(client, scim):
    create(client, scim, user("first@example.com", externalId="same"))
    second = create(client, scim, user("second@example.com", externalId="same"))
    assert second["id"] != "same" and len(second["id"]) == 36
    assert second["externalId"] == "same"


def test_duplicate_username_is_409_uniqueness_whatever_the_case(client, scim):
    create(client, scim, user("dup@example.com"))
    assert_error(client.post("/scim/v2/Users", json=user("DUP@example.com"), headers=scim), 409, "uniqueness")


def test_missing_username_is_400(client, scim):
    body = user("x@example.com")
    del body["userName"]
    assert_error(client.post("/scim/v2/Users", json=body, headers=scim), 400, "invalidValue")


def test_unknown_user_is_a_scim_404(client, scim):
    assert_error(client.get("/scim/v2/Users/no-such-user", headers=scim), 404)


def test_put_replaces_and_ignores_unknown_attributes(client, scim):
    created = create(client, scim, user("put@example.com", title="Old", displayName="Shown"))
    body = user("put@example.com", title="New", nickName="ignored", someVendorThing={"a": 1})
    body["name"] = {"givenName": "Bia"}
    response = client.put(f"/scim/v2/Users/{created['id']}", json=body, headers=scim)
    assert response.status_code == 200, response.text
    replaced = response.json()
    assert replaced["title"] == "New"
    assert "displayName" not in replaced, "a replacement clears what it leaves out"
    assert replaced["name"] == {"givenName": "Bia"}
    assert "nickName" not in replaced and "someVendorThing" not in replaced


def test_if_match_with_a_stale_version_is_412(client, scim):
    created = create(client, scim, user("etag@example.com"))
    path = f"/scim/v2/Users/{created['id']}"
    stale = 'W/"1"'
    changed = patch({"op": "replace", "path": "title", "value": "x"})
    assert_error(client.patch(path, json=changed, headers={**scim, "If-Match": stale}), 412)
    assert_error(client.put(path, json=user("etag@example.com"), headers={**scim, "If-Match": stale}), 412)
    assert_error(client.delete(path, headers={**scim, "If-Match": stale}), 412)
    current = client.get(path, headers=scim).headers["ETag"]
    response = client.patch(path, json=changed, headers={**scim, "If-Match": current})
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["version"] != current, "a change makes a new version"


def test_patch_with_path_value_path_and_no_path(client, scim):
    created = create(client, scim, user("patch@example.com"))
    path = f"/scim/v2/Users/{created['id']}"
    ops = patch(
        {"op": "replace", "path": "name.familyName", "value": "Lima"},
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@example.com"},
        {"op": "add", "value": {"title": "Boss", "displayName": "The Boss"}},
    )
    response = client.patch(path, json=ops, headers=scim)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["name"]["familyName"] == "Lima"
    assert patched["emails"][0]["value"] == "new@example.com"
    assert patched["title"] == "Boss" and patched["displayName"] == "The Boss"
    removed = client.patch(path, json=patch({"op": "remove", "path": "title"}), headers=scim)
    assert "title" not in removed.json()


def test_delete_answers_204_then_404(client, scim):
    created = create(client, scim, user("gone@example.com"))
    response = client.delete(f"/scim/v2/Users/{created['id']}", headers=scim)
    assert response.status_code == 204 and response.content == b""
    assert_error(client.get(f"/scim/v2/Users/{created['id']}", headers=scim), 404)


def test_list_pages_with_start_index_and_count(client, scim):
    for n in range(5):
        create(client, scim, user(f"page{n}@example.com"))
    response = client.get("/scim/v2/Users", params={"startIndex": 2, "count": 2}, headers=scim)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    assert page["totalResults"] == 5 and page["itemsPerPage"] == 2 and page["startIndex"] == 2
    assert [u["userName"] for u in page["Resources"]] == ["page1@example.com", "page2@example.com"]
    beyond = client.get("/scim/v2/Users", params={"startIndex": 9}, headers=scim).json()
    assert beyond["totalResults"] == 5 and beyond["Resources"] == []
    counted = client.get("/scim/v2/Users", params={"count": 0}, headers=scim).json()
    assert counted["totalResults"] == 5 and counted["itemsPerPage"] == 0


def test_sort_by_and_sort_order(client, scim):
    for name in ("b@example.com", "c@example.com", "a@example.com"):
        create(client, scim, user(name))
    params = {"sortBy": "userName", "sortOrder": "descending"}
    page = client.get("/scim/v2/Users", params=params, headers=scim).json()
    assert [u["userName"] for u in page["Resources"]] == ["c@example.com", "b@example.com", "a@example.com"]


def test_filters(client, scim):
    create(client, scim, user("f1@example.com", externalId="e1", displayName="First"))
    create(client, scim, user("f2@example.com", externalId="e2", active=False))
    create(client, scim, user("other@example.com", name={"givenName": "Zed", "familyName": "Z"}))

    def names(expression):
        response = client.get("/scim/v2/Users", params={"filter": expression}, headers=scim)
        assert response.status_code == 200, response.text
        return sorted(u["userName"] for u in response.json()["Resources"])

    assert names('userName eq "F1@EXAMPLE.COM"') == ["f1@example.com"]
    assert names('externalId eq "e2"') == ["f2@example.com"]
    assert names('id eq "e1"') == ["f1@example.com"]
    assert names('displayName eq "First"') == ["f1@example.com"]
    assert names("active eq false") == ["f2@example.com"]
    assert names('name.givenName eq "Zed"') == ["other@example.com"]
    assert names('name.familyName sw "Sou" and not (userName co "2")') == ["f1@example.com"]
    assert names('emails.value ew "2@example.com" or userName eq "other@example.com"') == [
        "f2@example.com",
        "other@example.com",
    ]
    assert names('emails[type eq "work" and value co "f1"]') == ["f1@example.com"]
    assert names("title pr") == []
    assert names('meta.created gt "2000-01-01T00:00:00Z"') == [
        "f1@example.com",
        "f2@example.com",
        "other@example.com",
    ]
    assert names('meta.lastModified lt "2000-01-01T00:00:00Z"') == []


def test_bad_filters_are_400_invalid_filter(client, scim):
    for expression in ('userName eq "unterminated', "noSuchAttribute eq 1", "userName zz 1"):
        response = client.get("/scim/v2/Users", params={"filter": expression}, headers=scim)
        assert_error(response, 400, "invalidFilter")


def test_search_by_post(client, scim):
    create(client, scim, user("searched@example.com"))
    create(client, scim, user("other2@example.com"))
    body = {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName eq "searched@example.com"',
        "attributes": ["userName"],
        "startIndex": 1,
        "count": 10,
    }
    response = client.post("/scim/v2/Users/.search", json=body, headers=scim)
    assert response.status_code == 200, response.text
    found = response.json()
    assert found["totalResults"] == 1
    assert {"id", "userName"} <= set(found["Resources"][0]) <= {"id", "userName", "schemas", "meta"}


def test_attributes_and_excluded_attributes(client, scim):
    created = create(client, scim, user("proj@example.com", title="T"))
    path = f"/scim/v2/Users/{created['id']}"
    only = client.get(path, params={"attributes": "userName,name.givenName"}, headers=scim).json()
    assert only["userName"] == "proj@example.com" and only["name"] == {"givenName": "Ana"}
    assert "title" not in only and only["id"] == created["id"]
    without = client.get(path, params={"excludedAttributes": "title,emails"}, headers=scim).json()
    assert "title" not in without and "emails" not in without and without["userName"]


def test_application_json_is_accepted_and_other_media_types_are_415(client, scim):
    headers = {**scim, "Content-Type": "application/json"}
    assert client.post("/scim/v2/Users", json=user("json@example.com"), headers=headers).status_code == 201
    text = {**scim, "Content-Type": "text/plain"}
    response = client.post("/scim/v2/Users", content=b"{}", headers=text)
    assert_error(response, 415)


def test_malformed_json_is_400_invalid_syntax(client, scim):
    response = client.post("/scim/v2/Users", content=b"{not json", headers=scim)
    assert_error(response, 400, "invalidSyntax")


def test_unknown_path_and_method_are_scim_errors(client, scim):
    assert_error(client.get("/scim/v2/Nothing", headers=scim), 404)
    assert_error(client.patch("/scim/v2/ServiceProviderConfig", json={}, headers=scim), 405)


def test_password_is_stored_hashed_and_never_returned(client, scim, db):
    from sqlalchemy import select

    from enabley.models import User

    created = create(client, scim, user("pw@example.com", password="s3cret-Pass"))
    assert "password" not in created
    stored = db.scalar(select(User.password_hash).where(User.external_id == created["id"]))
    assert stored and stored.startswith("$argon2") and "s3cret" not in stored


def test_pages_past_the_skip_anchors_are_the_offsets_pages(client, scim, monkeypatch):
    from enabley.scim import skipping

    monkeypatch.setattr(skipping, "STRIDE", 3)
    # Ids come back after a test's rollback: anchors of an earlier test's account must not be met.
    monkeypatch.setattr(skipping, "_ANCHORS", {})
    ids = [create(client, scim, user(f"anchor{n}@example.com"))["id"] for n in range(8)]

    def page(start):
        response = client.get("/scim/v2/Users", params={"startIndex": start, "count": 2}, headers=scim)
        assert response.status_code == 200, response.text
        return [u["id"] for u in response.json()["Resources"]]

    assert [page(start) for start in (4, 7, 8)] == [ids[3:5], ids[6:8], ids[7:8]]
    # A deletion before an anchor moves every later position: the anchors are found again.
    assert client.delete(f"/scim/v2/Users/{ids[1]}", headers=scim).status_code == 204
    rest = ids[:1] + ids[2:]
    assert [page(start) for start in (4, 6)] == [rest[3:5], rest[5:7]]
    created = create(client, scim, user("anchor-new@example.com"))["id"]
    assert page(7) == [*rest[6:], created]
