"""Webhook endpoints and their deliveries, and the change feed (admin API)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client.models import (
    EventInfo,
    EventPage,
    Page,
    ReplayInfo,
    Upserted,
    WebhookData,
    WebhookDeliveryInfo,
    WebhookInfo,
)
from enabley.client.resources._base import AsyncResource, SyncResource

HOOKS = "/api/admin/v1/webhooks"
EVENTS = "/api/admin/v1/events"


def _upsert(data: WebhookData | Mapping[str, Any]) -> Call[Upserted[WebhookInfo]]:
    return Call("PUT", HOOKS, c.upserted(WebhookInfo), json=c.body(WebhookData, data))


def _page(key: str | None) -> Call[Page[WebhookInfo]]:
    return Call("GET", HOOKS, c.page(WebhookInfo), params={"paginationKey": key})


def _get(identifier: str) -> Call[WebhookInfo]:
    return Call("GET", c.path(f"{HOOKS}/{{}}", identifier), c.model(WebhookInfo))


def _delete(identifier: str) -> Call[None]:
    return Call("DELETE", c.path(f"{HOOKS}/{{}}", identifier), c.nothing)


def _rotate_secret(identifier: str) -> Call[WebhookInfo]:
    return Call("POST", c.path(f"{HOOKS}/{{}}/rotateSecret", identifier), c.model(WebhookInfo))


def _send_test(identifier: str) -> Call[WebhookDeliveryInfo]:
    return Call("POST", c.path(f"{HOOKS}/{{}}/test", identifier), c.model(WebhookDeliveryInfo))


def _deliveries(identifier: str, key: str | None) -> Call[Page[WebhookDeliveryInfo]]:
    url = c.path(f"{HOOKS}/{{}}/deliveries", identifier)
    return Call("GET", url, c.page(WebhookDeliveryInfo), params={"paginationKey": key})


def _retry(delivery_id: str) -> Call[WebhookDeliveryInfo]:
    return Call("POST", c.path(f"{HOOKS}/deliveries/{{}}/retry", delivery_id), c.model(WebhookDeliveryInfo))


def _replay(identifier: str, since: datetime) -> Call[ReplayInfo]:
    url = c.path(f"{HOOKS}/{{}}/replay", identifier)
    return Call("POST", url, c.model(ReplayInfo), params={"since": since})


class Webhooks(SyncResource):
    """``client.admin.webhooks``: endpoints the account's events are POSTed to, signed."""

    def upsert(self, data: WebhookData | Mapping[str, Any]) -> Upserted[WebhookInfo]:
        """Create the endpoint or update the one with this identifier: ``(endpoint, created)``.
        On creation ``endpoint.secret`` is the signing secret, shown this once: the server keeps
        no copy to replay, so should the answer be lost, the retry is refused (InvalidRequest)
        and ``rotate_secret`` gives a new one."""
        return self._engine.send(_upsert(data))

    def list(self, pagination_key: str | None = None) -> Page[WebhookInfo]:
        """One page of the account's endpoints, oldest first."""
        return self._engine.send(_page(pagination_key))

    def pages(self) -> Iterator[Page[WebhookInfo]]:
        return self._pages(_page)

    def iter(self) -> Iterator[WebhookInfo]:
        """Every endpoint of the account, page after page."""
        return self._items(_page)

    def get(self, identifier: str) -> WebhookInfo:
        return self._engine.send(_get(identifier))

    def delete(self, identifier: str) -> None:
        """Delete the endpoint and its deliveries: nothing more is sent to it."""
        self._engine.send(_delete(identifier))

    def rotate_secret(self, identifier: str) -> WebhookInfo:
        """A new signing secret, shown this once; the previous one keeps signing for 24 hours."""
        return self._engine.send(_rotate_secret(identifier))

    def send_test(self, identifier: str) -> WebhookDeliveryInfo:
        """Queue a ``webhook.test`` event for the endpoint; answers its delivery."""
        return self._engine.send(_send_test(identifier))

    def deliveries(self, identifier: str, pagination_key: str | None = None) -> Page[WebhookDeliveryInfo]:
        """One page of the endpoint's deliveries, oldest first."""
        return self._engine.send(_deliveries(identifier, pagination_key))

    def iter_deliveries(self, identifier: str) -> Iterator[WebhookDeliveryInfo]:
        """Every delivery of the endpoint, page after page."""
        return self._items(lambda key: _deliveries(identifier, key))

    def retry_delivery(self, delivery_id: str) -> WebhookDeliveryInfo:
        """Attempt the delivery (``dlv_...``) again now, a failed one too."""
        return self._engine.send(_retry(delivery_id))

    def replay(self, identifier: str, since: datetime) -> ReplayInfo:
        """Queue again, as new deliveries, the endpoint's events at or after ``since`` (aware)."""
        return self._engine.send(_replay(identifier, since))


