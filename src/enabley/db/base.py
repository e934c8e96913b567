"""The declarative base, and the tenancy helpers every tenant query starts from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeAlias, TypeVar

from sqlalchemy import ForeignKey, MetaData, Select, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from enabley.db.columns import JsonType, UtcDateTime
from enabley.db.engine import WRITE_OPTION


class Base(DeclarativeBase):
    # Named constraints: SQLite batch migrations can only drop what has a name.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )
    type_annotation_map = {datetime: UtcDateTime, dict[str, Any]: JsonType, list[str]: JsonType}


class TenantOwned:
    """Mixin for every table that belongs to one account."""

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))


class HasAccount(Protocol):
    @property
    def account_id(self) -> int: ...


@dataclass(frozen=True, slots=True)
class AccountScope:
    """An account to scope queries by, where no tenant is at hand (the public PDF link, the
    worker's tasks that serve every account, migrations)."""

    account_id: int


M = TypeVar("M", bound=TenantOwned)

AnySelect: TypeAlias = Select[*tuple[Any, ...]]
"""A SELECT of any columns (SQLAlchemy 2.1 types a Select by its column types)."""
AnySelectT = TypeVar("AnySelectT", bound=AnySelect)


def owned(model: type[M], tenant: HasAccount) -> Select[M]:
    """The only place that writes ``account_id ==``: every tenant query starts here."""
    return select(model).where(model.account_id == tenant.account_id)


def locked(session: Session, stmt: AnySelectT, *, changing: bool = False) -> AnySelectT:
    """``stmt`` locking the rows it reads until commit, when ``session`` writes to PostgreSQL.

    A write that looks a row up and then refers to it must not interleave with a concurrent
    delete of that row (a foreign key error, or an UPDATE that matches nothing: a 500) or a
    change of its identifier (two renames of one user both succeeding). Under FOR KEY SHARE
    such a delete or re-key waits for this transaction; committed first, it hides the row, so
    the lookup answers as it would have after it. ``changing``: this write itself deletes the
    row, changes its unique columns, or replaces what hangs off it as a whole: FOR UPDATE, so
    that two such writes queue (rather than deadlock, or both add what each meant to replace).
    SQLite needs no row locks: a writer holds the whole database (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name != "postgresql":
        return stmt
    if not session.connection().get_execution_options().get(WRITE_OPTION, False):
        return stmt
    return stmt.with_for_update() if changing else stmt.with_for_update(read=True, key_share=True)
