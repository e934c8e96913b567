"""A populated account: one object of every kind, built through the API itself.

``build_world`` gives an account a user, a second user with entitlements and permissions, a group
tree, a profile, a workspace, a course with a content item, a training event, members, learner
progress and a certificate earned on it, a second certificate that awaits confirmation, a
published master channel with an instance, a draft master channel, and catalog entries. Every name
and e-mail carries the account's ``marker``, so a response that shows another account's data can be
caught by looking for that marker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

SUB_ACCOUNT = "EU"
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Ids:
    """The identifiers of one world; two worlds with the same prefix share every identifier."""

    prefix: str

    def __getattr__(self, kind: str) -> str:
        if kind.startswith("__"):
            raise AttributeError(kind)
        return f"{self.prefix}{kind.replace('_', '-')}"


@dataclass
class World:
    ids: Ids
    marker: str
    pdf_url: str
    delivery_id: str = ""


def hierarchy(marker: str) -> list[str]:
    return [f"{marker}-Region", f"{marker}-Team"]


def _ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201)), (
        response.request.method,
        str(response.request.url),
        response.status_code,
        response.text,
    )
    return response


def set_hierarchy(client: TestClient, headers: dict[str, str], marker: str) -> None:
    _ok(client.put("/api/admin/v1/groups/hierarchy", json=hierarchy(marker), headers=headers))


def build_world(
    client: TestClient, headers: dict[str, str], prefix: str, marker: str, *, password: bool = True
) -> World:
    """Every kind of object under identifiers ``prefix + kind``; the account's hierarchy must be set.

    ``password``: give the first user a password (argon2id makes that the slowest call here).
    """
    ids = Ids(prefix)
    region, team = hierarchy(marker)

    def put(path: str, body: Any, **params: Any) -> Any:
        return _ok(client.put(path, json=body, params=params, headers=headers)).json()

    def post(path: str, body: Any = None, **params: Any) -> Any:
        return _ok(client.post(path, json=body, params=params, headers=headers))

    for user, roles in ((ids.user, ["LEARNER"]), (ids.instructor, ["INSTRUCTOR"])):
        secret = PASSWORD if password and user == ids.user else None
        put(
            "/api/v2/users",
            {
                "identifier": user,
                "email": f"{user}@{marker.lower()}.example",
                "firstName": marker,
                "lastName": f"{marker} {user}",
                "username": f"{marker}-{user}",
                "subAccountName": SUB_ACCOUNT,
                "password": secret,
                "possibleRoles": roles,
                "customAttributes": {"marker": marker},
            },
        )
    put(f"/api/v2/users/{ids.instructor}/permissions", {"permissions": ["INSTRUCTOR_CREATE_COURSE"]})
    put("/api/v1/groups", {"identifier": ids.root_group, "name": f"{marker} root", "type": region})
    put(
        "/api/v1/groups",
        {
            "identifier": ids.group,
            "name": f"{marker} team",
            "type": team,
            "parentIdentifier": ids.root_group,
            "subAccountName": SUB_ACCOUNT,
        },
    )
    post(f"/api/v1/groups/{ids.group}/users/{ids.user}")
    put("/api/v2/userProfiles", {"identifier": ids.profile, "name": f"{marker} profile"})
    _ok(client.put(f"/api/v2/userProfiles/{ids.profile}/users/{ids.user}", headers=headers))
    put("/api/admin/v1/workspaces", {"identifier": ids.workspace, "name": f"{marker} workspace"})

    put(
        "/api/v1/channels",
        {
            "identifier": ids.channel,
            "name": f"{marker} course",
            "type": "COURSE",
            "subAccountName": SUB_ACCOUNT,
        },
    )
    channel_items = f"/api/admin/v1/channels/{ids.channel}"
    put(f"{channel_items}/contentItems", {"identifier": ids.item, "name": f"{marker} item", "scored": True})
    put(
        f"{channel_items}/trainingEvents",
        {
            "identifier": ids.event,
            "name": f"{marker} event",
            "fromDate": "2030-01-01T09:00:00.000Z",
            "untilDate": "2030-01-01T17:00:00.000Z",
            "location": f"{marker} room",
        },
    )
    put(f"{channel_items}/details", {"categories": [f"{marker} category"]})
    post(f"/api/v2/channels/{ids.channel}/users/{ids.user}")
    post(f"/api/v2/channels/{ids.channel}/users/{ids.instructor}", roles=["INSTRUCTOR"])
    post(f"/api/v1/channels/{ids.channel}/groups/{ids.group}", recursive=True)

    put(
        "/api/admin/v1/masterChannels",
        {"identifier": ids.master, "name": f"{marker} master", "published": True, "categories": [marker]},
    )
    put(f"/api/admin/v1/channels/{ids.master}/contentItems", {"identifier": ids.item, "name": f"{marker} m"})
    put("/api/admin/v1/masterChannels", {"identifier": ids.draft_master, "name": f"{marker} draft"})
    put(
        "/api/v2/channels/master/instance",
        {"identifier": ids.instance, "masterCourseIdentifier": ids.master, "name": f"{marker} instance"},
    )
    post(f"/api/v2/channels/{ids.instance}/users/{ids.user}")

    put(
        "/api/admin/v1/certificates",
        {
            "externalCertificateId": ids.certificate,
            "name": f"{marker} certificate",
            "courseIds": [ids.channel],
            "expiration": {"duration": 2, "period": "YEAR"},
        },
    )
    put(
        "/api/admin/v1/certificates",
        {
            "externalCertificateId": ids.confirmed_certificate,
            "name": f"{marker} confirmed certificate",
            "courseIds": [ids.channel, ids.instance],
            "requiresLearnerConfirmation": True,
        },
    )
    post(
        "/api/admin/v1/activity",
        {
            "userIdentifier": ids.user,
            "channelIdentifier": ids.channel,
            "itemIdentifier": ids.item,
            "completed": True,
            "score": 90,
        },
    )
    post(f"/api/v4/channels/forceComplete/channel/{ids.channel}/user/{ids.user}")
    put(
        "/api/v1/certificates/compliance",
        {"certificateIdentifier": ids.certificate, "userIdentifier": ids.user, "isRequired": True},
    )
    _ok(client.put(f"/api/admin/v1/catalog/{ids.channel}", headers=headers))
    _ok(
        client.put(
            f"/api/admin/v1/catalog/{ids.channel}", params={"subAccountName": SUB_ACCOUNT}, headers=headers
        )
    )
    for entity_type, entity in (("COURSE", ids.channel), ("GROUP", ids.group), ("WORKSPACE", ids.workspace)):
        post(
            "/api/v2/users/entitlements",
            {
                "entityIdentifier": entity,
                "entityType": entity_type,
                "userIdentifier": ids.instructor,
                "userRole": "INSTRUCTOR",
            },
        )

    webhook = {
        "identifier": ids.webhook,
        "url": f"https://{marker.lower()}.example/hook",
        "description": marker,
    }
    put("/api/admin/v1/webhooks", webhook)
    delivery = _ok(client.post(f"/api/admin/v1/webhooks/{ids.webhook}/test", headers=headers), 202).json()

    states = _ok(client.get(f"/api/v1/certificates/users/{ids.user}", headers=headers)).json()
    [state] = [s for s in states if s["externalCertificateId"] == ids.certificate]
    assert state["state"] == "CERTIFIED", state
    return World(ids=ids, marker=marker, pdf_url=state["pdfUrl"], delivery_id=delivery["id"])
