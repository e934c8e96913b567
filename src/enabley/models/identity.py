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

NEVER_REUSED_IDS: dict[str, Any] = {"sqlite_autoincrement": True}
"""``__table_args__`` of every table with a generated integer id. SQLite otherwise gives the next
row the highest id plus one, so deleting the newest row frees its id for the next one; with
AUTOINCREMENT (and on PostgreSQL, whose sequences never go back) an id is given once."""


class random_uuid(FunctionElement[uuid.UUID]):
    """A random UUID made by the database, for rows that bulk inserts write without one."""

    type = Uuid()
    inherit_cache = True


@compiles(random_uuid, "postgresql")
def _random_uuid_postgresql(element: random_uuid, compiler: Any, **kw: Any) -> str:
    return "gen_random_uuid()"


@compiles(random_uuid, "sqlite")
def _random_uuid_sqlite(element: random_uuid, compiler: Any, **kw: Any) -> str:
    # The 32 hex digits that SQLAlchemy's Uuid stores on SQLite.
    return "lower(hex(randomblob(16)))"


def link_id_column() -> Mapped[uuid.UUID]:
    """``link_id``: what links name a row by. Random, so never given twice and telling nothing;
    never changed, unlike the ``external_id`` an integrator may change or give to a new row."""
    # Made by the database alone: a Python default would add the column to every INSERT, the bulk
    # upload's included, which writes only the columns it names.
    return mapped_column(Uuid, server_default=random_uuid(), unique=True)
