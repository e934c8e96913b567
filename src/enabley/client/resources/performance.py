"""Performance (API reference 3.6) and the catalog (3.2)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client.models import ExternalCatalogItemGet, ExternalUserChannelPerformance, Page
from enabley.client.resources._base import AsyncResource, SyncResource

PerformanceRow = ExternalUserChannelPerformance


def _all(channel: str | None, user: str | None) -> Call[list[PerformanceRow]]:
    params = {"externalChannelId": channel, "externalUserId": user}
    return Call("GET", "/api/v1/performance", c.list_of(PerformanceRow), params=params)


def _page(key: str | None, channel: str | None, user: str | None) -> Call[Page[PerformanceRow]]:
    params = {"channelIdentifier": channel, "paginationKey": key, "userIdentifier": user}
    return Call("GET", "/api/v2/performance", c.page(PerformanceRow), params=params)


class Performance(SyncResource):
    """``client.performance``: learners' progress, score and completion per channel."""

    def all(self, channel: str | None = None, user: str | None = None) -> builtins.list[PerformanceRow]:
        """Performance rows in one answer (``GET /api/v1/performance``), of a channel, a user or both."""
        return self._engine.send(_all(channel, user))

    def list(
        self, channel: str | None = None, user: str | None = None, pagination_key: str | None = None
    ) -> Page[PerformanceRow]:
        """One page of performance rows (``GET /api/v2/performance``): give a channel, a user or both."""
        return self._engine.send(_page(pagination_key, channel, user))

    def pages(self, channel: str | None = None, user: str | None = None) -> Iterator[Page[PerformanceRow]]:
        return self._pages(lambda key: _page(key, channel, user))

    def iter(self, channel: str | None = None, user: str | None = None) -> Iterator[PerformanceRow]:
        """Every performance row of the channel, the user or both, page after page."""
        return self._items(lambda key: _page(key, channel, user))


class AsyncPerformance(AsyncResource):
    async def all(self, channel: str | None = None, user: str | None = None) -> builtins.list[PerformanceRow]:
        return await self._engine.send(_all(channel, user))

    async def list(
        self, channel: str | None = None, user: str | None = None, pagination_key: str | None = None
    ) -> Page[PerformanceRow]:
        return await self._engine.send(_page(pagination_key, channel, user))

    def pages(
        self, channel: str | None = None, user: str | None = None
    ) -> AsyncIterator[Page[PerformanceRow]]:
        return self._pages(lambda key: _page(key, channel, user))

    def iter(self, channel: str | None = None, user: str | None = None) -> AsyncIterator[PerformanceRow]:
        return self._items(lambda key: _page(key, channel, user))


def _catalog_item(channel: str, sub_account_name: str | None) -> Call[ExternalCatalogItemGet]:
    params = {"externalChannelId": channel, "subAccountName": sub_account_name}
    return Call("GET", "/api/v1/catalog/catalogItem", c.model(ExternalCatalogItemGet), params=params)


class Catalog(SyncResource):
    """``client.catalog``: where a published channel sits in a catalog."""

    def get(self, channel: str, sub_account_name: str | None = None) -> ExternalCatalogItemGet:
        """The catalog item of a channel published in the (sub-)account's catalog."""
        return self._engine.send(_catalog_item(channel, sub_account_name))


class AsyncCatalog(AsyncResource):
    async def get(self, channel: str, sub_account_name: str | None = None) -> ExternalCatalogItemGet:
        return await self._engine.send(_catalog_item(channel, sub_account_name))
