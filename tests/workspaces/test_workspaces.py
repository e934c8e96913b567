"""Admin workspaces: create/update, list, find."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from enabley.models import Workspace
from tests import factories
from tests.factories import counted_statements

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


def put(client, headers, **body):
    return client.put("/api/admin/v1/workspaces", json=body, headers=headers)


def ids(response):
    assert response.status_code == 200, response.text
    return [w["identifier"] for w in response.json()]


def test_create_answers_201_update_200_and_find(client, headers):
    identifier = str(uuid.uuid4())
    r = put(client, headers, identifier=identifier, name="Atendimento — São Paulo")
    assert r.status_code == 201, r.text
    body = r.json()
    assert set(body) == {"identifier", "name", "created", "modified"}
    assert TIMESTAMP.match(body["created"]) and TIMESTAMP.match(body["modified"])
    r = put(client, headers, identifier=identifier, name="客服")
    assert r.status_code == 200 and r.json()["name"] == "客服"
    r = client.get(f"/api/admin/v1/workspaces/{identifier}", headers=headers)
    assert r.status_code == 200
    assert (r.json()["identifier"], r.json()["name"], r.json()["created"]) == (
        identifier,
        "客服",
        body["created"],
    )


def test_modified_changes_only_when_the_name_changes(client, headers, db):
    put(client, headers, identifier="w", name="Same")
    db.execute(
        update(Workspace)
        .where(Workspace.external_id == "w")
        .values(modified_at=datetime(2020, 1, 1, tzinfo=UTC))
    )
    assert put(client, headers, identifier="w", name="Same").json()["modified"] == "2020-01-01T00:00:00.000Z"
    assert put(client, headers, identifier="w", name="New").json()["modified"] != "2020-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"name": "W"}, "identifier"),
        ({"identifier": "w"}, "name"),
        ({"identifier": "w", "name": ""}, "name"),
        ({"identifier": "x" * 256, "name": "W"}, "identifier"),
    ],
)
def test_invalid_input_is_400_naming_the_field(client, headers, body, named):
    r = client.put("/api/admin/v1/workspaces", json=body, headers=headers)
    assert r.status_code == 400 and named in r.json()["error_description"]


def test_list_in_creation_order(client, headers, engine):
    assert ids(client.get("/api/admin/v1/workspaces", headers=headers)) == []
    for identifier in ("b", "a", "c"):
        put(client, headers, identifier=identifier, name=identifier.upper())
    with counted_statements(engine) as few:
        assert ids(client.get("/api/admin/v1/workspaces", headers=headers)) == ["b", "a", "c"]
    for n in range(5):
        put(client, headers, identifier=f"w{n}", name="W")
    with counted_statements(engine) as many:
        assert len(ids(client.get("/api/admin/v1/workspaces", headers=headers))) == 8
    assert len(many) == len(few)


def test_unknown_workspace_is_404(client, headers):
    r = client.get("/api/admin/v1/workspaces/nope", headers=headers)
    assert r.status_code == 404 and "'nope'" in r.json()["error_description"]


def test_another_accounts_workspaces_are_not_found(client, headers, auth, db):
    other = auth(factories.make_account(db))
    put(client, headers, identifier="w", name="Mine")
    assert client.get("/api/admin/v1/workspaces/w", headers=other).status_code == 404
    assert ids(client.get("/api/admin/v1/workspaces", headers=other)) == []
    assert put(client, other, identifier="w", name="Theirs").status_code == 201
    assert client.get("/api/admin/v1/workspaces/w", headers=headers).json()["name"] == "Mine"


def test_requires_a_token(client):
    assert client.get("/api/admin/v1/workspaces").status_code == 401
