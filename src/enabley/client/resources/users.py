"""Users (API reference 3.9)."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any, TypedDict

import httpx2
from typing_extensions import Unpack

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client.models import (
    ExternalPermission,
    Page,
    Permission,
    Upserted,
    UserData,
    UserIdentity,
    UserInfo,
)
from enabley.client.resources._base import AsyncResource, SyncResource


class UserFilters(TypedDict, total=False):
    """Filters of the user searches; all given must match (``None``: no filter)."""

    identifier: str | None
    email_substring: str | None
    first_name_substring: str | None
    last_name_substring: str | None
    username_substring: str | None
    sub_account_name: str | None


_FILTER_NAMES = {
    "identifier": "identifier",
    "email_substring": "emailSubstring",
    "first_name_substring": "firstNameSubstring",
    "last_name_substring": "lastNameSubstring",
    "username_substring": "usernameSubstring",
    "sub_account_name": "subAccountName",
}


def _query(filters: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(filters) - set(_FILTER_NAMES)
    if unknown:
        raise TypeError(f"unknown user filter(s): {', '.join(sorted(unknown))}")
    return {_FILTER_NAMES[name]: value for name, value in filters.items()}


def _find(filters: Mapping[str, Any], start: int, limit: int) -> Call[list[UserInfo]]:
    params = {**_query(filters), "start": start, "limit": limit}
    return Call("GET", "/api/v2/users", c.list_of(UserInfo), params=params)


def _page(filters: Mapping[str, Any], pagination_key: str | None) -> Call[Page[UserInfo]]:
    params = {**_query(filters), "paginationKey": pagination_key}
    return Call("GET", "/api/v3/users", c.page(UserInfo), params=params)


def _upsert(data: UserData | Mapping[str, Any]) -> Call[Upserted[UserInfo]]:
    return Call("PUT", "/api/v2/users", c.upserted(UserInfo), json=c.body(UserData, data))


def _change_identifier(current: str, new: str) -> Call[UserInfo]:
    identity = UserIdentity(current_user_identifier=current, new_user_identifier=new)
    return Call("PUT", "/api/v2/users/identityManagement", c.model(UserInfo), json=identity.wire())


def _get(identifier: str, sub_account_name: str | None) -> Call[UserInfo]:
    params = {"subAccountName": sub_account_name}
    return Call("GET", c.path("/api/v2/users/{}", identifier), c.model(UserInfo), params=params)


def _set_active(identifier: str, is_active: bool) -> Call[UserInfo]:
    params = {"isActive": is_active}
    return Call("PUT", c.path("/api/v2/users/{}", identifier), c.model(UserInfo), params=params)


def _delete(identifier: str) -> Call[None]:
    return Call("DELETE", c.path("/api/v2/users/{}", identifier), c.nothing)


def _remove_from_sub_account(identifier: str, sub_account_name: str) -> Call[None]:
    url = c.path("/api/v2/users/{}/subAccountName/{}", identifier, sub_account_name)
    return Call("DELETE", url, c.nothing)


def _permissions(response: httpx2.Response) -> list[Permission]:
    return ExternalPermission.model_validate_json(response.content).permissions


def _set_permissions(identifier: str, permissions: Sequence[Permission | str]) -> Call[list[Permission]]:
    url = c.path("/api/v2/users/{}/permissions", identifier)
    return Call("PUT", url, _permissions, json={"permissions": [Permission(p).value for p in permissions]})


def _get_permissions(identifier: str) -> Call[list[Permission]]:
    return Call("GET", c.path("/api/v2/users/{}/permissions", identifier), _permissions)


class Users(SyncResource):
    """``client.users``: create, find, page through, deactivate and delete users."""

    def get(self, identifier: str, sub_account_name: str | None = None) -> UserInfo:
        """The user with this identifier (in this sub-account, when given); ``NotFound`` otherwise."""
        return self._engine.send(_get(identifier, sub_account_name))

    def upsert(self, data: UserData | Mapping[str, Any]) -> Upserted[UserInfo]:
        """Create the user or update the one with this identifier: ``(user, created)``."""
        return self._engine.send(_upsert(data))

    def list(self, pagination_key: str | None = None, **filters: Unpack[UserFilters]) -> Page[UserInfo]:
        """One page of the users matching the filters (``GET /api/v3/users``)."""
        return self._engine.send(_page(filters, pagination_key))

    def pages(self, **filters: Unpack[UserFilters]) -> Iterator[Page[UserInfo]]:
        """Every page of the users matching the filters, following paginationKey to the end."""
        return self._pages(lambda key: _page(filters, key))

    def iter(self, **filters: Unpack[UserFilters]) -> Iterator[UserInfo]:
        """Every user matching the filters, page after page."""
        return self._items(lambda key: _page(filters, key))

    def find(
        self, start: int = 0, limit: int = 50, **filters: Unpack[UserFilters]
    ) -> builtins.list[UserInfo]:
        """Users matching the filters from index ``start``, at most ``limit`` (``GET /api/v2/users``)."""
        return self._engine.send(_find(filters, start, limit))

    def set_active(self, identifier: str, is_active: bool) -> UserInfo:
        """Activate or deactivate a user."""
        return self._engine.send(_set_active(identifier, is_active))

    def change_identifier(self, current: str, new: str) -> UserInfo:
        """Give a user a new identifier; memberships, progress and certificates follow."""
        return self._engine.send(_change_identifier(current, new))

    def delete(self, identifier: str) -> None:
        self._engine.send(_delete(identifier))

    def remove_from_sub_account(self, identifier: str, sub_account_name: str) -> None:
        self._engine.send(_remove_from_sub_account(identifier, sub_account_name))

    def set_permissions(
        self, identifier: str, permissions: Sequence[Permission | str]
    ) -> builtins.list[Permission]:
        """Replace the permissions of an instructor."""
        return self._engine.send(_set_permissions(identifier, permissions))

    def get_permissions(self, identifier: str) -> builtins.list[Permission]:
        return self._engine.send(_get_permissions(identifier))


class AsyncUsers(AsyncResource):
    """``client.users`` of the ``AsyncClient``: the same methods as ``Users``, awaited."""

    async def get(self, identifier: str, sub_account_name: str | None = None) -> UserInfo:
        return await self._engine.send(_get(identifier, sub_account_name))

    async def upsert(self, data: UserData | Mapping[str, Any]) -> Upserted[UserInfo]:
        return await self._engine.send(_upsert(data))

    async def list(self, pagination_key: str | None = None, **filters: Unpack[UserFilters]) -> Page[UserInfo]:
        return await self._engine.send(_page(filters, pagination_key))

    def pages(self, **filters: Unpack[UserFilters]) -> AsyncIterator[Page[UserInfo]]:
        return self._pages(lambda key: _page(filters, key))

    def iter(self, **filters: Unpack[UserFilters]) -> AsyncIterator[UserInfo]:
        return self._items(lambda key: _page(filters, key))

    async def find(
        self, start: int = 0, limit: int = 50, **filters: Unpack[UserFilters]
    ) -> builtins.list[UserInfo]:
        return await self._engine.send(_find(filters, start, limit))

    async def set_active(self, identifier: str, is_active: bool) -> UserInfo:
        return await self._engine.send(_set_active(identifier, is_active))

    async def change_identifier(self, current: str, new: str) -> UserInfo:
        return await self._engine.send(_change_identifier(current, new))

    async def delete(self, identifier: str) -> None:
        await self._engine.send(_delete(identifier))

    async def remove_from_sub_account(self, identifier: str, sub_account_name: str) -> None:
        await self._engine.send(_remove_from_sub_account(identifier, sub_account_name))

    async def set_permissions(
        self, identifier: str, permissions: Sequence[Permission | str]
    ) -> builtins.list[Permission]:
        return await self._engine.send(_set_permissions(identifier, permissions))

    async def get_permissions(self, identifier: str) -> builtins.list[Permission]:
        return await self._engine.send(_get_permissions(identifier))
