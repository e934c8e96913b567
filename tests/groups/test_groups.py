"""Groups 3.5.1 to 3.5.3 and 3.5.6: create/update, the hierarchy, lists and lookups."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from sqlalchemy import update

from enabley.models import Group
from tests.factories import counted_statements

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
GROUP_FIELDS = {"created", "identifier", "modified", "name", "parentIdentifier", "subAccountName", "type"}
LONG_AGO = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


def put(client, headers, **body):
    return client.put("/api/v1/groups", json=body, headers=headers)


def make(client, headers, identifier, **fields):
    r = put(client, headers, identifier=identifier, name=fields.pop("name", f"Group {identifier}"), **fields)
    assert r.status_code in (200, 201), r.text
    return r.json()


def set_hierarchy(client, headers, types):
    return client.put("/api/admin/v1/groups/hierarchy", json=types, headers=headers)


def ids(response):
    assert response.status_code == 200, response.text
    return [g["identifier"] for g in response.json()]


def age(db, identifier):
    """Backdate a group's modification date, so a later bump is visible whatever the clock."""
    db.execute(update(Group).where(Group.external_id == identifier).values(modified_at=LONG_AGO))


def test_create_answers_201_with_every_field(client, headers):
    r = put(client, headers, identifier="g-1", name="Sales")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == GROUP_FIELDS
    assert (body["identifier"], body["name"]) == ("g-1", "Sales")
    assert body["parentIdentifier"] is None and body["subAccountName"] is None and body["type"] is None
    assert TIMESTAMP.match(body["created"]) and TIMESTAMP.match(body["modified"])


def test_create_with_parent_sub_account_and_type(client, headers):
    make(client, headers, "root")
    r = put(
        client,
        headers,
        identifier="child",
        name="Child",
        parentIdentifier="root",
        subAccountName="EU",
        type="T",
    )
    assert r.status_code == 201, r.text
    assert (r.json()["parentIdentifier"], r.json()["subAccountName"], r.json()["type"]) == ("root", "EU", "T")


def test_update_answers_200_and_keeps_fields_the_request_leaves_out(client, headers):
    make(client, headers, "root")
    make(client, headers, "g", parentIdentifier="root", subAccountName="EU", type="Team")
    r = put(client, headers, identifier="g", name="Renamed")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["name"], body["parentIdentifier"], body["subAccountName"], body["type"]) == (
        "Renamed",
        "root",
        "EU",
        "Team",
    )


def test_explicit_null_clears(client, headers):
    make(client, headers, "root")
    make(client, headers, "g", parentIdentifier="root", subAccountName="EU", type="Team")
    r = put(client, headers, identifier="g", name="g", parentIdentifier=None, subAccountName=None, type=None)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["parentIdentifier"], body["subAccountName"], body["type"]) == (None, None, None)
    assert client.get("/api/v1/groups/g", headers=headers).json()["parentIdentifier"] is None


def test_empty_strings_in_optional_fields_mean_none(client, headers):
    r = put(client, headers, identifier="g", name="G", parentIdentifier="", subAccountName="", type=" ")
    assert r.status_code == 201, r.text
    assert (r.json()["parentIdentifier"], r.json()["subAccountName"], r.json()["type"]) == (None, None, None)


def test_modified_changes_only_when_something_changed(client, headers, db):
    make(client, headers, "root")
    make(client, headers, "g", name="G", parentIdentifier="root", type="Team")
    age(db, "g")
    same = put(client, headers, identifier="g", name="G", parentIdentifier="root", type="Team")
    assert same.status_code == 200 and same.json()["modified"] == "2020-01-02T03:04:05.000Z"
    renamed = put(client, headers, identifier="g", name="G2")
    assert renamed.json()["modified"] != "2020-01-02T03:04:05.000Z"
    age(db, "g")
    moved = put(client, headers, identifier="g", name="G2", parentIdentifier=None)
    assert moved.json()["modified"] != "2020-01-02T03:04:05.000Z"
    assert moved.json()["created"] == renamed.json()["created"]


def test_names_in_any_script_and_uuid_identifiers_round_trip(client, headers):
    names = ["São Paulo", "—", "東京都", "Κρήτη", "مصر", "🏢 HQ"]
    identifiers = [str(uuid.uuid4()) for _ in names]
    parent = None
    for identifier, name in zip(identifiers, names, strict=True):
        body = make(client, headers, identifier, name=name, parentIdentifier=parent)
        assert (body["identifier"], body["name"], body["parentIdentifier"]) == (identifier, name, parent)
        parent = identifier
    r = client.get(f"/api/v1/groups/{identifiers[0]}", headers=headers)
    assert r.status_code == 200 and r.json()["name"] == "São Paulo"
    listed = client.get("/api/v1/groups/list", headers=headers).json()
    assert [g["name"] for g in listed] == names


