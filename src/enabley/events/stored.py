"""How the change log's rows hold events (docs/decisions/0016-bundled-upload-events.md).

A row holds one event (``span`` 1: its id, type and data as the feed shows them), or a
*bundle*: many events of one type that one bulk write made together (the upload's users and
memberships), in one row whose ``span`` is how many. A bundle's ``data`` is a table rather
than a document an event::

    {"keys": ["groupIdentifier", "userIdentifier"], "columns": [["g1", "g2", ...], ["u1", "u1", ...]],
     "common": {}}

its *i*-th event's data being ``{keys[k]: columns[k][i], ..., **common}``. Its events share the
row's type and time; their ids are the row's ``event_id`` with its last four hex digits
replaced by *i*'s (the row's is its first event's), their positions ``position - span + 1``
onwards. Nothing a consumer reads tells a bundled event from another: the feed and the
deliveries lay bundles out as events (``events``); a cursor names an event of a bundle as it
names any other.

A bundle costs a bulk write one row and one JSON document per type and chunk instead of one per
event: the upload's 250,000 events for 100,000 users are 2.5 times as many rows as users
otherwise, which cost SQLite, on its one writer, more than the 15 % the change log may add.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json
from sqlalchemy import Connection, Select, Text, cast

from enabley.models import Event

BUNDLE_LIMIT = 10_000
"""Events a bundle holds at most: their ids' index is four hex digits (65,536); a feed page that
starts in a bundle parses it whole."""
INDEX_DIGITS = 4


@dataclass(frozen=True, slots=True)
class Table:
    """Events of one type written together, as a table: ``keys``, a column of values a key
    (the *i*-th value of each is the *i*-th event's), and what every event's data has in
    ``common``."""

    type: str
    keys: tuple[str, ...]
    columns: Sequence[Sequence[Any]]
    common: dict[str, Any]

    @classmethod
    def of_rows(
        cls, type: str, keys: tuple[str, ...], rows: Sequence[Sequence[Any]], common: dict[str, Any]
    ) -> Table:
        """The table of ``rows`` of values, one an event."""
        return cls(type, keys, list(zip(*rows, strict=True)) if rows else [() for _ in keys], common)

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0


Encoded = tuple[str, str, int]
"""A row of the change log ready to write: its type, its data as JSON text, its span."""


def encode(table: Table) -> list[Encoded]:
    """The table's events as rows to write: bundles of up to ``BUNDLE_LIMIT`` events (one JSON
    document each, encoded at once); a single event as a row of its own."""
    count = len(table)
    if count == 1:
        return [(table.type, _json(_data(table.keys, [c[0] for c in table.columns], table.common)), 1)]
    keys, common = list(table.keys), table.common
    encoded = []
    for start in range(0, count, BUNDLE_LIMIT):
        columns = [column[start : start + BUNDLE_LIMIT] for column in table.columns]
        span = min(BUNDLE_LIMIT, count - start)
        encoded.append((table.type, _json({"keys": keys, "columns": columns, "common": common}), span))
    return encoded


def bundle_id(event_id: str) -> str:
    """A bundle's ``event_id`` made from a new event id: its first event's."""
    return event_id[:-INDEX_DIGITS] + "0" * INDEX_DIGITS


def member_id(event_id: str, index: int) -> str:
    """The id of a bundle's ``index``-th event (from 0)."""
    return f"{event_id[:-INDEX_DIGITS]}{index:0{INDEX_DIGITS}x}"


def id_at(event_id: str, span: int, position: int, wanted: int) -> str | None:
    """The id of the event at position ``wanted`` in the row (``event_id``, ``span``,
    ``position``); None when the row holds no event there."""
    index = wanted - (position - span) - 1
    if not 0 <= index < span:
        return None
    return event_id if span == 1 else member_id(event_id, index)


@dataclass(frozen=True, slots=True)
class Stored:
    """One event as read back: its position, id, type, the row's time and the row's id, its data
    as JSON text."""

    position: int
    event_id: str
    type: str
    occurred_at: Any
    row_id: int
    data: str


def events(rows: Iterable[Any], after: int = 0) -> Iterator[Stored]:
    """The events of stored rows (with ``id``, ``event_id``, ``type``, ``occurred_at``, ``data``
    as text, ``position``, ``span``), in order, those at positions after ``after`` only."""
    for row in rows:
        first = row.position - row.span + 1
        if row.span == 1:
            if row.position > after:
                yield Stored(row.position, row.event_id, row.type, row.occurred_at, row.id, row.data)
            continue
        bundle = json.loads(row.data)
        keys, columns, common = bundle["keys"], bundle["columns"], bundle["common"]
        for index in range(max(0, after - first + 1), row.span):
            yield Stored(
                first + index,
                member_id(row.event_id, index),
                row.type,
                row.occurred_at,
                row.id,
                _json(_data(keys, [column[index] for column in columns], common)),
            )


def as_json(event: Stored, timestamp: str) -> str:
    """The event as the change feed shows it and a webhook delivery posts it, ``timestamp`` its
    time formatted: its data goes as stored. Ids and types hold no character JSON escapes
    (``evt_`` and hex, ``[a-z_.]``)."""
    return f'{{"id":"{event.event_id}","type":"{event.type}","timestamp":"{timestamp}","data":{event.data}}}'


def rows_holding(spans: Sequence[Any], after: int, limit: int) -> int:
    """How many of the first rows (with ``position`` and ``span``, in position order) hold the
    first ``limit`` events after ``after``: whole rows, at least one."""
    held = 0
    for count, row in enumerate(spans, start=1):
        held += min(row.span, row.position - after)
        if held >= limit:
            return count
    return len(spans)


ROW_COLUMNS = (
    Event.id,
    Event.event_id,
    Event.type,
    Event.occurred_at,
    cast(Event.data, Text).label("data"),
    Event.position,
    Event.span,
    Event.account_id,
)
"""What ``events`` reads of a row (its data as the text written)."""


def read_rows(connection: Connection, stmt: Select[Any], after: int, limit: int) -> Sequence[Any]:
    """The first rows of ``stmt`` (numbered events) in position order that hold the first
    ``limit`` events after position ``after``: whole rows, and as few as hold them. Their spans
    are read first, so that a bundle of thousands of events is read only when it is wanted."""
    by_position = stmt.order_by(Event.position)
    spans = connection.execute(by_position.with_only_columns(Event.position, Event.span).limit(limit)).all()
    if not spans:
        return []
    wanted = rows_holding(spans, after, limit)
    return connection.execute(by_position.with_only_columns(*ROW_COLUMNS).limit(wanted)).all()


def _data(keys: Sequence[str], values: Sequence[Any], common: dict[str, Any]) -> dict[str, Any]:
    data = dict(zip(keys, values, strict=True))
    data.update(common)
    return data


def _json(value: Any) -> str:
    return to_json(value).decode()
