"""Channels and master channels (API reference 3.4)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx2

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client.models import (
    ChannelData,
    ChannelInfo,
    ChannelRole,
    ExternalChannelInstance,
    ExternalChannelMembersInfoGet,
    ExternalMasterChannelGet,
    Page,
    TrainingEvent,
    Upserted,
)
from enabley.client.resources._base import AsyncResource, SyncResource


def _all(
    created_since: datetime | None, include_categories: bool | None, sub_account_name: str | None
) -> Call[list[ChannelInfo]]:
    params = {
        "createdSince": created_since,
        "includeCategories": include_categories,
        "subAccountName": sub_account_name,
    }
    return Call("GET", "/api/v1/channels", c.list_of(ChannelInfo), params=params)


def _page(
    key: str | None, include_categories: bool | None, sub_account_name: str | None
) -> Call[Page[ChannelInfo]]:
    params = {
        "paginationKey": key,
        "includeCategories": include_categories,
        "subAccountName": sub_account_name,
    }
    return Call("GET", "/api/v3/channels", c.page(ChannelInfo), params=params)


def _get(identifier: str, include_categories: bool | None) -> Call[ChannelInfo]:
    url = c.path("/api/v1/channels/{}", identifier)
    return Call("GET", url, c.model(ChannelInfo), params={"includeCategories": include_categories})


def _upsert(data: ChannelData | Mapping[str, Any]) -> Call[Upserted[ChannelInfo]]:
    return Call("PUT", "/api/v1/channels", c.upserted(ChannelInfo), json=c.body(ChannelData, data))


def _create_instance(data: ExternalChannelInstance | Mapping[str, Any]) -> Call[ChannelInfo]:
    body = c.body(ExternalChannelInstance, data)
    return Call("PUT", "/api/v2/channels/master/instance", c.model(ChannelInfo), json=body)


def _training_events(channel: str) -> Call[list[TrainingEvent]]:
    return Call("GET", c.path("/api/v1/channels/{}/courses/events", channel), c.list_of(TrainingEvent))


def _assign_group(channel: str, group: str, recursive: bool | None, user_role: str | None) -> Call[None]:
    url = c.path("/api/v1/channels/{}/groups/{}", channel, group)
    return Call("POST", url, c.nothing, params={"recursive": recursive, "userRole": user_role})


def _remove_group(channel: str, group: str) -> Call[None]:
    return Call("DELETE", c.path("/api/v1/channels/{}/groups/{}", channel, group), c.nothing)


def _assign_user(channel: str, user: str, roles: Sequence[ChannelRole | str] | None) -> Call[None]:
    url = c.path("/api/v2/channels/{}/users/{}", channel, user)
    params = {"roles": [ChannelRole(role) for role in roles] if roles else None}
    return Call("POST", url, c.nothing, params=params)


def _remove_user(channel: str, user: str) -> Call[None]:
    return Call("DELETE", c.path("/api/v1/channels/{}/users/{}", channel, user), c.nothing)


def _learners(response: httpx2.Response) -> int:
    return ExternalChannelMembersInfoGet.model_validate_json(response.content).learners


def _count_learners(channel: str) -> Call[int]:
    return Call("GET", c.path("/api/v2/channels/channels/{}/members/count", channel), _learners)


def _force_complete(channel: str, user: str) -> Call[None]:
    url = c.path("/api/v4/channels/forceComplete/channel/{}/user/{}", channel, user)
    return Call("POST", url, c.nothing)


class Channels(SyncResource):
    """``client.channels``: channels (courses and streams), their members and training events."""

    def all(
        self,
        created_since: datetime | None = None,
        include_categories: bool | None = None,
        sub_account_name: str | None = None,
    ) -> builtins.list[ChannelInfo]:
        """Every channel in one answer (``GET /api/v1/channels``); ``created_since`` needs a timezone."""
        return self._engine.send(_all(created_since, include_categories, sub_account_name))

    def list(
        self,
        pagination_key: str | None = None,
        include_categories: bool | None = None,
        sub_account_name: str | None = None,
    ) -> Page[ChannelInfo]:
        """One page of channels (``GET /api/v3/channels``)."""
        return self._engine.send(_page(pagination_key, include_categories, sub_account_name))

    def pages(
        self, include_categories: bool | None = None, sub_account_name: str | None = None
    ) -> Iterator[Page[ChannelInfo]]:
        return self._pages(lambda key: _page(key, include_categories, sub_account_name))

    def iter(
        self, include_categories: bool | None = None, sub_account_name: str | None = None
    ) -> Iterator[ChannelInfo]:
        """Every channel, page after page."""
        return self._items(lambda key: _page(key, include_categories, sub_account_name))

    def get(self, identifier: str, include_categories: bool | None = None) -> ChannelInfo:
        return self._engine.send(_get(identifier, include_categories))

    def upsert(self, data: ChannelData | Mapping[str, Any]) -> Upserted[ChannelInfo]:
        """Create the channel or update the one with this identifier: ``(channel, created)``."""
        return self._engine.send(_upsert(data))

    def create_instance(self, data: ExternalChannelInstance | Mapping[str, Any]) -> ChannelInfo:
        """Create a course from a master channel, with its content, events, categories and schedule."""
        return self._engine.send(_create_instance(data))

    def training_events(self, channel: str) -> builtins.list[TrainingEvent]:
        return self._engine.send(_training_events(channel))

    def assign_group(
        self, channel: str, group: str, recursive: bool | None = None, user_role: str | None = None
    ) -> None:
        """Make the group's members learners of the channel (``recursive``: sub-groups' members too)."""
        self._engine.send(_assign_group(channel, group, recursive, user_role))

    def remove_group(self, channel: str, group: str) -> None:
        self._engine.send(_remove_group(channel, group))

    def assign_user(self, channel: str, user: str, roles: Sequence[ChannelRole | str] | None = None) -> None:
        """Make the user a member of the channel (LEARNER unless ``roles`` say otherwise)."""
        self._engine.send(_assign_user(channel, user, roles))

    def remove_user(self, channel: str, user: str) -> None:
        self._engine.send(_remove_user(channel, user))

    def count_learners(self, channel: str) -> int:
        """The number of distinct learners of the channel, direct or through groups."""
        return self._engine.send(_count_learners(channel))

    def force_complete(self, channel: str, user: str) -> None:
        """Complete every non-optional item and event of the channel for the learner."""
        self._engine.send(_force_complete(channel, user))


class AsyncChannels(AsyncResource):
    async def all(
        self,
        created_since: datetime | None = None,
        include_categories: bool | None = None,
        sub_account_name: str | None = None,
    ) -> builtins.list[ChannelInfo]:
        return await self._engine.send(_all(created_since, include_categories, sub_account_name))

    async def list(
        self,
        pagination_key: str | None = None,
        include_categories: bool | None = None,
        sub_account_name: str | None = None,
    ) -> Page[ChannelInfo]:
        return await self._engine.send(_page(pagination_key, include_categories, sub_account_name))

    def pages(
        self, include_categories: bool | None = None, sub_account_name: str | None = None
    ) -> AsyncIterator[Page[ChannelInfo]]:
        return self._pages(lambda key: _page(key, include_categories, sub_account_name))

    def iter(
        self, include_categories: bool | None = None, sub_account_name: str | None = None
    ) -> AsyncIterator[ChannelInfo]:
        return self._items(lambda key: _page(key, include_categories, sub_account_name))

    async def get(self, identifier: str, include_categories: bool | None = None) -> ChannelInfo:
        return await self._engine.send(_get(identifier, include_categories))

    async def upsert(self, data: ChannelData | Mapping[str, Any]) -> Upserted[ChannelInfo]:
        return await self._engine.send(_upsert(data))

    async def create_instance(self, data: ExternalChannelInstance | Mapping[str, Any]) -> ChannelInfo:
        return await self._engine.send(_create_instance(data))

    async def training_events(self, channel: str) -> builtins.list[TrainingEvent]:
        return await self._engine.send(_training_events(channel))

    async def assign_group(
        self, channel: str, group: str, recursive: bool | None = None, user_role: str | None = None
    ) -> None:
        await self._engine.send(_assign_group(channel, group, recursive, user_role))

    async def remove_group(self, channel: str, group: str) -> None:
        await self._engine.send(_remove_group(channel, group))

    async def assign_user(
        self, channel: str, user: str, roles: Sequence[ChannelRole | str] | None = None
    ) -> None:
        await self._engine.send(_assign_user(channel, user, roles))

    async def remove_user(self, channel: str, user: str) -> None:
        await self._engine.send(_remove_user(channel, user))

    async def count_learners(self, channel: str) -> int:
        return await self._engine.send(_count_learners(channel))

    async def force_complete(self, channel: str, user: str) -> None:
        await self._engine.send(_force_complete(channel, user))


def _masters(
    only_published: bool | None, sub_account_name: str | None
) -> Call[list[ExternalMasterChannelGet]]:
    params = {"onlyPublished": only_published, "subAccountName": sub_account_name}
    return Call(
        "GET", "/api/v2/channels/channels/masters", c.list_of(ExternalMasterChannelGet), params=params
    )


def _masters_page(
    key: str | None, only_published: bool | None, sub_account_name: str | None
) -> Call[Page[ExternalMasterChannelGet]]:
    params = {"paginationKey": key, "onlyPublished": only_published, "subAccountName": sub_account_name}
    return Call("GET", "/api/v3/channels/masters", c.page(ExternalMasterChannelGet), params=params)


class Masters(SyncResource):
    """``client.masters``: master channels, the templates courses are made from."""

    def all(
        self, only_published: bool | None = None, sub_account_name: str | None = None
    ) -> builtins.list[ExternalMasterChannelGet]:
        """Every master channel in one answer (``GET /api/v2/channels/channels/masters``)."""
        return self._engine.send(_masters(only_published, sub_account_name))

    def list(
        self,
        pagination_key: str | None = None,
        only_published: bool | None = None,
        sub_account_name: str | None = None,
    ) -> Page[ExternalMasterChannelGet]:
        """One page of master channels (``GET /api/v3/channels/masters``)."""
        return self._engine.send(_masters_page(pagination_key, only_published, sub_account_name))

    def pages(
        self, only_published: bool | None = None, sub_account_name: str | None = None
    ) -> Iterator[Page[ExternalMasterChannelGet]]:
        return self._pages(lambda key: _masters_page(key, only_published, sub_account_name))

    def iter(
        self, only_published: bool | None = None, sub_account_name: str | None = None
    ) -> Iterator[ExternalMasterChannelGet]:
        return self._items(lambda key: _masters_page(key, only_published, sub_account_name))


class AsyncMasters(AsyncResource):
    async def all(
        self, only_published: bool | None = None, sub_account_name: str | None = None
    ) -> builtins.list[ExternalMasterChannelGet]:
        return await self._engine.send(_masters(only_published, sub_account_name))

    async def list(
        self,
        pagination_key: str | None = None,
        only_published: bool | None = None,
        sub_account_name: str | None = None,
    ) -> Page[ExternalMasterChannelGet]:
        return await self._engine.send(_masters_page(pagination_key, only_published, sub_account_name))

    def pages(
        self, only_published: bool | None = None, sub_account_name: str | None = None
    ) -> AsyncIterator[Page[ExternalMasterChannelGet]]:
        return self._pages(lambda key: _masters_page(key, only_published, sub_account_name))

    def iter(
        self, only_published: bool | None = None, sub_account_name: str | None = None
    ) -> AsyncIterator[ExternalMasterChannelGet]:
        return self._items(lambda key: _masters_page(key, only_published, sub_account_name))