def test_identifier_in_any_script_and_with_reserved_url_characters(client, headers):
    identifier = "grupo são paulo#1+ä?x=1"
    make(client, headers, identifier, name="São Paulo")
    r = client.get("/api/v1/groups/" + quote(identifier, safe=""), headers=headers)
    assert r.status_code == 200 and r.json()["identifier"] == identifier


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"name": "No identifier"}, "identifier"),
        ({"identifier": "g"}, "name"),
        ({"identifier": "g", "name": ""}, "name"),
        ({"identifier": "g", "name": "   "}, "name"),
        ({"identifier": "", "name": "G"}, "identifier"),
        ({"identifier": "x" * 256, "name": "G"}, "identifier"),
        ({"identifier": "g", "name": "n" * 256}, "name"),
        ({"identifier": "g", "name": "G", "type": "t" * 256}, "type"),
        ({"identifier": "g", "name": "G", "parentIdentifier": 5}, "parentIdentifier"),
    ],
)
def test_invalid_input_is_400_naming_the_field(client, headers, body, named):
    r = client.put("/api/v1/groups", json=body, headers=headers)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "invalid_request"
    assert named in r.json()["error_description"]


def test_unknown_fields_are_ignored(client, headers):
    r = put(client, headers, identifier="g", name="G", color="blue")
    assert r.status_code == 201 and "color" not in r.json()


def test_missing_parent_is_400_naming_it(client, headers):
    r = put(client, headers, identifier="g", name="G", parentIdentifier="nowhere")
    assert r.status_code == 400
    assert "'nowhere'" in r.json()["error_description"]
    assert client.get("/api/v1/groups/g", headers=headers).status_code == 404


def test_a_group_cannot_be_its_own_parent(client, headers):
    r = put(client, headers, identifier="g", name="G", parentIdentifier="g")
    assert r.status_code == 400, "not even when it is being created"
    make(client, headers, "g")
    r = put(client, headers, identifier="g", name="G", parentIdentifier="g")
    assert r.status_code == 400
    assert client.get("/api/v1/groups/g", headers=headers).json()["parentIdentifier"] is None


def test_a_group_cannot_become_its_own_ancestor(client, headers):
    make(client, headers, "a")
    make(client, headers, "b", parentIdentifier="a")
    make(client, headers, "c", parentIdentifier="b")
    for descendant in ("b", "c"):
        r = put(client, headers, identifier="a", name="A", parentIdentifier=descendant)
        assert r.status_code == 400, r.text
        assert "cycle" in r.json()["error_description"] or "descendant" in r.json()["error_description"]
    assert client.get("/api/v1/groups/a", headers=headers).json()["parentIdentifier"] is None


def test_re_parenting_elsewhere_in_the_tree_is_allowed(client, headers):
    make(client, headers, "a")
    make(client, headers, "b", parentIdentifier="a")
    make(client, headers, "c", parentIdentifier="b")
    make(client, headers, "d")
    assert make(client, headers, "b", parentIdentifier="d")["parentIdentifier"] == "d"
    assert make(client, headers, "a", parentIdentifier="c")["parentIdentifier"] == "c", (
        "a is no longer above c"
    )


def test_unknown_sub_account_is_400(client, headers):
    r = put(client, headers, identifier="g", name="G", subAccountName="Mars")
    assert r.status_code == 400 and "'Mars'" in r.json()["error_description"]


def test_without_a_hierarchy_any_type_is_accepted(client, headers):
    assert client.get("/api/v1/groups/hierarchy", headers=headers).json() == []
    assert make(client, headers, "g", type="Anything at all")["type"] == "Anything at all"


def test_with_a_hierarchy_the_type_must_be_one_of_it(client, headers):
    assert set_hierarchy(client, headers, ["Region", "País", "City"]).json() == ["Region", "País", "City"]
    assert make(client, headers, "br", type="País")["type"] == "País"
    r = put(client, headers, identifier="x", name="X", type="Planet")
    assert r.status_code == 400 and "'Planet'" in r.json()["error_description"]
    r = put(client, headers, identifier="br", name="Brasil", type="region")
    assert r.status_code == 400, "types are compared exactly"
    assert make(client, headers, "untyped")["type"] is None, "a group may have no type"
    assert make(client, headers, "br", name="Brasil")["type"] == "País", "an omitted type is kept"


def test_hierarchy_read_back_and_admin_replace(client, headers):
    r = set_hierarchy(client, headers, ["Region", "Country"])
    assert r.status_code == 200 and r.json() == ["Region", "Country"]
    r = client.get("/api/v1/groups/hierarchy", headers=headers)
    assert r.status_code == 200 and r.json() == ["Region", "Country"]
    assert set_hierarchy(client, headers, []).json() == []
    assert client.get("/api/v1/groups/hierarchy", headers=headers).json() == []


