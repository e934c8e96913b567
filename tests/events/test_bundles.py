"""Bundles (decision 0016): many events of one type in one change-log row, which every reader
lays out as the events they hold, each with its own id and position."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from enabley.db.bulk import Direct
from enabley.events import log, stored
from enabley.events.service import decode_cursor, encode_cursor
from enabley.models import Event
from enabley.uploads import row_events
from tests.events.helpers import FEED, cursor, events, kinds, read
from tests.factories import user_body

MEMBERS = row_events.MEMBERSHIP_KEYS


def write(db, account_id, *tables_or_rows):
    """Rows to the change log in the test's transaction: ``stored.Table``s (bundles) and plain
    ``(type, data)`` events, in order."""
    rows: list[stored.Encoded] = []
    for item in tables_or_rows:
        rows += stored.encode(item) if isinstance(item, stored.Table) else [(*item, 1)]
    log.emit_encoded(Direct.of(db), account_id, rows)


def pairs(count, group="g"):
    return [[group, f"u{i}"] for i in range(count)]


def test_stored_events_and_their_data():
    table = stored.Table.of_rows(
        "user.created", ("identifier", "firstName"), [["a", "Ana"], ["b", None]], {"k": 1}
    )
    ((type_, data, span),) = stored.encode(table)
    assert (type_, span) == ("user.created", 2)
    row = type("Row", (), {"position": 12, "span": 2, "event_id": "evt_" + "0" * 28 + "0000", "type": type_})
    row.occurred_at, row.id, row.data = None, 7, data
    laid_out = list(stored.events([row]))
    assert [(e.position, e.event_id[-4:], e.data) for e in laid_out] == [
        (11, "0000", '{"identifier":"a","firstName":"Ana","k":1}'),
        (12, "0001", '{"identifier":"b","firstName":null,"k":1}'),
    ]
    assert [e.position for e in stored.events([row], after=11)] == [12]
    # One event is a row of its own; more than a bundle holds are several bundles.
    assert stored.encode(stored.Table.of_rows("t", ("a",), [[1]], {})) == [("t", '{"a":1}', 1)]
    many = stored.encode(stored.Table.of_rows("t", ("a",), [[i] for i in range(stored.BUNDLE_LIMIT + 1)], {}))
    assert [span for *_, span in many] == [stored.BUNDLE_LIMIT, 1]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 1000])
def test_pages_run_through_bundles_without_gaps_or_repeats(client, headers, db, account, limit):
    client.put("/api/v2/users", json=user_body("first"), headers=headers)
    write(
        db,
        account.id,
        stored.Table.of_rows("group.member_added", MEMBERS, pairs(5), {}),
        ("user.deleted", '{"identifier":"x","type":"user"}'),
        stored.Table.of_rows("group.member_removed", MEMBERS, pairs(4, "h"), {}),
    )
    client.put("/api/v2/users", json=user_body("last"), headers=headers)
    found = events(client, headers, limit=limit)
    assert [e["type"] for e in found] == [
        "user.created",
        *["group.member_added"] * 5,
        "user.deleted",
        *["group.member_removed"] * 4,
        "user.created",
    ]
    assert [e["data"] for e in found[1:6]] == [
        {"groupIdentifier": "g", "userIdentifier": f"u{i}"} for i in range(5)
    ]
    assert found[7]["data"] == {"groupIdentifier": "h", "userIdentifier": "u0"}
    assert len({e["id"] for e in found}) == len(found)
    assert all(e["id"].startswith("evt_") and len(e["id"]) == 36 for e in found)
    # The same events, the same ids, whatever the pages.
    assert events(client, headers, limit=1000) == found
    # A bundle's events share the time of its write.
    assert len({e["timestamp"] for e in found[1:11]}) == 1


def test_a_cursor_within_a_bundle_and_type_patterns(client, headers, db, account):
    write(db, account.id, stored.Table.of_rows("group.member_added", MEMBERS, pairs(6), {}))
    first = read(client, headers, limit=2)
    rest = events(client, headers, first["nextCursor"])
    assert [e["data"]["userIdentifier"] for e in first["items"] + rest] == [f"u{i}" for i in range(6)]
    client.put("/api/v2/users", json=user_body("u"), headers=headers)
    assert kinds(client, headers, types="user.*") == ["user.created"]
    assert kinds(client, headers, first["nextCursor"], types="group.*") == ["group.member_added"] * 4


def test_a_cursor_naming_no_event_of_the_bundle_is_410(client, headers, db, account):
    write(db, account.id, stored.Table.of_rows("group.member_added", MEMBERS, pairs(3), {}))
    page = read(client, headers, limit=2)
    position, event_id = decode_cursor(page["nextCursor"])
    forged = encode_cursor(position, event_id[:-4] + "0009")
    assert client.get(FEED, params={"after": forged}, headers=headers).status_code == 410
    assert (
        client.get(FEED, params={"after": encode_cursor(position, event_id)}, headers=headers).status_code
        == 200
    )


def test_a_cursor_within_a_purged_bundle_is_410(client, headers, db, account):
    write(db, account.id, stored.Table.of_rows("group.member_added", MEMBERS, pairs(3), {}))
    inside = read(client, headers, limit=1)["nextCursor"]
    client.put("/api/v2/users", json=user_body("kept"), headers=headers)
    kept = cursor(client, headers)
    conn = db.connection()
    conn.execute(
        update(Event)
        .where(Event.account_id == account.id, Event.span > 1)
        .values(occurred_at=datetime.now(UTC) - timedelta(days=31))
    )
    assert log.purge(conn, datetime.now(UTC), 30) >= 1
    assert client.get(FEED, params={"after": inside}, headers=headers).status_code == 410
    assert read(client, headers, kept)["items"] == []


def test_numbering_gives_each_event_of_a_bundle_a_position(db, account):
    write(
        db,
        account.id,
        ("user.deleted", '{"identifier":"x","type":"user"}'),
        stored.Table.of_rows("group.member_added", MEMBERS, pairs(5), {}),
        ("user.deleted", '{"identifier":"y","type":"user"}'),
    )
    conn = db.connection()
    start = conn.execute(select(func.coalesce(func.max(Event.position), 0))).scalar()
    assert log.number_waiting(conn) == 3
    rows = conn.execute(
        select(Event.position, Event.span).where(Event.account_id == account.id).order_by(Event.id)
    ).all()
    assert [(p - start, s) for p, s in rows] == [(1, 1), (6, 5), (7, 1)]
