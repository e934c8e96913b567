"""How events are written: their data stored as given, and only for an account that exists while
the write lasts (what the foreign key from ``events.account_id`` checked, decision 0013)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.errors import NotFound
from enabley.events import log
from enabley.events import service as feed
from enabley.models import Account, Event, User
from enabley.users import service as users_service
from enabley.users.schemas import UserData

AWKWARD = ["back\\slash", 'quote " and \\" both', "tab\tand\nnewline\r", "ünïcødé ✓ \u2028", "\\N", "\\."]


def stored_data(db: Session, account_id: int) -> list[str]:
    log.sequence(db.connection())
    page = json.loads(feed.read_feed(db, SimpleNamespace(account_id=account_id), None, [], 1000))
    return [json.dumps(e["data"], separators=(",", ":"), ensure_ascii=False) for e in page["items"]]


@pytest.mark.parametrize("count", [1, log.FEW_ROWS + 1])  # one INSERT; PostgreSQL's COPY
def test_data_is_stored_as_written(db, account, count):
    rows = [(account.id, "user.created", {"identifier": f"x{i}", "values": AWKWARD}) for i in range(count)]
    log.emit_many(db.connection(), rows)
    expected = [json.dumps(data, separators=(",", ":"), ensure_ascii=False) for _, _, data in rows]
    assert stored_data(db, account.id) == expected


@pytest.mark.parametrize("count", [1, log.FEW_ROWS + 1])
def test_a_bulk_write_stores_its_time_as_the_orm_compares_it(db, account, monkeypatch, count):
    """The time a bulk write binds once for its events is stored in the column's own form: a
    query by time (replay's ``since``) finds them, also at a whole second (SQLite compares the
    text it stores)."""
    at = datetime(2026, 12, 6, 16, 13, 36, tzinfo=UTC)
    monkeypatch.setattr(log, "utcnow", lambda: at)
    log.emit_encoded(db, account.id, [("user.created", '{"identifier":"x"}', 1)] * count)
    found = select(func.count()).select_from(Event).where(Event.account_id == account.id)
    assert db.scalar(found.where(Event.occurred_at >= at)) == count
    assert db.scalar(found.where(Event.occurred_at == at)) == count


def test_data_with_layout_goes_by_the_driver_and_is_kept(db, account):
    """JSON text with tabs and line breaks between its tokens (which no emitter writes) would
    break COPY's text format if written as is: it is escaped value by value instead."""
    laid_out = '{\n\t"identifier": "x",\r\n\t"n": 1\n}'
    log.emit_encoded(db, account.id, [("user.created", laid_out, 1)] * (log.FEW_ROWS + 1))
    stored = db.execute(select(func.count()).where(Event.account_id == account.id, Event.data.is_not(None)))
    assert stored.scalar_one() == log.FEW_ROWS + 1
    assert stored_data(db, account.id) == ['{"identifier":"x","n":1}'] * (log.FEW_ROWS + 1)


@pytest.mark.parametrize("count", [1, log.FEW_ROWS + 1])
def test_no_event_is_written_for_an_account_that_does_not_exist(db, account, count):
    missing = account.id + 1000
    with pytest.raises(NotFound):
        log.emit_many(db.connection(), [(missing, "user.created", {"identifier": "x"})] * count)
    with pytest.raises(NotFound):
        log.emit(db, missing, "user.created", {"identifier": "x"})
    assert db.scalar(select(func.count()).where(Event.account_id == missing)) == 0


