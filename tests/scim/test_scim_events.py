"""SCIM is one more door: its users, groups and memberships appear in the change feed."""

from __future__ import annotations

from tests.events.helpers import cursor, events
from tests.scim.conftest import GROUP_URN, patch, user


def test_scim_changes_are_events(client, scim, headers):
    r = client.post("/scim/v2/Users", json=user("s-ana@example.com"), headers=scim)
    assert r.status_code == 201, r.text
    ana = r.json()["id"]
    body = {"schemas": [GROUP_URN], "displayName": "Team", "members": [{"value": ana}]}
    r = client.post("/scim/v2/Groups", json=body, headers=scim)
    assert r.status_code == 201, r.text
    group = r.json()["id"]
    found = events(client, headers)
    assert [e["type"] for e in found] == ["user.created", "group.created", "group.member_added"]
    assert found[2]["data"] == {"groupIdentifier": group, "userIdentifier": ana}
    after = cursor(client, headers)
    removal = patch({"op": "remove", "path": f'members[value eq "{ana}"]'})
    assert client.patch(f"/scim/v2/Groups/{group}", json=removal, headers=scim).status_code == 200
    assert client.delete(f"/scim/v2/Users/{ana}", headers=scim).status_code == 204
    assert [(e["type"], e["data"]) for e in events(client, headers, after)] == [
        ("group.member_removed", {"groupIdentifier": group, "userIdentifier": ana}),
        ("user.deleted", {"identifier": ana, "type": "user"}),
    ]
