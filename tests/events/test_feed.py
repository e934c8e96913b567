"""The change feed: order, cursors, type patterns, retention and commits that land out of order."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.events import log
from enabley.events import service as feed
from enabley.models import Account, Event
from tests.events.helpers import FEED, cursor, events, kinds, read
from tests.factories import user_body


def put_user(client, headers, identifier, **fields):
    r = client.put("/api/v2/users", json=user_body(identifier, **fields), headers=headers)
    assert r.status_code in (200, 201), r.text


def put_group(client, headers, identifier):
    r = client.put("/api/v1/groups", json={"identifier": identifier, "name": identifier}, headers=headers)
    assert r.status_code in (200, 201), r.text


def test_pages_follow_each_other_without_gaps_or_repeats(client, headers):
    for i in range(7):
        put_user(client, headers, f"u{i}")
    seen, after = [], None
    while True:
        page = read(client, headers, after, limit=3)
        if not page["items"]:
            break
        assert len(page["items"]) <= 3
        seen += [e["data"]["identifier"] for e in page["items"]]
        after = page["nextCursor"]
    assert seen == [f"u{i}" for i in range(7)]
    # Polling on: an empty page keeps the cursor, and what comes next follows it.
    assert read(client, headers, after) == {"items": [], "nextCursor": after}
    put_user(client, headers, "late")
    assert [e["data"]["identifier"] for e in events(client, headers, after)] == ["late"]


def test_an_empty_feed_starts_with_no_cursor(client, headers):
    assert read(client, headers) == {"items": [], "nextCursor": None}


def test_type_patterns(client, headers):
    put_user(client, headers, "u")
    put_group(client, headers, "g")
    r = client.post("/api/v1/groups/g/users/u", headers={**headers, "Content-Type": "application/json"})
    assert r.status_code == 200
    assert kinds(client, headers, types="user.*") == ["user.created"]
    assert kinds(client, headers, types="group") == ["group.created", "group.member_added"]
    assert kinds(client, headers, types="group.member_added, user.created") == [
        "user.created",
        "group.member_added",
    ]
    assert kinds(client, headers, types="*") == ["user.created", "group.created", "group.member_added"]
    assert kinds(client, headers, types="channel.*") == []


@pytest.mark.parametrize(
    ("params", "wanted"),
    [
        ({"types": "user.%"}, "Invalid event type pattern"),
        ({"types": "User.created"}, "Invalid event type pattern"),
        ({"after": "not a cursor!"}, "Malformed cursor"),
        ({"limit": 0}, None),
        ({"limit": 1001}, None),
    ],
)
def test_bad_parameters_are_400(client, headers, params, wanted):
    r = client.get(FEED, params=params, headers=headers)
    assert r.status_code == 400, r.text
    if wanted:
        assert wanted in r.json()["error_description"]


def test_a_cursor_past_retention_is_410(client, headers, db, account):
    put_user(client, headers, "old")
    old = cursor(client, headers)
    put_user(client, headers, "kept")
    kept = cursor(client, headers)
    conn = db.connection()
    conn.execute(
        update(Event)
        .where(Event.account_id == account.id)
        .values(occurred_at=datetime.now(UTC) - timedelta(days=31))
    )
    # The newest event of all is kept, so that positions never start again.
    assert log.purge(conn, datetime.now(UTC), 30) >= 1
    r = client.get(FEED, params={"after": old}, headers=headers)
    assert r.status_code == 410
    assert r.json()["error"] == "gone" and "resync" in r.json()["error_description"]
    assert read(client, headers, kept)["items"] == []
    assert [e["data"]["identifier"] for e in events(client, headers)] == ["kept"]


def test_purge_keeps_what_is_younger_than_retention(client, headers, db):
    put_user(client, headers, "young")
    assert log.purge(db.connection(), datetime.now(UTC), 30) == 0
    assert kinds(client, headers) == ["user.created"]


def test_sequence_numbers_every_waiting_event_once(db, account):
    conn = db.connection()
    log.emit_many(conn, [(account.id, "user.created", {"identifier": f"x{i}"}) for i in range(5)])
    assert log.sequence(conn) >= 5
    assert log.sequence(conn) == 0
    page = json.loads(feed.read_feed(db, SimpleNamespace(account_id=account.id), None, [], 10))
    assert [e["data"]["identifier"] for e in page["items"]] == [f"x{i}" for i in range(5)]


def test_numbering_takes_every_account_s_waiting_events_each_in_the_order_written(db, account):
    """The index of unnumbered events holds them by account: one pass numbers each account's in
    turn, within ``limit`` in all, and each account's in the order they were written."""
    other = accounts_service.create_account(db, "numbered-too", [])
    conn = db.connection()
    log.emit_many(conn, [(other.id, "user.created", {"identifier": f"o{i}"}) for i in range(3)])
    log.emit_many(conn, [(account.id, "user.created", {"identifier": f"a{i}"}) for i in range(3)])
    log.emit_many(conn, [(other.id, "user.created", {"identifier": f"o{i}"}) for i in range(3, 5)])
    assert log.number_waiting(conn, limit=6) == 6
    assert log.number_waiting(conn, limit=6) == 2
    assert log.number_waiting(conn) == 0
    for owner, wanted in ((account, ["a0", "a1", "a2"]), (other, [f"o{i}" for i in range(5)])):
        page = json.loads(feed.read_feed(db, SimpleNamespace(account_id=owner.id), None, [], 10))
        assert [e["data"]["identifier"] for e in page["items"]] == wanted


def test_commits_out_of_order_are_seen_once_in_the_order_they_became_visible(engine, backend):
    """T1 writes first and commits last: a reader that already read past T2's event still gets
    T1's, after it; nothing twice."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: its transactions cannot commit out of order")
    with Session(engine) as session:
        account = Account(name=f"feed-order-{datetime.now(UTC).timestamp()}")
        session.add(account)
        session.commit()
        tenant = SimpleNamespace(account_id=account.id)
    t1, t2 = engine.connect(), engine.connect()
    try:
        t1.begin()
        log.emit(Session(bind=t1), account.id, "user.created", {"identifier": "first-written"})
        with t2.begin():
            log.emit(Session(bind=t2), account.id, "user.created", {"identifier": "first-committed"})

        def read_after(after: str | None) -> tuple[list[str], str | None]:
            with Session(engine) as session, session.begin():
                page = json.loads(feed.read_feed(session, tenant, after, [], 100))
            return [e["data"]["identifier"] for e in page["items"]], page["nextCursor"]

        seen, after = read_after(None)
        assert seen == ["first-committed"]
        t1.commit()
        seen, after = read_after(after)
        assert seen == ["first-written"]
        assert read_after(after)[0] == []
    finally:
        t1.close()
        t2.close()
        with Session(engine) as session, session.begin():
            accounts_service.delete_account(session, account.name)
