"""Building uploads and reading back what they did."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update

from enabley.models import Group, User, UserGroup, UserProfile

URL = "/api/v1/uploads/org"
LONG_AGO = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)
LONG_AGO_TEXT = "2020-01-02T03:04:05.000Z"


def to_csv(header: list[str], *rows: list[Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def body(**files: str) -> dict[str, Any]:
    """``body(users="...", groups="...")``: the request with users.csv and groups.csv."""
    return {"files": [{"fileName": f"{name}.csv", "content": content} for name, content in files.items()]}


def json_headers(headers: dict[str, str]) -> dict[str, str]:
    """``headers`` for a body sent as bytes: the upload takes only JSON bodies."""
    return {**headers, "Content-Type": "application/json"}


def upload(client, headers, **files: str):
    return client.post(URL, json=body(**files), headers=headers)


def ok(response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    return response.json()


def refused(response) -> list[tuple[str | None, int | None, str | None]]:
    """The (file, line, column) of every listed problem of a 400."""
    assert response.status_code == 400, response.text
    data = response.json()
    assert data["error"] == "invalid_request"
    return [(e["file"], e["line"], e["column"]) for e in data["errors"]]


def counts(created=(0, 0), updated=(0, 0), unchanged=(0, 0)) -> dict[str, dict[str, int]]:
    """Expected counts, each as (groups, users)."""
    return {
        name: {"groups": pair[0], "users": pair[1]}
        for name, pair in (("created", created), ("updated", updated), ("unchanged", unchanged))
    }


def get_user(client, headers, identifier: str) -> dict[str, Any]:
    r = client.get(f"/api/v2/users/{identifier}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def get_group(client, headers, identifier: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/groups/{identifier}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def groups_of(client, headers, user: str) -> list[str]:
    r = client.get(f"/api/v1/users/{user}/groups", headers=headers)
    assert r.status_code == 200, r.text
    return sorted(g["identifier"] for g in r.json())


def profiles_of(client, headers, user: str) -> list[str]:
    r = client.post(f"/api/v2/userProfiles/users/{user}", headers=headers)
    assert r.status_code == 200, r.text
    return sorted(p["identifier"] for p in r.json())


def make_profile(client, headers, identifier: str, name: str | None = None) -> None:
    r = client.put(
        "/api/v2/userProfiles", json={"identifier": identifier, "name": name or identifier}, headers=headers
    )
    assert r.status_code in (200, 201), r.text


def put_user(client, headers, **fields: Any) -> dict[str, Any]:
    r = client.put("/api/v2/users", json=fields, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def put_group(client, headers, identifier: str, **fields: Any) -> dict[str, Any]:
    fields.setdefault("name", identifier)
    r = client.put("/api/v1/groups", json={"identifier": identifier, **fields}, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def set_hierarchy(client, headers, types: list[str]) -> None:
    r = client.put("/api/admin/v1/groups/hierarchy", json=types, headers=headers)
    assert r.status_code == 200, r.text


def age_everything(db, account) -> None:
    """Backdate every user and group of the account, so any later bump of ``modified`` shows."""
    db.execute(update(User).where(User.account_id == account.id).values(modified_at=LONG_AGO))
    db.execute(update(Group).where(Group.account_id == account.id).values(modified_at=LONG_AGO))


def snapshot(db, account) -> dict[str, Any]:
    """Everything an upload can touch in the account, for before/after comparisons."""
    users = db.execute(select(User.__table__).where(User.account_id == account.id).order_by(User.id)).all()
    groups = db.execute(
        select(Group.__table__).where(Group.account_id == account.id).order_by(Group.id)
    ).all()
    user_ids = select(User.id).where(User.account_id == account.id)
    links = {
        table.__tablename__: db.scalar(
            select(func.count()).select_from(table).where(table.user_id.in_(user_ids))
        )
        for table in (UserGroup, UserProfile)
    }
    return {"users": [tuple(u) for u in users], "groups": [tuple(g) for g in groups], "links": links}
