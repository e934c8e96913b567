"""Shorthands for the channel tests: each call asserts its own success."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from enabley.models import User


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def days_from_now(days: float) -> str:
    return stamp(datetime.now(UTC) + timedelta(days=days))


def put_channel(client, headers, identifier: str, expect: int | None = None, **fields: Any) -> dict:
    body = {"identifier": identifier, "name": fields.pop("name", f"Channel {identifier}"), **fields}
    r = client.put("/api/v1/channels", json=body, headers=headers)
    assert r.status_code in ((expect,) if expect else (200, 201)), r.text
    return r.json()


def put_master(client, headers, identifier: str, **fields: Any) -> dict:
    body = {"identifier": identifier, "name": fields.pop("name", f"Master {identifier}"), **fields}
    r = client.put("/api/admin/v1/masterChannels", json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def put_content(client, headers, channel: str, identifier: str, **fields: Any) -> dict:
    body = {"identifier": identifier, "name": fields.pop("name", f"Item {identifier}"), **fields}
    r = client.put(f"/api/admin/v1/channels/{channel}/contentItems", json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def put_event(client, headers, channel: str, identifier: str, **fields: Any) -> dict:
    body = {"identifier": identifier, "name": fields.pop("name", f"Event {identifier}"), **fields}
    r = client.put(f"/api/admin/v1/channels/{channel}/trainingEvents", json=body, headers=headers)
    assert r.status_code in (200, 201), r.text
    return r.json()


def set_details(client, headers, channel: str, **body: Any) -> dict:
    r = client.put(f"/api/admin/v1/channels/{channel}/details", json=body, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def get_channel(client, headers, identifier: str, **params: Any) -> dict:
    r = client.get(f"/api/v1/channels/{identifier}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def make_user(client, headers, db, account, identifier: str) -> int:
    """A user made through the API; returns its internal id for group factories."""
    r = client.put("/api/v2/users", json={"identifier": identifier}, headers=headers)
    assert r.status_code == 201, r.text
    return db.scalar(select(User.id).where(User.account_id == account.id, User.external_id == identifier))


def assert_error(response, status: int, error: str, *mentions: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    for text in mentions:
        assert text in body["error_description"], body
