"""Tenant isolation (OWASP API1, API5), generated from the route table.

Accounts A and B each hold one object of every kind under the same identifiers (``sh-...``), and
A holds a second set that only it has (``ao-...``). For every route of the app, B calls on A's
identifiers, with A's pagination keys and with certificate links that mix A's objects into B's
account. B must get what an unknown identifier gets: 404 for lookups and targeted writes, empty
lists, a new object of its own for an upsert. Nothing B does may change a row reachable from A,
tie an object of B to one of A, or show any of A's data (every name A chose carries "ALPHA").

Each call is also made by A on its own objects, which must answer otherwise: the proof that the
call named a real object of A. Each route runs in a savepoint that is rolled back afterwards.

A route added to the app without a request builder in ``ROUTES`` fails the test by name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import Fernet
from fastapi.testclient import TestClient
from sqlalchemy import select

from enabley.models import Certificate, User
from enabley.openapi import api_routes
from enabley.scim import tokens
from tests import factories
from tests.security.conftest import bearer
from tests.security.rows import account_rows, rows_spanning_accounts
from tests.security.world import SUB_ACCOUNT, Ids, build_world, set_hierarchy

A_ONLY, SHARED = Ids("ao-"), Ids("sh-")
ALPHA, BRAVO = "ALPHA", "BRAVO"
PAGED = ["/api/v3/users", "/api/v3/channels", "/api/v3/channels/masters", "/api/v2/certificates"]


@dataclass
class Call:
    method: str
    url: str
    params: dict[str, Any] | None = None
    json: Any = None
    b: int | None = 404
    """B's status on A's identifiers; None: B doesn't make this call."""
    a: int | None = 200
    """A's status on its own objects; None: A doesn't make this call."""
    empty: bool = False
    """B's answer is an empty list or page, A's is not."""
    scim: bool = False
    """Sent with the tenant's SCIM token (``/scim/v2``) rather than its access token."""


@dataclass
class Context:
    ids: Ids
    a_keys: dict[str, str]
    a_client_key: str
    a_secret: str
    b_secret: str
    pdf: dict[str, str] = field(default_factory=dict)
    delivery: str = ""
    upload_job: str = ""
    """The jobId of an upload A sent with async=true."""


Builder = Callable[[Context], list[Call]]


def _get(url: str, **kw: Any) -> list[Call]:
    return [Call("GET", url, **kw)]


def _keyed(path: str, c: Context, **params: Any) -> Call:
    return Call("GET", path, params={**params, "paginationKey": c.a_keys[path]})


def _upload(users_csv: str) -> dict[str, Any]:
    return {"files": [{"fileName": "users.csv", "content": users_csv}]}


def _entitlement(c: Context, entity_type: str, entity: str) -> dict[str, str]:
    return {
        "entityIdentifier": entity,
        "entityType": entity_type,
        "userIdentifier": c.ids.instructor,
        "userRole": "INSTRUCTOR",
    }


def _entitlements(method: str) -> Builder:
    def build(c: Context) -> list[Call]:
        i = c.ids
        kinds = (("COURSE", i.channel), ("GROUP", i.group), ("WORKSPACE", i.workspace))
        return [Call(method, "/api/v2/users/entitlements", json=_entitlement(c, t, e)) for t, e in kinds]

    return build


def _scim(method: str, url: str, **kw: Any) -> Call:
    return Call(method, url, scim=True, **kw)


def _scim_resources(kind: str, identifier: Callable[[Context], str], body: Callable[[], Any]) -> dict:
    """The calls on one SCIM resource type (Users, Groups), B naming A's resource by its id."""
    base = f"/scim/v2/{kind}"
    filtered = {"filter": 'id eq "{}"'}
    return {
        ("GET", base): lambda c: [
            _scim("GET", base, params={"filter": filtered["filter"].format(identifier(c))}, b=200, empty=True)
        ],
        ("POST", base + "/.search"): lambda c: [
            _scim("POST", base + "/.search", json={"filter": f'id eq "{identifier(c)}"'}, b=200, empty=True)
        ],
        ("POST", base): lambda c: [
            _scim("POST", base, json={**body(), "externalId": identifier(c)}, b=201, a=201)
        ],
        ("GET", base + "/{id}"): lambda c: [_scim("GET", f"{base}/{identifier(c)}")],
        ("PUT", base + "/{id}"): lambda c: [_scim("PUT", f"{base}/{identifier(c)}", json=body())],
        ("PATCH", base + "/{id}"): lambda c: [
            _scim(
                "PATCH",
                f"{base}/{identifier(c)}",
                json={"Operations": [{"op": "replace", "value": {"displayName": BRAVO}}]},
            )
        ],
        ("DELETE", base + "/{id}"): lambda c: [_scim("DELETE", f"{base}/{identifier(c)}", a=204)],
    }


