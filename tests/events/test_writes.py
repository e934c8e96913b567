"""How events are written: their data stored as given, and only for an account that exists while
the write lasts (what the foreign key from ``events.account_id`` checked, decision 0013)."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.errors import NotFound
from enabley.events import log
from enabley.events import service as feed
from enabley.models import Account, Event

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
