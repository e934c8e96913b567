"""User profiles (API reference 3.8) and entitlements (3.9.3, 3.9.4)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client.models import ExternalEntitlement, Upserted, UserProfileData, UserProfileInfo
from enabley.client.resources._base import AsyncResource, SyncResource


def _get_many(identifiers: Sequence[str]) -> Call[list[UserProfileInfo]]:
    # A read sent as POST: repeating it is harmless.
    return Call(
        "POST", "/api/v2/getUserProfiles", c.list_of(UserProfileInfo), json=list(identifiers), idempotent=True
    )


def _upsert(data: UserProfileData | Mapping[str, Any]) -> Call[Upserted[UserProfileInfo]]:
    return Call(
        "PUT", "/api/v2/userProfiles", c.upserted(UserProfileInfo), json=c.body(UserProfileData, data)
    )


def _of_user(user: str) -> Call[list[UserProfileInfo]]:
    url = c.path("/api/v2/userProfiles/users/{}", user)
    return Call("POST", url, c.list_of(UserProfileInfo), idempotent=True)


def _assign(profile: str, user: str, replace: bool | None) -> Call[None]:
    url = c.path("/api/v2/userProfiles/{}/users/{}", profile, user)
    return Call("PUT", url, c.nothing, params={"replace": replace})


def _unassign(profile: str, user: str) -> Call[None]:
    return Call("DELETE", c.path("/api/v2/userProfiles/{}/users/{}", profile, user), c.nothing)


class Profiles(SyncResource):
    """``client.profiles``: job profiles and who has them."""

    def get_many(self, identifiers: Sequence[str]) -> list[UserProfileInfo]:
        """The profiles with these identifiers (unknown ones are left out)."""
        return self._engine.send(_get_many(identifiers))

    def upsert(self, data: UserProfileData | Mapping[str, Any]) -> Upserted[UserProfileInfo]:
        """Create the profile or update the one with this identifier: ``(profile, created)``."""
        return self._engine.send(_upsert(data))

    def of_user(self, user: str) -> list[UserProfileInfo]:
        """The profiles of a user."""
        return self._engine.send(_of_user(user))

    def assign(self, profile: str, user: str, replace: bool | None = None) -> None:
        """Give the user the profile; ``replace=True`` removes his other profiles."""
        self._engine.send(_assign(profile, user, replace))

    def unassign(self, profile: str, user: str) -> None:
        self._engine.send(_unassign(profile, user))


class AsyncProfiles(AsyncResource):
    async def get_many(self, identifiers: Sequence[str]) -> list[UserProfileInfo]:
        return await self._engine.send(_get_many(identifiers))

    async def upsert(self, data: UserProfileData | Mapping[str, Any]) -> Upserted[UserProfileInfo]:
        return await self._engine.send(_upsert(data))

    async def of_user(self, user: str) -> list[UserProfileInfo]:
        return await self._engine.send(_of_user(user))

    async def assign(self, profile: str, user: str, replace: bool | None = None) -> None:
        await self._engine.send(_assign(profile, user, replace))

    async def unassign(self, profile: str, user: str) -> None:
        await self._engine.send(_unassign(profile, user))


def _entitlement(method: str, data: ExternalEntitlement | Mapping[str, Any]) -> Call[None]:
    return Call(method, "/api/v2/users/entitlements", c.nothing, json=c.body(ExternalEntitlement, data))


def _entitlements_of(user: str) -> Call[list[ExternalEntitlement]]:
    return Call("GET", c.path("/api/v2/users/{}/entitlements", user), c.list_of(ExternalEntitlement))


class Entitlements(SyncResource):
    """``client.entitlements``: a user's MANAGER/EDITOR/INSTRUCTOR role on a course, group or workspace."""

    def add(self, entitlement: ExternalEntitlement | Mapping[str, Any]) -> None:
        self._engine.send(_entitlement("POST", entitlement))

    def remove(self, entitlement: ExternalEntitlement | Mapping[str, Any]) -> None:
        self._engine.send(_entitlement("DELETE", entitlement))

    def of_user(self, user: str) -> list[ExternalEntitlement]:
        return self._engine.send(_entitlements_of(user))


class AsyncEntitlements(AsyncResource):
    async def add(self, entitlement: ExternalEntitlement | Mapping[str, Any]) -> None:
        await self._engine.send(_entitlement("POST", entitlement))

    async def remove(self, entitlement: ExternalEntitlement | Mapping[str, Any]) -> None:
        await self._engine.send(_entitlement("DELETE", entitlement))

    async def of_user(self, user: str) -> list[ExternalEntitlement]:
        return await self._engine.send(_entitlements_of(user))