@pytest.mark.parametrize(
    "types",
    [["Region", "Region"], ["Region", ""], ["  "], "Region", {"types": ["Region"]}, ["t" * 256], ["x"] * 101],
)
def test_invalid_hierarchy_is_400(client, headers, types):
    r = set_hierarchy(client, headers, types)
    assert r.status_code == 400, r.text
    assert client.get("/api/v1/groups/hierarchy", headers=headers).json() == []


def test_hierarchy_must_keep_the_types_groups_use(client, headers):
    set_hierarchy(client, headers, ["Region", "Country"])
    make(client, headers, "g", type="Country")
    r = set_hierarchy(client, headers, ["Region"])
    assert r.status_code == 400 and "'Country'" in r.json()["error_description"]
    assert client.get("/api/v1/groups/hierarchy", headers=headers).json() == ["Region", "Country"]


def test_get_groups_lists_all_in_creation_order_or_one_sub_account(client, headers):
    make(client, headers, "b-eu", subAccountName="EU")
    make(client, headers, "a-none")
    make(client, headers, "c-us", subAccountName="US")
    make(client, headers, "d-eu", subAccountName="EU", parentIdentifier="b-eu")
    assert ids(client.get("/api/v1/groups/list", headers=headers)) == ["b-eu", "a-none", "c-us", "d-eu"]
    r = client.get("/api/v1/groups/list", params={"subAccountName": "EU"}, headers=headers)
    assert ids(r) == ["b-eu", "d-eu"]
    assert r.json()[1]["parentIdentifier"] == "b-eu" and r.json()[1]["subAccountName"] == "EU"
    r = client.get("/api/v1/groups/list", params={"subAccountName": "Mars"}, headers=headers)
    assert r.status_code == 400


def test_get_groups_is_empty_for_a_new_account(client, headers):
    assert ids(client.get("/api/v1/groups/list", headers=headers)) == []


def test_get_groups_runs_a_fixed_number_of_statements(client, headers, engine):
    make(client, headers, "root", subAccountName="EU")
    make(client, headers, "one", parentIdentifier="root", subAccountName="US")
    with counted_statements(engine) as few:
        assert len(ids(client.get("/api/v1/groups/list", headers=headers))) == 2
    for n in range(8):
        make(client, headers, f"more-{n}", parentIdentifier="one", subAccountName="EU")
    with counted_statements(engine) as many:
        assert len(ids(client.get("/api/v1/groups/list", headers=headers))) == 10
    assert len(many) == len(few)


def test_find_group(client, headers):
    make(client, headers, "root")
    make(client, headers, "g", name="G", parentIdentifier="root", subAccountName="EU", type="Team")
    r = client.get("/api/v1/groups/g", headers=headers)
    assert r.status_code == 200
    assert r.json()["name"] == "G" and r.json()["parentIdentifier"] == "root"
    assert client.get("/api/v1/groups/g", params={"subAccountName": "EU"}, headers=headers).status_code == 200
    assert client.get("/api/v1/groups/g", params={"subAccountName": "US"}, headers=headers).status_code == 404
    assert (
        client.get("/api/v1/groups/root", params={"subAccountName": "EU"}, headers=headers).status_code == 404
    )
    assert (
        client.get("/api/v1/groups/g", params={"subAccountName": "Mars"}, headers=headers).status_code == 400
    )
    r = client.get("/api/v1/groups/G", headers=headers)
    assert r.status_code == 404 and r.json()["error"] == "not_found", "identifiers are case-sensitive"
    assert "'G'" in r.json()["error_description"]


def test_unlisted_query_parameters_are_ignored(client, headers):
    make(client, headers, "g")
    assert client.get("/api/v1/groups/g", params={"foo": "bar"}, headers=headers).status_code == 200
    assert client.get("/api/v1/groups/list", params={"limit": "x"}, headers=headers).status_code == 200


def test_another_accounts_groups_are_not_found_and_identifiers_are_per_account(client, headers, auth, db):
    from tests import factories

    other = auth(factories.make_account(db, sub_accounts=["EU"]))
    set_hierarchy(client, headers, ["Region"])
    make(client, headers, "g", name="Mine", subAccountName="EU", type="Region")
    assert client.get("/api/v1/groups/g", headers=other).status_code == 404
    assert ids(client.get("/api/v1/groups/list", headers=other)) == []
    assert client.get("/api/v1/groups/hierarchy", headers=other).json() == []
    r = put(client, other, identifier="child", name="C", parentIdentifier="g")
    assert r.status_code == 400, "another account's group can't be a parent"
    r = put(client, other, identifier="g", name="Theirs", type="Anything")
    assert r.status_code == 201, "same identifier, separate account, no hierarchy there"
    assert client.get("/api/v1/groups/g", headers=headers).json()["name"] == "Mine"


def test_requires_a_token(client):
    assert client.get("/api/v1/groups/list").status_code == 401
    assert client.put("/api/v1/groups", json={"identifier": "g", "name": "G"}).status_code == 401
    assert client.put("/api/admin/v1/groups/hierarchy", json=["A"]).status_code == 401