@pytest.mark.parametrize("count", [1, log.FEW_ROWS + 1])  # one statement holds it; a query first
def test_an_account_deleted_while_a_write_emits_keeps_none_of_its_events(engine, backend, count):
    """The write holds the account as the foreign key's check did: deleting it waits for the
    write to commit, then deletes its events with the rest."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: a deletion cannot run during a write")
    name = f"deleted-while-writing-{count}-{datetime.now(UTC).timestamp()}"
    with Session(engine) as session:
        account = Account(name=name)
        session.add(account)
        session.commit()
        account_id = account.id
    writer = engine.connect()
    deleted = threading.Event()

    def delete() -> None:
        with Session(engine) as session, session.begin():
            accounts_service.delete_account(session, name)
        deleted.set()

    try:
        writer.begin()
        log.emit_many(writer, [(account_id, "user.created", {"identifier": f"x{i}"}) for i in range(count)])
        deleting = threading.Thread(target=delete)
        deleting.start()
        assert not deleted.wait(0.5)  # waits for the write holding the account
        writer.commit()
        deleting.join(10)
        assert deleted.is_set()
    finally:
        writer.close()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).where(Event.account_id == account_id)) == 0
        assert session.get(Account, account_id) is None


def _account_with_user(engine: Engine, label: str) -> tuple[str, int]:
    name = f"{label}-{datetime.now(UTC).timestamp()}"
    with Session(engine) as session, session.begin():
        account = accounts_service.create_account(session, name, ["EU"])
        users_service.put_user(
            session, SimpleNamespace(account_id=account.id), UserData(identifier="u"), None
        )
        return name, account.id


def _deleting(engine: Engine, name: str) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    """The account's deletion, started on a connection of its own."""
    deleted, failed = threading.Event(), []

    def delete() -> None:
        try:
            with Session(engine) as session, session.begin():
                accounts_service.delete_account(session, name)
            deleted.set()
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=delete)
    thread.start()
    return thread, deleted, failed


def _left(engine: Engine, account_id: int) -> tuple[int, Account | None]:
    with Session(engine) as session:
        events = session.scalar(select(func.count()).where(Event.account_id == account_id))
        return int(events or 0), session.get(Account, account_id)


def test_an_account_deleted_while_a_user_is_updated_keeps_none_of_its_events(engine, backend):
    """``user.updated`` rides in the user's UPDATE and takes no lock on the account's row: the
    user's row, locked and updated, holds the account. Its deletion, which deletes that row,
    waits for the update to commit, then deletes its event with the rest."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: a deletion cannot run during a write")
    name, account_id = _account_with_user(engine, "deleted-while-updating")
    with Session(engine) as writer:
        writer.begin()
        tenant = SimpleNamespace(account_id=account_id)
        users_service.put_user(writer, tenant, UserData(identifier="u", first_name="Changed"), None)
        deleting, deleted, failed = _deleting(engine, name)
        assert not deleted.wait(0.5)  # waits for the write holding the user's row
        writer.commit()
    deleting.join(10)
    assert deleted.is_set(), failed
    assert _left(engine, account_id) == (0, None)


def test_a_user_held_before_the_deletion_began_is_updated_and_its_event_deleted(engine, backend):
    """The update holds the user's row (its first statement) before the deletion begins; the
    deletion then holds the account's row (deleted) and waits for the user's. The update's event
    must not wait for the account's row in turn, as a lock on it would: a deadlock, which fails
    one of the two after PostgreSQL's deadlock_timeout."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time: a deletion cannot run during a write")
    name, account_id = _account_with_user(engine, "deleted-while-held")
    with Session(engine) as writer:
        writer.begin()
        held = select(User.id).where(User.account_id == account_id, User.external_id == "u").with_for_update()
        assert writer.execute(held).scalar() is not None
        deleting, deleted, failed = _deleting(engine, name)
        _wait_until_blocked(engine, name)
        tenant = SimpleNamespace(account_id=account_id)
        users_service.put_user(writer, tenant, UserData(identifier="u", first_name="Changed"), None)
        writer.commit()
    deleting.join(10)
    assert deleted.is_set(), failed
    assert _left(engine, account_id) == (0, None)


def _wait_until_blocked(engine: Engine, name: str) -> None:
    """Until the deletion of account ``name`` waits for a lock (on the user's row)."""
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'DELETE FROM%'"
    )
    for _ in range(100):
        with engine.connect() as probe:
            if probe.execute(waiting).scalar():
                return
        time.sleep(0.05)
    raise AssertionError(f"the deletion of {name} never waited")