class AsyncWebhooks(AsyncResource):
    async def upsert(self, data: WebhookData | Mapping[str, Any]) -> Upserted[WebhookInfo]:
        return await self._engine.send(_upsert(data))

    async def list(self, pagination_key: str | None = None) -> Page[WebhookInfo]:
        return await self._engine.send(_page(pagination_key))

    def pages(self) -> AsyncIterator[Page[WebhookInfo]]:
        return self._pages(_page)

    def iter(self) -> AsyncIterator[WebhookInfo]:
        return self._items(_page)

    async def get(self, identifier: str) -> WebhookInfo:
        return await self._engine.send(_get(identifier))

    async def delete(self, identifier: str) -> None:
        await self._engine.send(_delete(identifier))

    async def rotate_secret(self, identifier: str) -> WebhookInfo:
        return await self._engine.send(_rotate_secret(identifier))

    async def send_test(self, identifier: str) -> WebhookDeliveryInfo:
        return await self._engine.send(_send_test(identifier))

    async def deliveries(
        self, identifier: str, pagination_key: str | None = None
    ) -> Page[WebhookDeliveryInfo]:
        return await self._engine.send(_deliveries(identifier, pagination_key))

    def iter_deliveries(self, identifier: str) -> AsyncIterator[WebhookDeliveryInfo]:
        return self._items(lambda key: _deliveries(identifier, key))

    async def retry_delivery(self, delivery_id: str) -> WebhookDeliveryInfo:
        return await self._engine.send(_retry(delivery_id))

    async def replay(self, identifier: str, since: datetime) -> ReplayInfo:
        return await self._engine.send(_replay(identifier, since))


def _types(types: str | Sequence[str] | None) -> str | None:
    if types is None or isinstance(types, str):
        return types
    return ",".join(types)


def _read(after: str | None, types: str | Sequence[str] | None, limit: int | None) -> Call[EventPage]:
    params = {"after": after, "types": _types(types), "limit": limit}
    return Call("GET", EVENTS, c.model(EventPage), params=params)


class Events(SyncResource):
    """``client.admin.events``: the change feed, every committed change exactly once, in order."""

    def read(
        self, after: str | None = None, types: str | Sequence[str] | None = None, limit: int | None = None
    ) -> EventPage:
        """The events after the cursor ``after`` (none: from the oldest kept), of these ``types``
        (``user.*``, ``group.member_added``; none: all). Read on with ``page.next_cursor``."""
        return self._engine.send(_read(after, types, limit))

    def pages(
        self, after: str | None = None, types: str | Sequence[str] | None = None, limit: int | None = None
    ) -> Iterator[EventPage]:
        """The pages after ``after`` until caught up (the first empty page, which is yielded: its
        ``next_cursor`` is where to poll from next)."""
        while True:
            page = self._engine.send(_read(after, types, limit))
            yield page
            if not page.items:
                return
            after = page.next_cursor

    def iter(self, after: str | None = None, types: str | Sequence[str] | None = None) -> Iterator[EventInfo]:
        """Every event after ``after`` until caught up."""
        for page in self.pages(after, types):
            yield from page.items


class AsyncEvents(AsyncResource):
    async def read(
        self, after: str | None = None, types: str | Sequence[str] | None = None, limit: int | None = None
    ) -> EventPage:
        return await self._engine.send(_read(after, types, limit))

    async def pages(
        self, after: str | None = None, types: str | Sequence[str] | None = None, limit: int | None = None
    ) -> AsyncIterator[EventPage]:
        while True:
            page = await self._engine.send(_read(after, types, limit))
            yield page
            if not page.items:
                return
            after = page.next_cursor

    async def iter(
        self, after: str | None = None, types: str | Sequence[str] | None = None
    ) -> AsyncIterator[EventInfo]:
        async for page in self.pages(after, types):
            for event in page.items:
                yield event
