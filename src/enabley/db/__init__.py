"""The database layer, one module per subject (docs/decisions/0007-code-layout.md):

- ``columns``: column types that read and write the same on SQLite and PostgreSQL, ``utcnow``;
- ``base``: the declarative base, ``TenantOwned``, ``owned()`` and ``locked()``;
- ``engine``: ``make_engine`` with the settings every connection gets, and how to read errors;
- ``database``: ``Database``, the units of work of a request and the threads they run on;
- ``stall``: ``StallWatch``, which frees what waits on a PostgreSQL server that stopped answering;
- ``fastquery``: ``FastQuery`` and its ``Reader``, the hot paths' one-row lookups;
- ``bulk``: multi-row writes and reads by a list of keys;
- ``compiled``: the one door to SQLAlchemy's compiler internals that ``fastquery`` and ``bulk`` use;
- ``sql``: constructs SQLAlchemy lacks (INSERT skipping existing keys, an ordered join);
- ``upsert``: insert a row, or find the one a concurrent request inserted first.

Code imports from those modules. The names below stay importable from ``enabley.db`` for the
migrations, which name ``enabley.db.UtcDateTime`` and are never edited once released.
"""

from enabley.db.base import AnySelect, Base, HasAccount, TenantOwned, locked, owned
from enabley.db.columns import JsonType, UtcDateTime, utcnow
from enabley.db.database import Database
from enabley.db.engine import WRITE_OPTION, is_unavailable, make_engine
from enabley.db.fastquery import FastQuery, Reader, reader_of
from enabley.db.sql import OrderedJoin, insert_ignore, insert_ignoring

__all__ = [
    "WRITE_OPTION",
    "AnySelect",
    "Base",
    "Database",
    "FastQuery",
    "HasAccount",
    "JsonType",
    "OrderedJoin",
    "Reader",
    "TenantOwned",
    "UtcDateTime",
    "insert_ignore",
    "insert_ignoring",
    "is_unavailable",
    "locked",
    "make_engine",
    "owned",
    "reader_of",
    "utcnow",
]