SCIM_DISCOVERY = {
    ("GET", "/scim/v2/" + path): (lambda p: lambda c: [_scim("GET", "/scim/v2/" + p, b=200)])(path)
    for path in ("ServiceProviderConfig", "ResourceTypes", "Schemas")
}
SCIM_DISCOVERY[("GET", "/scim/v2/ResourceTypes/{id}")] = lambda c: [
    _scim("GET", "/scim/v2/ResourceTypes/User", b=200)
]
SCIM_DISCOVERY[("POST", "/scim/v2/.search")] = lambda c: [
    _scim("POST", "/scim/v2/.search", json={"filter": f'id eq "{i}"'}, b=200, empty=True)
    for i in (c.ids.user, c.ids.group)
]
SCIM_DISCOVERY[("GET", "/scim/v2/Schemas/{id}")] = lambda c: [
    _scim("GET", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", b=200)
]

ADMIN = "/api/admin/v1"
CH = ADMIN + "/channels"
HOOKS = ADMIN + "/webhooks"
# (method, path) -> the calls B makes on A's identifiers (and A on its own), for every route.
ROUTES: dict[tuple[str, str], Builder] = {
    # Admin API
    ("POST", ADMIN + "/activity"): lambda c: [
        Call(
            "POST",
            ADMIN + "/activity",
            json={
                "userIdentifier": c.ids.user,
                "channelIdentifier": c.ids.channel,
                "itemIdentifier": c.ids.item,
                "completed": True,
            },
        )
    ],
    ("GET", ADMIN + "/catalog"): lambda c: _get(ADMIN + "/catalog", b=200),
    # B reads its own feed only; A's cursor is not B's (410: resync, as for a forgotten cursor).
    ("GET", ADMIN + "/events"): lambda c: [
        Call("GET", ADMIN + "/events", b=200),
        Call("GET", ADMIN + "/events", params={"after": c.a_keys["events"]}, b=410),
    ],
    ("GET", ADMIN + "/compliance/summary"): lambda c: [
        Call("GET", ADMIN + "/compliance/summary", params={"certificateId": c.ids.certificate}),
        Call("GET", ADMIN + "/compliance/summary", params={"groupIdentifier": c.ids.group}),
    ],
    ("GET", ADMIN + "/compliance/learners"): lambda c: [
        Call("GET", ADMIN + "/compliance/learners", params={"certificateId": c.ids.certificate}),
        Call("GET", ADMIN + "/compliance/learners", params={"groupIdentifier": c.ids.group, "status": "ALL"}),
        _keyed(ADMIN + "/compliance/learners", c),
    ],
    ("PUT", ADMIN + "/catalog/{channelIdentifier}"): lambda c: [
        Call("PUT", f"{ADMIN}/catalog/{c.ids.channel}"),
        Call("PUT", f"{ADMIN}/catalog/{c.ids.channel}", params={"subAccountName": SUB_ACCOUNT}),
    ],
    ("DELETE", ADMIN + "/catalog/{channelIdentifier}"): lambda c: [
        Call("DELETE", f"{ADMIN}/catalog/{c.ids.channel}", params={"subAccountName": SUB_ACCOUNT})
    ],
    ("PUT", ADMIN + "/certificates"): lambda c: [
        Call(
            "PUT",
            ADMIN + "/certificates",
            json={"externalCertificateId": c.ids.certificate, "name": BRAVO, "courseIds": [c.ids.channel]},
            b=400,
        ),
        Call(
            "PUT",
            ADMIN + "/certificates",
            json={"externalCertificateId": c.ids.certificate, "name": BRAVO, "courseIds": []},
            b=201,
        ),
    ],
    ("GET", ADMIN + "/certificates/{externalCertificateId}"): lambda c: _get(
        f"{ADMIN}/certificates/{c.ids.certificate}"
    ),
    ("POST", ADMIN + "/certificates/{externalCertificateId}/users/{userIdentifier}/confirm"): lambda c: [
        Call("POST", f"{ADMIN}/certificates/{c.ids.confirmed_certificate}/users/{c.ids.user}/confirm")
    ],
    ("POST", ADMIN + "/certificates/{externalCertificateId}/users/{userIdentifier}/revoke"): lambda c: [
        Call("POST", f"{ADMIN}/certificates/{c.ids.certificate}/users/{c.ids.user}/revoke")
    ],
    ("PUT", CH + "/{channelIdentifier}/contentItems"): lambda c: [
        Call("PUT", f"{CH}/{channel}/contentItems", json={"identifier": c.ids.item, "name": BRAVO})
        for channel in (c.ids.channel, c.ids.master)
    ],
    ("GET", CH + "/{channelIdentifier}/contentItems"): lambda c: [
        Call("GET", f"{CH}/{channel}/contentItems") for channel in (c.ids.channel, c.ids.master)
    ],
    ("GET", CH + "/{channelIdentifier}/contentItems/{itemIdentifier}"): lambda c: _get(
        f"{CH}/{c.ids.channel}/contentItems/{c.ids.item}"
    ),
    ("DELETE", CH + "/{channelIdentifier}/contentItems/{itemIdentifier}"): lambda c: [
        Call("DELETE", f"{CH}/{c.ids.channel}/contentItems/{c.ids.item}")
    ],
    ("GET", CH + "/{channelIdentifier}/details"): lambda c: _get(f"{CH}/{c.ids.channel}/details"),
    ("PUT", CH + "/{channelIdentifier}/details"): lambda c: [
        Call("PUT", f"{CH}/{c.ids.channel}/details", json={"categories": [BRAVO]})
    ],
    ("PUT", CH + "/{channelIdentifier}/trainingEvents"): lambda c: [
        Call("PUT", f"{CH}/{c.ids.channel}/trainingEvents", json={"identifier": c.ids.event, "name": BRAVO})
    ],
    ("GET", CH + "/{channelIdentifier}/trainingEvents"): lambda c: _get(
        f"{CH}/{c.ids.channel}/trainingEvents"
    ),
    ("GET", CH + "/{channelIdentifier}/trainingEvents/{itemIdentifier}"): lambda c: _get(
        f"{CH}/{c.ids.channel}/trainingEvents/{c.ids.event}"
    ),
    ("DELETE", CH + "/{channelIdentifier}/trainingEvents/{itemIdentifier}"): lambda c: [
        Call("DELETE", f"{CH}/{c.ids.channel}/trainingEvents/{c.ids.event}")
    ],
    ("PUT", ADMIN + "/groups/hierarchy"): lambda c: [
        Call("PUT", ADMIN + "/groups/hierarchy", json=[], b=200)
    ],
    ("PUT", ADMIN + "/masterChannels"): lambda c: [
        Call("PUT", ADMIN + "/masterChannels", json={"identifier": c.ids.master, "name": BRAVO}, b=201)
    ],
    ("GET", ADMIN + "/masterChannels/{identifier}"): lambda c: _get(f"{ADMIN}/masterChannels/{c.ids.master}"),
    ("PUT", ADMIN + "/workspaces"): lambda c: [
        Call("PUT", ADMIN + "/workspaces", json={"identifier": c.ids.workspace, "name": BRAVO}, b=201)
    ],
    ("GET", ADMIN + "/workspaces"): lambda c: _get(ADMIN + "/workspaces", b=200),
    ("GET", ADMIN + "/workspaces/{identifier}"): lambda c: _get(f"{ADMIN}/workspaces/{c.ids.workspace}"),
    ("PUT", HOOKS): lambda c: [
        Call(
            "PUT",
            HOOKS,
            json={"identifier": c.ids.webhook, "url": "https://bravo.example/", "description": BRAVO},
            b=201,
        )
    ],
    ("GET", HOOKS): lambda c: _get(HOOKS, b=200),
    ("GET", HOOKS + "/{identifier}"): lambda c: _get(f"{HOOKS}/{c.ids.webhook}"),
    ("DELETE", HOOKS + "/{identifier}"): lambda c: [Call("DELETE", f"{HOOKS}/{c.ids.webhook}")],
    ("GET", HOOKS + "/{identifier}/deliveries"): lambda c: _get(f"{HOOKS}/{c.ids.webhook}/deliveries"),
    ("POST", HOOKS + "/{identifier}/rotateSecret"): lambda c: [
        Call("POST", f"{HOOKS}/{c.ids.webhook}/rotateSecret")
    ],
    ("POST", HOOKS + "/{identifier}/test"): lambda c: [Call("POST", f"{HOOKS}/{c.ids.webhook}/test", a=202)],
    ("POST", HOOKS + "/{identifier}/replay"): lambda c: [
        Call("POST", f"{HOOKS}/{c.ids.webhook}/replay", params={"since": "2020-01-01T00:00:00Z"}, a=202)
    ],
    ("POST", HOOKS + "/deliveries/{deliveryId}/retry"): lambda c: [
        Call("POST", f"{HOOKS}/deliveries/{c.delivery}/retry", a=202)
    ],
    # Authorization and certificates
    ("POST", "/api/v1/token"): lambda c: [
        Call(
            "POST", "/api/v1/token", params={"clientKey": c.a_client_key, "secret": c.b_secret}, b=401, a=None
        ),
        Call("POST", "/api/v1/token", params={"clientKey": c.a_client_key, "secret": c.a_secret}, b=None),
    ],
    ("GET", "/api/v1/catalog/catalogItem"): lambda c: [
        Call("GET", "/api/v1/catalog/catalogItem", params={"externalChannelId": c.ids.channel}),
        Call(
            "GET",
            "/api/v1/catalog/catalogItem",
            params={"externalChannelId": c.ids.channel, "subAccountName": SUB_ACCOUNT},
        ),
    ],
    ("GET", "/api/v1/certificates"): lambda c: _get("/api/v1/certificates", b=200),
    ("PUT", "/api/v1/certificates/compliance"): lambda c: [
        Call(
            "PUT",
            "/api/v1/certificates/compliance",
            json={
                "certificateIdentifier": c.ids.certificate,
                "userIdentifier": c.ids.user,
                "isRequired": False,
            },
        )
    ],
    ("GET", "/api/v1/certificates/pdf/{token}"): lambda c: [
        Call("GET", f"/api/v1/certificates/pdf/{c.pdf['b-certificate']}", a=404),
        Call("GET", f"/api/v1/certificates/pdf/{c.pdf['b-user']}", a=404),
        Call("GET", f"/api/v1/certificates/pdf/{c.pdf['a']}", b=None),
    ],
    ("GET", "/api/v1/certificates/users/{externalUserId}"): lambda c: _get(
        f"/api/v1/certificates/users/{c.ids.user}"
    ),
    ("GET", "/api/v2/certificates"): lambda c: [
        Call("GET", "/api/v2/certificates", b=200),
        _keyed(PAGED[3], c),
    ],
    ("GET", "/api/v2/certificates/{externalCertificateId}"): lambda c: _get(
        f"/api/v2/certificates/{c.ids.certificate}"
    ),
    # Channels
    ("PUT", "/api/v1/channels"): lambda c: [
        Call("PUT", "/api/v1/channels", json={"identifier": c.ids.channel, "name": BRAVO}, b=201)
    ],
    ("GET", "/api/v1/channels"): lambda c: [
        Call("GET", "/api/v1/channels", b=200),
        Call("GET", "/api/v1/channels", params={"subAccountName": SUB_ACCOUNT}, b=200),
    ],
    ("GET", "/api/v1/channels/{channelIdentifier}/courses/events"): lambda c: _get(
        f"/api/v1/channels/{c.ids.channel}/courses/events"
    ),
    ("POST", "/api/v1/channels/{channelIdentifier}/groups/{groupIdentifier}"): lambda c: [
        Call("POST", f"/api/v1/channels/{c.ids.channel}/groups/{c.ids.group}")
    ],
    ("DELETE", "/api/v1/channels/{channelIdentifier}/groups/{groupIdentifier}"): lambda c: [
        Call("DELETE", f"/api/v1/channels/{c.ids.channel}/groups/{c.ids.group}")
    ],
    ("DELETE", "/api/v1/channels/{channelIdentifier}/users/{userIdentifier}"): lambda c: [
        Call("DELETE", f"/api/v1/channels/{c.ids.channel}/users/{c.ids.user}")
    ],
    ("GET", "/api/v1/channels/{identifier}"): lambda c: _get(f"/api/v1/channels/{c.ids.channel}"),
    ("GET", "/api/v2/channels/channels/masters"): lambda c: _get("/api/v2/channels/channels/masters", b=200),
    ("GET", "/api/v2/channels/channels/{channelIdentifier}/members/count"): lambda c: _get(
        f"/api/v2/channels/channels/{c.ids.channel}/members/count"
    ),
    ("PUT", "/api/v2/channels/master/instance"): lambda c: [
        Call(
            "PUT",
            "/api/v2/channels/master/instance",
            json={"identifier": c.ids.second_instance, "masterCourseIdentifier": c.ids.master},
            a=201,
        )
    ],
    ("POST", "/api/v2/channels/{channelIdentifier}/users/{userIdentifier}"): lambda c: [
        Call("POST", f"/api/v2/channels/{c.ids.channel}/users/{c.ids.instructor}")
    ],
    ("GET", "/api/v3/channels"): lambda c: [Call("GET", "/api/v3/channels", b=200), _keyed(PAGED[1], c)],
    ("GET", "/api/v3/channels/masters"): lambda c: [
        Call("GET", "/api/v3/channels/masters", b=200),
        _keyed(PAGED[2], c),
    ],
    ("POST", "/api/v4/channels/forceComplete/channel/{channelIdentifier}/user/{userIdentifier}"): lambda c: [
        Call("POST", f"/api/v4/channels/forceComplete/channel/{c.ids.channel}/user/{c.ids.user}")
    ],
    # Groups
    ("PUT", "/api/v1/groups"): lambda c: [
        Call(
            "PUT",
            "/api/v1/groups",
            json={"identifier": c.ids.group, "name": BRAVO, "parentIdentifier": c.ids.root_group},
            b=400,
        ),
        Call("PUT", "/api/v1/groups", json={"identifier": c.ids.group, "name": BRAVO}, b=201),
    ],
    ("GET", "/api/v1/groups/hierarchy"): lambda c: _get("/api/v1/groups/hierarchy", b=200),
    ("GET", "/api/v1/groups/list"): lambda c: [
        Call("GET", "/api/v1/groups/list", b=200),
        Call("GET", "/api/v1/groups/list", params={"subAccountName": SUB_ACCOUNT}, b=200),
    ],
    ("POST", "/api/v1/groups/{groupIdentifier}/users/{userIdentifier}"): lambda c: [
        Call("POST", f"/api/v1/groups/{c.ids.group}/users/{c.ids.instructor}")
    ],
    ("DELETE", "/api/v1/groups/{groupIdentifier}/users/{userIdentifier}"): lambda c: [
        Call("DELETE", f"/api/v1/groups/{c.ids.group}/users/{c.ids.user}")
    ],
    ("DELETE", "/api/v1/groups/{identifier}"): lambda c: [Call("DELETE", f"/api/v1/groups/{c.ids.group}")],
    ("GET", "/api/v1/groups/{identifier}"): lambda c: _get(f"/api/v1/groups/{c.ids.group}"),
    ("GET", "/api/v1/users/{identifier}/groups"): lambda c: _get(f"/api/v1/users/{c.ids.user}/groups"),
    # Performance
    ("GET", "/api/v1/performance"): lambda c: [
        Call("GET", "/api/v1/performance", params={"externalChannelId": c.ids.channel}),
        Call("GET", "/api/v1/performance", params={"externalUserId": c.ids.user}),
    ],
    ("GET", "/api/v2/performance"): lambda c: [
        Call("GET", "/api/v2/performance", params={"channelIdentifier": c.ids.channel}),
        Call("GET", "/api/v2/performance", params={"userIdentifier": c.ids.user}),
        Call(
            "GET",
            "/api/v2/performance",
            params={"userIdentifier": c.ids.user, "paginationKey": c.a_keys["/api/v2/performance"]},
        ),
    ],
    # User profiles
    ("POST", "/api/v2/getUserProfiles"): lambda c: [
        Call("POST", "/api/v2/getUserProfiles", json=[c.ids.profile], b=200, empty=True)
    ],
    ("PUT", "/api/v2/userProfiles"): lambda c: [
        Call("PUT", "/api/v2/userProfiles", json={"identifier": c.ids.profile, "name": BRAVO}, b=201)
    ],
    ("POST", "/api/v2/userProfiles/users/{identifier}"): lambda c: [
        Call("POST", f"/api/v2/userProfiles/users/{c.ids.user}")
    ],
    ("PUT", "/api/v2/userProfiles/{profileIdentifier}/users/{userIdentifier}"): lambda c: [
        Call("PUT", f"/api/v2/userProfiles/{c.ids.profile}/users/{c.ids.instructor}")
    ],
    ("DELETE", "/api/v2/userProfiles/{profileIdentifier}/users/{userIdentifier}"): lambda c: [
        Call("DELETE", f"/api/v2/userProfiles/{c.ids.profile}/users/{c.ids.user}")
    ],
    # Users
    ("PUT", "/api/v2/users"): lambda c: [
        Call("PUT", "/api/v2/users", json={"identifier": c.ids.user, "firstName": BRAVO}, b=201)
    ],
    ("GET", "/api/v2/users"): lambda c: [
        Call("GET", "/api/v2/users", params={"identifier": c.ids.user}, b=200, empty=True),
        Call("GET", "/api/v2/users", params={"emailSubstring": f"{c.ids.user}@"}, b=200, empty=True),
    ],
    ("GET", "/api/v3/users"): lambda c: [
        Call("GET", "/api/v3/users", params={"identifier": c.ids.user}, b=200, empty=True),
        _keyed(PAGED[0], c),
    ],
    ("POST", "/api/v2/users/entitlements"): _entitlements("POST"),
    ("DELETE", "/api/v2/users/entitlements"): _entitlements("DELETE"),
    ("PUT", "/api/v2/users/identityManagement"): lambda c: [
        Call(
            "PUT",
            "/api/v2/users/identityManagement",
            json={"currentUserIdentifier": c.ids.user, "newUserIdentifier": c.ids.renamed_user},
        )
    ],
    ("DELETE", "/api/v2/users/{identifier}"): lambda c: [Call("DELETE", f"/api/v2/users/{c.ids.user}")],
    ("GET", "/api/v2/users/{identifier}"): lambda c: _get(f"/api/v2/users/{c.ids.user}"),
    ("PUT", "/api/v2/users/{identifier}"): lambda c: [
        Call("PUT", f"/api/v2/users/{c.ids.user}", params={"isActive": "false"})
    ],
    ("GET", "/api/v2/users/{identifier}/entitlements"): lambda c: _get(
        f"/api/v2/users/{c.ids.instructor}/entitlements"
    ),
    ("DELETE", "/api/v2/users/{identifier}/subAccountName/{subAccountName}"): lambda c: [
        Call("DELETE", f"/api/v2/users/{c.ids.user}/subAccountName/{SUB_ACCOUNT}")
    ],
    ("GET", "/api/v2/users/{userIdentifier}/permissions"): lambda c: _get(
        f"/api/v2/users/{c.ids.instructor}/permissions"
    ),
    ("PUT", "/api/v2/users/{userIdentifier}/permissions"): lambda c: [
        Call(
            "PUT",
            f"/api/v2/users/{c.ids.instructor}/permissions",
            json={"permissions": ["INSTRUCTOR_CREATE_COURSE_INSTANCE"]},
        )
    ],
    # Uploads
    ("POST", "/api/v1/uploads/org"): lambda c: [
        Call(
            "POST",
            "/api/v1/uploads/org",
            json=_upload(f"identifier,groups\n{c.ids.user},{c.ids.group}\n"),
            b=400,
        ),
        Call(
            "POST",
            "/api/v1/uploads/org",
            json=_upload(f"identifier,firstName\n{c.ids.user},{BRAVO}\n"),
            b=200,
        ),
        Call(
            "POST",
            "/api/v1/uploads/org",
            params={"validateOnly": "true"},
            json=_upload(f"identifier,groups\n{c.ids.user},{c.ids.group}\n"),
            b=400,
        ),
        Call(
            "POST",
            "/api/v1/uploads/org",
            params={"async": "true"},
            json=_upload(f"identifier,firstName\n{c.ids.user},{BRAVO}\n"),
            b=202,
            a=202,
        ),
    ],
    ("GET", "/api/v1/uploads/org/jobs/{jobId}"): lambda c: _get(f"/api/v1/uploads/org/jobs/{c.upload_job}"),
    # SCIM: B's token on A's ids
    **SCIM_DISCOVERY,
    **_scim_resources("Users", lambda c: c.ids.user, lambda: {"userName": f"{BRAVO}-scim-user"}),
    **_scim_resources("Groups", lambda c: c.ids.group, lambda: {"displayName": BRAVO}),
    # Documentation, probes and metrics: no account data at all
    **{
        ("GET", path): (lambda p: lambda c: _get(p, b=200))(path)
        for path in ("/", "/docs", "/redoc", "/healthz", "/readyz", "/metrics")
    },
}


@dataclass
class Tenant:
    account: Any
    key: str
    secret: str
    headers: dict[str, str]
    scim: dict[str, str]

    def headers_for(self, call: Call) -> dict[str, str]:
        return self.scim if call.scim else self.headers


def _tenant(db, client: TestClient, name: str) -> Tenant:
    account = factories.make_account(db, name=name, sub_accounts=[SUB_ACCOUNT, "US"])
    key, secret = factories.make_client(db, account)
    _, scim_token = tokens.create_token(db, account.name, None, None)
    db.flush()
    return Tenant(
        account, key, secret, bearer(client, key, secret), {"Authorization": f"Bearer {scim_token}"}
    )


def _a_keys(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    keys = {}
    for path, params in [(p, {}) for p in PAGED] + [
        ("/api/v2/performance", {"userIdentifier": A_ONLY.user}),
        ("/api/admin/v1/compliance/learners", {"status": "ALL"}),
    ]:
        body = client.get(path, params=params, headers=headers).json()
        assert body["paginationKey"], (path, body)
        keys[path] = body["paginationKey"]
    keys["events"] = client.get(ADMIN + "/events", headers=headers).json()["nextCursor"]
    return keys


def _upload_job(client: TestClient, headers: dict[str, str]) -> str:
    csv = f"identifier,firstName\n{A_ONLY.user},{ALPHA}\n"
    response = client.post(
        "/api/v1/uploads/org", params={"async": "true"}, json=_upload(csv), headers=headers
    )
    assert response.status_code == 202, response.text
    return str(response.json()["jobId"])


def _link_id(db, model: Any, account_id: int, external_id: str) -> str:
    found = db.scalar(
        select(model.link_id).where(model.account_id == account_id, model.external_id == external_id)
    )
    return str(found.hex)


def _pdf_tokens(db, app_context: Any, a: Tenant, b: Tenant, a_url: str) -> dict[str, str]:
    """A's link, and the same link naming B's certificate instead, or B's learner instead."""
    fernet = Fernet(app_context.keyring.fernet_key("certificate-pdf"))
    token = a_url.rsplit("/", 1)[1]
    payload = json.loads(fernet.decrypt(token.encode()))

    def forged(**changed: str) -> str:
        return fernet.encrypt(json.dumps(payload | changed).encode()).decode()

    return {
        "b-certificate": forged(c=_link_id(db, Certificate, b.account.id, SHARED.certificate)),
        "b-user": forged(u=_link_id(db, User, b.account.id, SHARED.user)),
        "a": token,
    }


def _send(client: TestClient, call: Call, headers: dict[str, str]) -> Any:
    return client.request(call.method, call.url, params=call.params, json=call.json, headers=headers)


def _is_empty(body: Any) -> bool:
    return body == [] or (isinstance(body, dict) and (body.get("items") == [] or body.get("Resources") == []))


def _leaks(response: Any, a: Tenant) -> list[str]:
    text = response.text.lower()
    return [marker for marker in (ALPHA.lower(), a.account.name.lower(), a.key) if marker.lower() in text]


def test_every_route_has_a_request_builder(app):
    # The console's pages take a session cookie, not a token: tests/console/test_console.py
    # holds each console user to its own account.
    routes = sorted(
        f"{method} {path}"
        for path, methods, _ in api_routes(app)
        if not path.startswith("/console")
        for method in methods
    )
    missing = [route for route in routes if tuple(route.split(" ", 1)) not in ROUTES]
    assert missing == [], f"routes without a request builder in tests/security/test_isolation.py: {missing}"


def test_one_account_never_reaches_another(db, app_with):
    started = app_with(rate_limit=0, page_size=1, access_log=False)
    # The same app, with server errors answered as 500s: every problem is listed, not the first.
    client = TestClient(started.app, raise_server_exceptions=False)
    app_context = client.app.state.context
    a = _tenant(db, client, "tenant-alpha")
    b = _tenant(db, client, "tenant-bravo")
    set_hierarchy(client, a.headers, ALPHA)
    build_world(client, a.headers, SHARED.prefix, ALPHA)
    a_world = build_world(client, a.headers, A_ONLY.prefix, ALPHA, password=False)
    set_hierarchy(client, b.headers, BRAVO)
    build_world(client, b.headers, SHARED.prefix, BRAVO, password=False)
    context = Context(A_ONLY, _a_keys(client, a.headers), a.key, a.secret, b.secret)
    context.pdf = _pdf_tokens(db, app_context, a, b, a_world.pdf_url)
    context.delivery = a_world.delivery_id
    context.upload_job = _upload_job(client, a.headers)
    shared = Context(
        SHARED,
        context.a_keys,
        a.key,
        a.secret,
        b.secret,
        context.pdf,
        delivery=context.delivery,
        upload_job=context.upload_job,
    )
    conn = db.connection()
    before = account_rows(conn, a.account.id)
    spanning = rows_spanning_accounts(conn)
    problems = [f"while the accounts were built: {found}" for found in spanning]
    routes = sorted((method, path) for path, methods, _ in api_routes(client.app) for method in methods)
    for method, path in routes:
        build = ROUTES.get((method, path))
        if build is None:
            continue  # reported by test_every_route_has_a_request_builder
        route = f"{method} {path}"
        savepoint = conn.begin_nested()
        try:
            for call in build(context):
                if call.b is None:
                    continue
                response = _send(client, call, b.headers_for(call))
                where = f"{route}: B {call.method} {call.url} {call.params or ''}"
                if response.status_code != call.b:
                    problems.append(
                        f"{where} answered {response.status_code}, expected {call.b}: {response.text[:200]}"
                    )
                if call.empty and not _is_empty(response.json()):
                    problems.append(f"{where} listed something: {response.text[:200]}")
                problems += [f"{where} shows A's {leak!r}" for leak in _leaks(response, a)]
            for call in build(shared):
                if call.b is None:
                    continue
                response = _send(client, call, b.headers_for(call))
                where = f"{route}: B on its own {call.method} {call.url}"
                if response.status_code >= 500:
                    problems.append(f"{where} answered {response.status_code}")
                problems += [f"{where} shows A's {leak!r}" for leak in _leaks(response, a)]
            if account_rows(conn, a.account.id) != before:
                problems.append(f"{route}: B's calls changed A's rows")
            problems += [
                f"{route}: {found}" for found in rows_spanning_accounts(conn) if found not in spanning
            ]
        finally:
            savepoint.rollback()
        savepoint = conn.begin_nested()
        try:
            for call in build(context):
                if call.a is None:
                    continue
                response = _send(client, call, a.headers_for(call))
                where = f"{route}: A {call.method} {call.url} {call.params or ''}"
                if call.a != response.status_code:
                    problems.append(
                        f"{where} (the control) answered {response.status_code}, expected {call.a}"
                    )
                if call.empty and _is_empty(response.json()):
                    problems.append(f"{where} (the control) listed nothing")
        finally:
            savepoint.rollback()
    assert account_rows(conn, a.account.id) == before
    assert problems == [], "\n".join(problems)
