"""Reading the change feed in tests."""

from __future__ import annotations

from typing import Any

FEED = "/api/admin/v1/events"
JSON = {"Content-Type": "application/json"}


def read(client: Any, headers: dict[str, str], after: str | None = None, **params: Any) -> dict[str, Any]:
    response = client.get(FEED, params={**({"after": after} if after else {}), **params}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def events(client: Any, headers: dict[str, str], after: str | None = None, **params: Any) -> list[Any]:
    """Every event after ``after``, following ``nextCursor`` until an empty page."""
    found: list[Any] = []
    while True:
        page = read(client, headers, after, **params)
        if not page["items"]:
            return found
        found += page["items"]
        after = page["nextCursor"]


def kinds(client: Any, headers: dict[str, str], after: str | None = None, **params: Any) -> list[str]:
    return [event["type"] for event in events(client, headers, after, **params)]


def cursor(client: Any, headers: dict[str, str]) -> str | None:
    """The cursor after every event so far."""
    after = None
    while True:
        page = read(client, headers, after, limit=1000)
        if not page["items"]:
            return after
        after = page["nextCursor"]
