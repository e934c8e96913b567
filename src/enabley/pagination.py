"""Keyset pagination behind an opaque ``paginationKey``.

A key is an encrypted, authenticated and expiring token (Fernet) holding the account, the
endpoint, the filters of the walk, the position after the last item served, the page number
and the total counted when the walk began. Nothing in it can be read or altered by a client,
it works on every process that shares the database, and page N costs what page 1 costs.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any, Generic, TypeVar

from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, Row, func, select, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session

from enabley.config import Settings
from enabley.db.base import AnySelect
from enabley.errors import NotFound
from enabley.schemas import ApiModel
from enabley.security import KeyRing

T = TypeVar("T")
Q = TypeVar("Q", bound="PageQuery")

FilterValue = str | int | bool | None
MAX_KEY_LENGTH = 4096


class PageQuery(BaseModel):
    """The query parameters of a paged route: ``paginationKey``, and the route's filters as a
    subclass's fields, each under its alias. The filters go into the key by alias, and come back
    from it as this model: a route's filter names are written once, here."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    pagination_key: str | None = Field(
        None, alias="paginationKey", max_length=MAX_KEY_LENGTH, description="Pagination key"
    )

    def filters(self) -> dict[str, FilterValue]:
        return self.model_dump(by_alias=True, exclude={"pagination_key"})


class Page(ApiModel, Generic[T]):
    """PaginationResponse: one page of items and the key to the next."""

    items: list[T]
    page_size: int
    current_page: int
    total_pages: int
    pagination_key: str | None

    model_config = ConfigDict(from_attributes=False)

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        return f"PaginationResponse_{getattr(params[0], '__name__', 'Item')}"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a walk stands: its filters, the next page number and the keyset position."""

    endpoint: str
    filters: dict[str, FilterValue]
    page: int = 1
    after: tuple[Any, ...] | None = None
    total: int | None = None


@dataclass(slots=True)
class PageResult:
    rows: list[Row[Any]]
    """The page's rows, each followed by its keyset columns."""
    current_page: int
    total_pages: int
    pagination_key: str | None
    page_size: int

    def meta(self) -> dict[str, Any]:
        """The fields of ``Page`` other than ``items``."""
        return {
            "page_size": self.page_size,
            "current_page": self.current_page,
            "total_pages": self.total_pages,
            "pagination_key": self.pagination_key,
        }

    def page(self, items: list[T]) -> Page[T]:
        """The answer: ``items``, this page's, with where the walk stands."""
        return Page[T](items=items, **self.meta())


@dataclass(frozen=True, slots=True)
class Walk(Generic[Q]):
    """What a paged route's service gets: the filters in force (the key's, once a walk has
    begun), where the walk stands, and what reads its next page."""

    query: Q
    cursor: Cursor
    paginator: Paginator
    account_id: int

    def fetch(
        self,
        session: Session,
        stmt: AnySelect,
        order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
    ) -> PageResult:
        """One page of ``stmt`` in ``order`` (which must be unique), after the cursor's position."""
        return self.paginator.fetch(session, self.cursor, stmt, order, account_id=self.account_id)

    def result(self, rows: list[Any], total: int, position: Callable[[Any], list[Any]]) -> PageResult:
        """The page of ``rows`` read by hand (see ``Paginator.result``)."""
        return self.paginator.result(self.cursor, rows, total, position, account_id=self.account_id)

    def counted(self, total: int) -> Walk[Q]:
        """This walk with its total counted by the caller, where the generic count would cost more."""
        if self.cursor.total is not None:
            return self
        return replace(self, cursor=replace(self.cursor, total=total))


class Paginator:
    def __init__(self, keyring: KeyRing, settings: Settings) -> None:
        self._keyring = keyring
        self.page_size = settings.page_size
        self._ttl = settings.pagination_key_ttl_seconds

    @cached_property
    def _fernet(self) -> Fernet:
        return Fernet(self._keyring.fernet_key("pagination-key"))

    def walk(self, query: Q, *, account_id: int, endpoint: str) -> Walk[Q]:
        """The walk ``query`` asks for: its first page, or the page its ``paginationKey`` names."""
        cursor = self.open(
            query.pagination_key, account_id=account_id, endpoint=endpoint, filters=query.filters()
        )
        if query.pagination_key:
            query = type(query).model_validate(cursor.filters)
        return Walk(query=query, cursor=cursor, paginator=self, account_id=account_id)

    def open(
        self, key: str | None, *, account_id: int, endpoint: str, filters: Mapping[str, FilterValue]
    ) -> Cursor:
        """The cursor for this request; 404 for a key that isn't this walk's. An empty key, as a
        URL template with nothing filled in sends it, is no key: the first page.

        Filters repeated next to a key must equal the key's; filters left out are the key's.
        """
        if not key:
            return Cursor(endpoint=endpoint, filters=dict(filters))
        data = self._load(key)
        if data.get("a") != account_id or data.get("e") != endpoint:
            raise _invalid_key()
        bound: dict[str, FilterValue] = data["f"]
        for name, value in filters.items():
            if value is not None and bound.get(name) != value:
                raise _invalid_key()
        return Cursor(
            endpoint=endpoint, filters=bound, page=data["p"], after=tuple(data["k"]), total=data["t"]
        )

    def fetch(
        self,
        session: Session,
        cursor: Cursor,
        stmt: AnySelect,
        order: Sequence[ColumnElement[Any] | InstrumentedAttribute[Any]],
        *,
        account_id: int,
    ) -> PageResult:
        """One page of ``stmt`` in ``order`` (which must be unique), after the cursor's position."""
        total = cursor.total
        if total is None:
            total = session.execute(
                select(func.count()).select_from(stmt.order_by(None).subquery())
            ).scalar_one()
        page_stmt = stmt.add_columns(*(col.label(f"_k{i}") for i, col in enumerate(order)))
        if cursor.after is not None:
            page_stmt = page_stmt.where(tuple_(*order) > tuple_(*cursor.after))
        rows = list(session.execute(page_stmt.order_by(*order).limit(self.page_size + 1)))
        return self.result(cursor, rows, total, lambda row: list(row[-len(order) :]), account_id=account_id)

    def result(
        self,
        cursor: Cursor,
        rows: list[Any],
        total: int,
        position: Callable[[Any], list[Any]],
        *,
        account_id: int,
    ) -> PageResult:
        """The page of ``rows`` (up to ``page_size + 1`` of them, read after the cursor's position);
        ``position`` gives a row's keyset values, the next key's starting point."""
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        next_key = None
        if more:
            next_key = self._dump(
                {
                    "a": account_id,
                    "e": cursor.endpoint,
                    "f": cursor.filters,
                    "p": cursor.page + 1,
                    "k": position(rows[-1]),
                    "t": total,
                }
            )
        return PageResult(
            rows=rows,
            current_page=cursor.page,
            total_pages=math.ceil(total / self.page_size),
            pagination_key=next_key,
            page_size=self.page_size,
        )

    def _dump(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()

    def _load(self, key: str) -> dict[str, Any]:
        if len(key) > MAX_KEY_LENGTH:
            raise _invalid_key()
        try:
            data = json.loads(self._fernet.decrypt(key.encode(), ttl=self._ttl))
        except (InvalidToken, ValueError, UnicodeError):
            raise _invalid_key() from None
        if not isinstance(data, dict) or not {"a", "e", "f", "p", "k", "t"} <= data.keys():
            raise _invalid_key()
        return data


def _invalid_key() -> NotFound:
    return NotFound("The paginationKey is invalid, expired or belongs to another query")
