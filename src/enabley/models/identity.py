"""Identifiers that never come to name a second row.

Whatever a server hands out (a link, a pagination key) or keeps (a cache) must never resolve to
another row than the one it was made for, even after that row is deleted.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Uuid
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.functions import FunctionElement

ORDERED_UUID = {
    # 12 hex digits of milliseconds since 1970, then 20 of a random UUID (its version digit and
    # variant bits included).
    "postgresql": "(lpad(to_hex((extract(epoch from clock_timestamp()) * 1000)::bigint), 12, '0') "
    "|| right(replace(gen_random_uuid()::text, '-', ''), 20))::uuid",
    # The 32 hex digits that SQLAlchemy's Uuid stores on SQLite: milliseconds, then 80 random bits.
    "sqlite": "printf('%012x', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)) "
    "|| lower(hex(randomblob(10)))",
}

NEVER_REUSED_IDS: dict[str, Any] = {"sqlite_autoincrement": True}
"""``__table_args__`` of every table with a generated integer id. SQLite otherwise gives the next
row the highest id plus one, so deleting the newest row frees its id for the next one; with
AUTOINCREMENT (and on PostgreSQL, whose sequences never go back) an id is given once."""


class ordered_uuid(FunctionElement[uuid.UUID]):
    """A random UUID made by the database, led by the time it is made (in milliseconds), as a
    UUIDv7 is: rows made together sit together in a unique index, so a bulk insert of users adds
    to its end rather than all over it (on SQLite, a million users insert several times faster
    than with fully random values). The 74 to 80 random bits that follow make it unguessable."""

    type = Uuid()
    inherit_cache = True


@compiles(ordered_uuid, "postgresql")
def _ordered_uuid_postgresql(element: ordered_uuid, compiler: Any, **kw: Any) -> str:
    return ORDERED_UUID["postgresql"]


@compiles(ordered_uuid, "sqlite")
def _ordered_uuid_sqlite(element: ordered_uuid, compiler: Any, **kw: Any) -> str:
    return ORDERED_UUID["sqlite"]


def link_id_column() -> Mapped[uuid.UUID]:
    """``link_id``: what links name a row by. Random (after its time prefix), so never given twice
    and never guessed; never changed, unlike the ``external_id`` an integrator may change or give
    to a new row."""
    # Made by the database alone: a Python default would add the column to every INSERT, the bulk
    # upload's included, which writes only the columns it names.
    return mapped_column(Uuid, server_default=ordered_uuid(), unique=True)
