"""The change log: writing events in the change's transaction, numbering them once committed, and
forgetting them after the retention period (docs/decisions/0009-change-log.md)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import chain, groupby
from operator import itemgetter
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_json
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    CursorResult,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    bindparam,
    cast,
    insert,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import UpdateBase

from enabley.db.bulk import BulkCopy, Direct, KeyedRead, copies, execute
from enabley.db.columns import UtcDateTime, utcnow
from enabley.db.engine import WRITE_OPTION
from enabley.errors import NotFound
from enabley.events import stored
from enabley.models import Account, Event
from enabley.models.event import EVENT_ID_LENGTH, EVENT_TYPE_LENGTH

EVENTS: Table = Event.__table__  # type: ignore[assignment]
EMITTED_KEYS = ("event_id", "type", "data", "span", "occurred_at", "account_id")
"""The columns a row is written with: the first four its own, the last two those of the write."""
_BACKSLASH, _ESCAPED = "\\", "\\\\"
Row = tuple[str, str, str, int]
"""A row as written: ``(event_id, type, data, span)``, ``data`` JSON text (a bundle's table when
``span`` is over 1: ``events.stored``)."""
SEQUENCE_BATCH = 10_000
PURGE_BATCH = 10_000
FEW_ROWS = 20  # up to this many events, one INSERT rather than COPY
SEQUENCER_LOCK = 0x656E61626C6579  # any constant: the advisory lock every sequencer takes

# An account's waiting events, numbered after the highest position given (the unique index of
# numbered rows finds it at once: the condition lets SQLite use that partial index); SQLite's
# writer (BEGIN IMMEDIATE) or PostgreSQL's advisory lock keeps it the highest. The index of
# unnumbered rows gives them by account, in the order they were written. A row takes the
# position of its last event: a bundle's ``span`` events take the positions up to it.
NUMBER_ACCOUNT_WAITING = text(
    "UPDATE events SET position = waiting.last + waiting.n "
    "FROM (SELECT id, sum(span) OVER (ORDER BY id) AS n, "
    "(SELECT coalesce(max(position), 0) FROM events WHERE position IS NOT NULL) AS last "
    "FROM events WHERE position IS NULL AND account_id = :account_id ORDER BY id LIMIT :limit) "
    "AS waiting WHERE events.id = waiting.id"
)
# The next account with waiting events: one probe of the index of unnumbered rows.
NEXT_WAITING_ACCOUNT = text(
    "SELECT min(account_id) FROM events WHERE position IS NULL AND account_id > :after"
)

# The bulk writes take ``data`` already as JSON text (pydantic_core's encoder, several times faster
# than the column type's json.dumps): the same table, its data column declared as text.
_RAW = Table(
    "events",
    MetaData(),
    Column("event_id", String(EVENT_ID_LENGTH)),
    Column("type", String(EVENT_TYPE_LENGTH)),
    Column("data", Text()),
    Column("span", Integer()),
    Column("occurred_at", UtcDateTime()),
    Column("account_id", Integer()),
)
_copy_rows = BulkCopy(_RAW, EMITTED_KEYS)


SQLITE_ROWS = 1000  # rows per INSERT on SQLite: four parameters a row, under its 32,766


@lru_cache(maxsize=8)
def _sqlite_insert(rows: int) -> str:
    """An INSERT of ``rows`` rows on SQLite: their own values numbered from ``?3``, the write's
    time and account (``?1``, ``?2``) bound once for all of them."""
    values = ", ".join(
        f"(?{4 * i + 3}, ?{4 * i + 4}, ?{4 * i + 5}, ?{4 * i + 6}, ?1, ?2)" for i in range(rows)
    )
    return f"INSERT INTO events ({', '.join(EMITTED_KEYS)}) VALUES {values}"  # noqa: S608 (constants)


# On PostgreSQL a few events go by one statement that also holds their account as ``_HOLD_ACCOUNTS``
# does: no round trip more than the INSERT's. Nothing is written when the account is gone. The
# events take their ids in the order given. Their values go as scalars: psycopg escapes the
# elements of an array in Python, which for JSON text cost more than the rest of the write.
_INSERT_HELD = (
    "WITH held AS (SELECT id FROM accounts WHERE id = %s FOR KEY SHARE) "
    "INSERT INTO events (event_id, type, data, span, occurred_at, account_id) "
    "SELECT e.event_id, e.type, e.data::json, e.span::integer, %s::timestamptz, held.id "
    "FROM held, (VALUES {values}) AS e(event_id, type, data, span, n) ORDER BY e.n"
)
_INSERTS_HELD = [
    _INSERT_HELD.format(values=", ".join(f"(%s, %s, %s, %s, {n})" for n in range(count)))
    for count in range(FEW_ROWS + 1)
]

# What the foreign key from ``events.account_id`` checked for every row, once per write instead:
# that the accounts exist and, on PostgreSQL, that they stay until the transaction ends (the key's
# own lock, FOR KEY SHARE: deleting an account waits for the writes holding it).
_HOLD_ACCOUNTS = KeyedRead(
    select(Account.id)
    .where(Account.id.in_(bindparam("keys", expanding=True)))
    .with_for_update(read=True, key_share=True)
)


def new_event_id() -> str:
    """``evt_`` then 12 hex digits of milliseconds and 20 of randomness: unique, unguessable, and
    sorted by creation time like the link ids of models/identity.py."""
    return f"evt_{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def new_event_ids(count: int) -> list[str]:
    """``count`` ids of ``new_event_id``'s form, made at once: one read of the system's randomness
    for all of them rather than one each (0.25 µs an id against 2 µs, for the 250,000 events of
    a 100,000-user upload)."""
    stamp = f"evt_{time.time_ns() // 1_000_000:012x}"
    noise = os.urandom(10 * count).hex()
    return [stamp + noise[i : i + 20] for i in range(0, 20 * count, 20)]


def emit(session: Session, account_id: int, type: str, data: dict[str, Any]) -> None:
    """Record that ``type`` happened to ``data`` in ``account_id``, in the session's transaction:
    kept if and only if the change it describes is.

    Written as ``emit_many`` writes (a prepared statement on the session's own connection): an
    ORM insert built per call cost more than the rest of a ``PUT /api/v2/users`` (bench/README.md)."""
    _write(session, account_id, utcnow(), [(new_event_id(), type, to_json(data).decode(), 1)])


def emit_object(session: Session, account_id: int, type: str, shown: BaseModel) -> None:
    """``emit`` with ``data`` the object as the integration API shows it (its wire model),
    encoded straight from the model: the same JSON as its ``model_dump(mode="json")`` encoded
    again, without the intermediate dictionary."""
    _write(session, account_id, utcnow(), [(new_event_id(), type, _shown(shown), 1)])


def _shown(shown: BaseModel) -> str:
    """The wire model's JSON, encoded straight from the model."""
    return shown.__pydantic_serializer__.to_json(shown, by_alias=True).decode()


# ``emit_object_in``'s event on PostgreSQL: an INSERT carried by the change's own statement as a
# data-modifying CTE (SQLite allows none: it writes the event after the statement, in process).
_EMITTED = (
    insert(_RAW)
    .values(
        event_id=bindparam("emitted_id"),
        type=bindparam("emitted_type"),
        data=cast(bindparam("emitted_data", type_=Text()), JSON()),
        occurred_at=bindparam("emitted_at"),
        account_id=bindparam("emitted_account"),
    )
    .cte("emitted")
)


@lru_cache(maxsize=16)
def _carrying(statement: UpdateBase) -> UpdateBase:
    return statement.add_cte(_EMITTED)


def emit_object_in(
    session: Session,
    statement: UpdateBase,
    params: dict[str, Any],
    account_id: int,
    type: str,
    shown: BaseModel,
) -> CursorResult[Any]:
    """Run ``statement`` (with ``params``) and ``emit_object`` in one statement on PostgreSQL:
    the event's INSERT rides in the change's own statement, with no round trip of its own (the
    round trip was most of what the change log cost ``PUT /api/v2/users``, decision 0017).
    Answers the statement's result.

    Only for a statement that changes a row of ``account_id``'s, already locked by this
    transaction, whose foreign key cascades from the account (a user's row read FOR UPDATE, then
    updated): that row holds the account as the account's own lock would. Deleting the account
    deletes it, so the deletion waits for this transaction, then deletes the events it committed;
    and the row exists, so the account does. The account's own row is neither read nor locked."""
    encoded = _shown(shown)
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        result = connection.execute(statement, params)
        _write(session, account_id, utcnow(), [(new_event_id(), type, encoded, 1)])
        return result
    event = {
        "emitted_id": new_event_id(),
        "emitted_type": type,
        "emitted_data": encoded,
        "emitted_at": utcnow(),
        "emitted_account": account_id,
    }
    return connection.execute(_carrying(statement), {**params, **event})


def deleted(kind: str, identifier: str) -> dict[str, Any]:
    """A deletion's ``data``: what was deleted, the object itself being gone."""
    return {"identifier": identifier, "type": kind}


def emit_many(target: Session | Connection | Direct, rows: Iterable[tuple[int, str, dict[str, Any]]]) -> int:
    """``emit`` for many events at once (the bulk upload): rows of ``(account_id, type, data)``,
    written by COPY on PostgreSQL and multi-row INSERTs on SQLite. Answers how many were written."""
    if isinstance(target, Connection):
        target = Direct(target.dialect, target.connection.driver_connection)
    rows = list(rows)
    now, ids = utcnow(), iter(new_event_ids(len(rows)))
    # Each run of one account's events is a write of its own, in the order given.
    for account_id, run in groupby(rows, key=itemgetter(0)):
        _write(
            target, account_id, now, [(next(ids), type_, to_json(data).decode(), 1) for _, type_, data in run]
        )
    return len(rows)


def emit_encoded(target: Session | Direct, account_id: int, rows: Sequence[stored.Encoded]) -> int:
    """``emit_many`` for rows of one account encoded already (``stored.encode``: the upload's,
    encoded while it plans). Answers how many rows were written."""
    return emit_batch(target, encoded_batch(account_id, rows, copy=copies(Direct.of(target))))


@dataclass(frozen=True, slots=True)
class Batch:
    """Rows of one account made ready to write (``encoded_batch``), then written with the change
    (``emit_batch``): ``(event_id, type, data, span)``, and when they go by COPY their text in
    COPY's format (None: psycopg escapes them value by value)."""

    account_id: int
    now: datetime
    rows: list[Row]
    copy_text: str | None


def encoded_batch(account_id: int, rows: Sequence[stored.Encoded], *, copy: bool) -> Batch:
    """``emit_encoded``'s first half, which needs no connection: the rows' ids (a bundle's, its
    first event's), and with ``copy`` (PostgreSQL) their COPY text. The upload makes it on its
    own thread while its write-behind thread writes the previous chunk, on which it would
    otherwise hold the connection idle."""
    now, ids = utcnow(), new_event_ids(len(rows))
    laid_out = [
        (event_id if span == 1 else stored.bundle_id(event_id), type_, data, span)
        for event_id, (type_, data, span) in zip(ids, rows, strict=True)
    ]
    text = _copy_text(laid_out, now, account_id) if copy and len(laid_out) > FEW_ROWS else None
    return Batch(account_id, now, laid_out, text)


def emit_batch(target: Session | Direct, batch: Batch) -> int:
    """Write ``encoded_batch``'s rows in the target's transaction; answers how many."""
    _write(target, batch.account_id, batch.now, batch.rows, batch.copy_text)
    return len(batch.rows)


def _write(
    target: Session | Direct,
    account_id: int,
    now: datetime,
    rows: list[Row],
    copy_text: str | None = None,
) -> None:
    """Write events of ``account_id`` that occurred ``now``: rows of ``(event_id, type, data,
    span)``, ``data`` already JSON text (``copy_text``: the same in COPY's format, when made already). A
    few rows go by one INSERT, which psycopg prepares once per connection: COPY costs a round
    trip more than an INSERT, more than it saves on a handful of rows (bench/README.md)."""
    if not rows:
        return
    target = Direct.of(target)
    copy = copies(target)
    if copy and len(rows) <= FEW_ROWS:
        params = [account_id, now, *(value for row in rows for value in row)]
        if execute(target, _INSERTS_HELD[len(rows)], params) != len(rows):
            raise _gone()
        return
    if not _HOLD_ACCOUNTS.all(target, [account_id]):
        raise _gone()
    if copy:
        text = copy_text if copy_text is not None else _copy_text(rows, now, account_id)
        if text is None:
            _copy_rows.run(target, rows, (now, account_id))
        else:
            _copy_rows.run_text(target, text)
    else:
        to_stored = _RAW.c.occurred_at.type.dialect_impl(target.dialect).bind_processor(target.dialect)
        stored_now = now if to_stored is None else to_stored(now)
        for start in range(0, len(rows), SQLITE_ROWS):
            batch = rows[start : start + SQLITE_ROWS]
            execute(target, _sqlite_insert(len(batch)), [stored_now, account_id, *chain.from_iterable(batch)])


def _gone() -> NotFound:
    return NotFound("The account no longer exists")


def _copy_text(rows: list[Row], now: datetime, account_id: int) -> str | None:
    """The rows (then ``now`` and ``account_id``) in COPY's text format, written at once: a
    quarter of what psycopg's conversion value by value costs. None when a value holds a tab, a
    line break or a carriage return (compact JSON, ids and types hold none): the caller then
    leaves the escaping to psycopg. A backslash, which JSON's own escapes use, is doubled."""
    tail = f"\t{now.astimezone(UTC).isoformat()}\t{account_id}\n"
    text = "".join(
        [
            f"{event_id}\t{type_}\t{data.replace(_BACKSLASH, _ESCAPED)}\t{span}{tail}"
            for event_id, type_, data, span in rows
        ]
    )
    if text.count("\t") != 5 * len(rows) or text.count("\n") != len(rows) or "\r" in text:
        return None
    return text


def sequence(connection: Connection) -> int:
    """Number the committed events that have no position yet, after every position given so far;
    answers how many rows (a bundle is one). Commits its own short transactions.

    A transaction sees only committed rows, and sequencers take turns (an advisory lock on
    PostgreSQL, the single writer on SQLite): an event gets a position above every position any
    reader can have seen, so a reader that follows positions never misses one committed late.
    """
    total = 0
    while True:
        with _transaction(connection):
            numbered = number_waiting(connection)
        total += numbered
        if numbered < SEQUENCE_BATCH:
            return total


def _transaction(connection: Connection) -> AbstractContextManager[Any]:
    """A short write transaction of its own; a savepoint when the caller already holds one open
    (a test's transaction, a CLI command's)."""
    if connection.in_transaction():
        return connection.begin_nested()
    return connection.execution_options(**{WRITE_OPTION: True}).begin()


def number_waiting(connection: Connection, limit: int = SEQUENCE_BATCH, account_id: int | None = None) -> int:
    """Number up to ``limit`` committed rows without a position (of ``account_id`` only, when
    given, else account by account), in the caller's transaction, which must be able to write;
    answers how many rows. The lock it takes lasts until that transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SEQUENCER_LOCK})
    # Within one account, the events of one change keep the order they were written in; accounts'
    # events are independent (each reads its own feed), and the fan-out follows positions.
    if account_id is not None:
        return _number_account(connection, account_id, limit)
    numbered, after = 0, 0
    while numbered < limit:
        account = connection.execute(NEXT_WAITING_ACCOUNT, {"after": after}).scalar()
        if account is None:
            break
        numbered += _number_account(connection, account, limit - numbered)
        after = account
    return numbered


def _number_account(connection: Connection, account_id: int, limit: int) -> int:
    result = connection.execute(NUMBER_ACCOUNT_WAITING, {"limit": limit, "account_id": account_id})
    return int(result.rowcount)


def purge(connection: Connection, now: datetime, retention_days: int) -> int:
    """Forget the events older than ``retention_days``; answers how many. Commits its own short
    transactions.

    Only a prefix of the feed goes, in position order, stopping at the first event still young
    enough (a late commit can put an older event after a younger one): so an event a cursor names
    still exists exactly when nothing after it was forgotten. The last numbered event is always
    kept, so positions never start again from the beginning.
    """
    cutoff = now - timedelta(days=retention_days)
    total = 0
    while True:
        with _transaction(connection):
            removed = _purge_batch(connection, cutoff)
        total += removed
        if removed < PURGE_BATCH:
            return total


def _purge_batch(connection: Connection, cutoff: datetime) -> int:
    oldest = connection.execute(
        select(Event.position, Event.occurred_at)
        .where(Event.position.is_not(None))
        .order_by(Event.position)
        .limit(PURGE_BATCH + 1)
    ).all()
    through = None
    for position, occurred_at in oldest[:-1]:  # never the newest of all
        if occurred_at >= cutoff:
            break
        through = position
    if through is None:
        return 0
    result = connection.execute(EVENTS.delete().where(Event.position.is_not(None), Event.position <= through))
    return int(result.rowcount)
