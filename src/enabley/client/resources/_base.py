"""What every resource group shares: sending a call, and walking a paged endpoint to its end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import TypeVar

from enabley.client._call import Call
from enabley.client._transport import AsyncEngine, SyncEngine
from enabley.client.models._base import Page

T = TypeVar("T")

PageCall = Callable[[str | None], Call[Page[T]]]
"""The call for the page at a paginationKey (``None``: the first page)."""


class SyncResource:
    def __init__(self, engine: SyncEngine) -> None:
        self._engine = engine

    def _pages(self, page_at: PageCall[T]) -> Iterator[Page[T]]:
        key: str | None = None
        while True:
            page = self._engine.send(page_at(key))
            yield page
            key = page.pagination_key
            if not key:
                return

    def _items(self, page_at: PageCall[T]) -> Iterator[T]:
        for page in self._pages(page_at):
            yield from page.items


class AsyncResource:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def _pages(self, page_at: PageCall[T]) -> AsyncIterator[Page[T]]:
        key: str | None = None
        while True:
            page = await self._engine.send(page_at(key))
            yield page
            key = page.pagination_key
            if not key:
                return

    async def _items(self, page_at: PageCall[T]) -> AsyncIterator[T]:
        async for page in self._pages(page_at):
            for item in page.items:
                yield item
