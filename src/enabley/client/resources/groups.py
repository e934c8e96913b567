"""Groups (API reference 3.5)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client.models import GroupData, GroupInfo, Upserted
from enabley.client.resources._base import AsyncResource, SyncResource


def _upsert(data: GroupData | Mapping[str, Any]) -> Call[Upserted[GroupInfo]]:
    return Call("PUT", "/api/v1/groups", c.upserted(GroupInfo), json=c.body(GroupData, data))


def _hierarchy() -> Call[list[str]]:
    return Call("GET", "/api/v1/groups/hierarchy", c.list_of(str))


def _list(sub_account_name: str | None) -> Call[list[GroupInfo]]:
    return Call(
        "GET", "/api/v1/groups/list", c.list_of(GroupInfo), params={"subAccountName": sub_account_name}
    )


def _add_user(group: str, user: str, replace: bool | None) -> Call[None]:
    url = c.path("/api/v1/groups/{}/users/{}", group, user)
    return Call("POST", url, c.nothing, params={"replace": replace})


def _remove_user(group: str, user: str) -> Call[None]:
    return Call("DELETE", c.path("/api/v1/groups/{}/users/{}", group, user), c.nothing)


def _get(identifier: str, sub_account_name: str | None) -> Call[GroupInfo]:
    url = c.path("/api/v1/groups/{}", identifier)
    return Call("GET", url, c.model(GroupInfo), params={"subAccountName": sub_account_name})


def _delete(identifier: str) -> Call[None]:
    return Call("DELETE", c.path("/api/v1/groups/{}", identifier), c.nothing)


def _of_user(user: str, sub_account_name: str | None) -> Call[list[GroupInfo]]:
    url = c.path("/api/v1/users/{}/groups", user)
    return Call("GET", url, c.list_of(GroupInfo), params={"subAccountName": sub_account_name})


class Groups(SyncResource):
    """``client.groups``: the group tree and its members."""

    def upsert(self, data: GroupData | Mapping[str, Any]) -> Upserted[GroupInfo]:
        """Create the group or update the one with this identifier: ``(group, created)``."""
        return self._engine.send(_upsert(data))

    def hierarchy(self) -> builtins.list[str]:
        """The account's group types, from the top of the tree down."""
        return self._engine.send(_hierarchy())

    def list(self, sub_account_name: str | None = None) -> builtins.list[GroupInfo]:
        """Every group of the account (or of a sub-account)."""
        return self._engine.send(_list(sub_account_name))

    def get(self, identifier: str, sub_account_name: str | None = None) -> GroupInfo:
        return self._engine.send(_get(identifier, sub_account_name))

    def delete(self, identifier: str) -> None:
        """Delete a group without child groups, with its memberships and assignments."""
        self._engine.send(_delete(identifier))

    def add_user(self, group: str, user: str, replace: bool | None = None) -> None:
        """Make the user a member of the group; ``replace=True`` removes him from his other groups."""
        self._engine.send(_add_user(group, user, replace))

    def remove_user(self, group: str, user: str) -> None:
        self._engine.send(_remove_user(group, user))

    def of_user(self, user: str, sub_account_name: str | None = None) -> builtins.list[GroupInfo]:
        """The groups the user belongs to."""
        return self._engine.send(_of_user(user, sub_account_name))


class AsyncGroups(AsyncResource):
    async def upsert(self, data: GroupData | Mapping[str, Any]) -> Upserted[GroupInfo]:
        return await self._engine.send(_upsert(data))

    async def hierarchy(self) -> builtins.list[str]:
        return await self._engine.send(_hierarchy())

    async def list(self, sub_account_name: str | None = None) -> builtins.list[GroupInfo]:
        return await self._engine.send(_list(sub_account_name))

    async def get(self, identifier: str, sub_account_name: str | None = None) -> GroupInfo:
        return await self._engine.send(_get(identifier, sub_account_name))

    async def delete(self, identifier: str) -> None:
        await self._engine.send(_delete(identifier))

    async def add_user(self, group: str, user: str, replace: bool | None = None) -> None:
        await self._engine.send(_add_user(group, user, replace))

    async def remove_user(self, group: str, user: str) -> None:
        await self._engine.send(_remove_user(group, user))

    async def of_user(self, user: str, sub_account_name: str | None = None) -> builtins.list[GroupInfo]:
        return await self._engine.send(_of_user(user, sub_account_name))
