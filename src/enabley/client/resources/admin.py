"""The admin API (``/api/admin/v1``): what the LMS side puts in, which the integration API reads."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from enabley.client import _call as c
from enabley.client._call import Call
from enabley.client._transport import AsyncEngine, SyncEngine
from enabley.client.models import (
    ActivityData,
    CatalogEntryInfo,
    CertificateData,
    CertificateInformation,
    ChannelDetails,
    ChannelDetailsData,
    ContentItemData,
    ContentItemInfo,
    ExternalCatalogItemGet,
    ExternalMasterChannelGet,
    ExternalUserCertificateState,
    ExternalUserChannelPerformance,
    MasterChannelData,
    TrainingEventData,
    TrainingEventInfo,
    Upserted,
    WorkspaceData,
    WorkspaceInfo,
)
from enabley.client.resources._base import AsyncResource, SyncResource
from enabley.client.resources.compliance import AsyncCompliance, Compliance
from enabley.client.resources.webhooks import AsyncEvents, AsyncWebhooks, Events, Webhooks

ADMIN = "/api/admin/v1"
CONTENT_ITEMS = "contentItems"
TRAINING_EVENTS = "trainingEvents"

M = TypeVar("M", bound=BaseModel)


def _set_hierarchy(types: Sequence[str]) -> Call[list[str]]:
    return Call("PUT", f"{ADMIN}/groups/hierarchy", c.list_of(str), json=list(types))


def _workspaces() -> Call[list[WorkspaceInfo]]:
    return Call("GET", f"{ADMIN}/workspaces", c.list_of(WorkspaceInfo))


def _workspace(identifier: str) -> Call[WorkspaceInfo]:
    return Call("GET", c.path(f"{ADMIN}/workspaces/{{}}", identifier), c.model(WorkspaceInfo))


def _upsert_workspace(data: WorkspaceData | Mapping[str, Any]) -> Call[Upserted[WorkspaceInfo]]:
    return Call("PUT", f"{ADMIN}/workspaces", c.upserted(WorkspaceInfo), json=c.body(WorkspaceData, data))


def _upsert_master(data: MasterChannelData | Mapping[str, Any]) -> Call[Upserted[ExternalMasterChannelGet]]:
    body = c.body(MasterChannelData, data)
    return Call("PUT", f"{ADMIN}/masterChannels", c.upserted(ExternalMasterChannelGet), json=body)


def _master(identifier: str) -> Call[ExternalMasterChannelGet]:
    url = c.path(f"{ADMIN}/masterChannels/{{}}", identifier)
    return Call("GET", url, c.model(ExternalMasterChannelGet))


def _upsert_item(kind: str, channel: str, body: dict[str, Any], info: type[M]) -> Call[Upserted[M]]:
    return Call("PUT", c.path(f"{ADMIN}/channels/{{}}/{kind}", channel), c.upserted(info), json=body)


def _items(kind: str, channel: str, info: type[M]) -> Call[list[M]]:
    return Call("GET", c.path(f"{ADMIN}/channels/{{}}/{kind}", channel), c.list_of(info))


def _item(kind: str, channel: str, item: str, info: type[M]) -> Call[M]:
    return Call("GET", c.path(f"{ADMIN}/channels/{{}}/{kind}/{{}}", channel, item), c.model(info))


def _delete_item(kind: str, channel: str, item: str) -> Call[None]:
    return Call("DELETE", c.path(f"{ADMIN}/channels/{{}}/{kind}/{{}}", channel, item), c.nothing)


def _details(channel: str) -> Call[ChannelDetails]:
    return Call("GET", c.path(f"{ADMIN}/channels/{{}}/details", channel), c.model(ChannelDetails))


def _set_details(channel: str, data: ChannelDetailsData | Mapping[str, Any]) -> Call[ChannelDetails]:
    url = c.path(f"{ADMIN}/channels/{{}}/details", channel)
    return Call("PUT", url, c.model(ChannelDetails), json=c.body(ChannelDetailsData, data))


def _upsert_certificate(data: CertificateData | Mapping[str, Any]) -> Call[Upserted[CertificateInformation]]:
    body = c.body(CertificateData, data)
    return Call("PUT", f"{ADMIN}/certificates", c.upserted(CertificateInformation), json=body)


def _certificate(certificate: str) -> Call[CertificateInformation]:
    url = c.path(f"{ADMIN}/certificates/{{}}", certificate)
    return Call("GET", url, c.model(CertificateInformation))


def _certificate_action(action: str, certificate: str, user: str) -> Call[ExternalUserCertificateState]:
    url = c.path(f"{ADMIN}/certificates/{{}}/users/{{}}/{action}", certificate, user)
    return Call("POST", url, c.model(ExternalUserCertificateState))


def _catalog() -> Call[list[CatalogEntryInfo]]:
    return Call("GET", f"{ADMIN}/catalog", c.list_of(CatalogEntryInfo))


def _publish(channel: str, sub_account_name: str | None) -> Call[Upserted[ExternalCatalogItemGet]]:
    url = c.path(f"{ADMIN}/catalog/{{}}", channel)
    return Call("PUT", url, c.upserted(ExternalCatalogItemGet), params={"subAccountName": sub_account_name})


def _withdraw(channel: str, sub_account_name: str | None) -> Call[None]:
    url = c.path(f"{ADMIN}/catalog/{{}}", channel)
    return Call("DELETE", url, c.nothing, params={"subAccountName": sub_account_name})


def _activity(data: ActivityData | Mapping[str, Any]) -> Call[ExternalUserChannelPerformance]:
    body = c.body(ActivityData, data)
    return Call("POST", f"{ADMIN}/activity", c.model(ExternalUserChannelPerformance), json=body)


class AdminGroups(SyncResource):
    def set_hierarchy(self, types: Sequence[str]) -> list[str]:
        """Replace the account's ordered group types (top first); ``[]`` removes the hierarchy."""
        return self._engine.send(_set_hierarchy(types))


class Workspaces(SyncResource):
    def list(self) -> builtins.list[WorkspaceInfo]:
        return self._engine.send(_workspaces())

    def get(self, identifier: str) -> WorkspaceInfo:
        return self._engine.send(_workspace(identifier))

    def upsert(self, data: WorkspaceData | Mapping[str, Any]) -> Upserted[WorkspaceInfo]:
        """Create the workspace or update the one with this identifier: ``(workspace, created)``."""
        return self._engine.send(_upsert_workspace(data))


class AdminMasters(SyncResource):
    def upsert(self, data: MasterChannelData | Mapping[str, Any]) -> Upserted[ExternalMasterChannelGet]:
        """Create the master channel or update the one with this identifier."""
        return self._engine.send(_upsert_master(data))

    def get(self, identifier: str) -> ExternalMasterChannelGet:
        return self._engine.send(_master(identifier))


class ContentItems(SyncResource):
    """Content items of a channel or master channel."""

    def upsert(self, channel: str, data: ContentItemData | Mapping[str, Any]) -> Upserted[ContentItemInfo]:
        body = c.body(ContentItemData, data)
        return self._engine.send(_upsert_item(CONTENT_ITEMS, channel, body, ContentItemInfo))

    def list(self, channel: str) -> builtins.list[ContentItemInfo]:
        return self._engine.send(_items(CONTENT_ITEMS, channel, ContentItemInfo))

    def get(self, channel: str, item: str) -> ContentItemInfo:
        return self._engine.send(_item(CONTENT_ITEMS, channel, item, ContentItemInfo))

    def delete(self, channel: str, item: str) -> None:
        self._engine.send(_delete_item(CONTENT_ITEMS, channel, item))


class TrainingEvents(SyncResource):
    """Training events of a channel or master channel."""

    def upsert(
        self, channel: str, data: TrainingEventData | Mapping[str, Any]
    ) -> Upserted[TrainingEventInfo]:
        body = c.body(TrainingEventData, data)
        return self._engine.send(_upsert_item(TRAINING_EVENTS, channel, body, TrainingEventInfo))

    def list(self, channel: str) -> builtins.list[TrainingEventInfo]:
        return self._engine.send(_items(TRAINING_EVENTS, channel, TrainingEventInfo))

    def get(self, channel: str, item: str) -> TrainingEventInfo:
        return self._engine.send(_item(TRAINING_EVENTS, channel, item, TrainingEventInfo))

    def delete(self, channel: str, item: str) -> None:
        self._engine.send(_delete_item(TRAINING_EVENTS, channel, item))


class ChannelDetailsResource(SyncResource):
    """Categories and schedule of a channel or master channel."""

    def get(self, channel: str) -> ChannelDetails:
        return self._engine.send(_details(channel))

    def set(self, channel: str, data: ChannelDetailsData | Mapping[str, Any]) -> ChannelDetails:
        """Set the categories and/or schedule; fields left out keep their value."""
        return self._engine.send(_set_details(channel, data))


class AdminCertificates(SyncResource):
    def upsert(self, data: CertificateData | Mapping[str, Any]) -> Upserted[CertificateInformation]:
        """Create the certificate or update the one with this externalCertificateId."""
        return self._engine.send(_upsert_certificate(data))

    def get(self, certificate: str) -> CertificateInformation:
        return self._engine.send(_certificate(certificate))

    def revoke(self, certificate: str, user: str) -> ExternalUserCertificateState:
        """Revoke the user's certificate for good."""
        return self._engine.send(_certificate_action("revoke", certificate, user))

    def confirm(self, certificate: str, user: str) -> ExternalUserCertificateState:
        """Record the learner's confirmation of a certificate that asks for one."""
        return self._engine.send(_certificate_action("confirm", certificate, user))


class AdminCatalog(SyncResource):
    def list(self) -> builtins.list[CatalogEntryInfo]:
        """Every channel published in a catalog of the account."""
        return self._engine.send(_catalog())

    def publish(self, channel: str, sub_account_name: str | None = None) -> Upserted[ExternalCatalogItemGet]:
        """Publish the channel in the sub-account's catalog (none given: the account-wide one)."""
        return self._engine.send(_publish(channel, sub_account_name))

    def withdraw(self, channel: str, sub_account_name: str | None = None) -> None:
        self._engine.send(_withdraw(channel, sub_account_name))


class Activity(SyncResource):
    def record(self, data: ActivityData | Mapping[str, Any]) -> ExternalUserChannelPerformance:
        """Record a learner's progress on an item; answers his performance in the channel."""
        return self._engine.send(_activity(data))


class Admin:
    """``client.admin``: the admin API."""

    def __init__(self, engine: SyncEngine) -> None:
        self.groups = AdminGroups(engine)
        self.workspaces = Workspaces(engine)
        self.masters = AdminMasters(engine)
        self.content_items = ContentItems(engine)
        self.training_events = TrainingEvents(engine)
        self.channel_details = ChannelDetailsResource(engine)
        self.certificates = AdminCertificates(engine)
        self.catalog = AdminCatalog(engine)
        self.activity = Activity(engine)
        self.compliance = Compliance(engine)
        self.webhooks = Webhooks(engine)
        self.events = Events(engine)


class AsyncAdminGroups(AsyncResource):
    async def set_hierarchy(self, types: Sequence[str]) -> list[str]:
        return await self._engine.send(_set_hierarchy(types))


class AsyncWorkspaces(AsyncResource):
    async def list(self) -> builtins.list[WorkspaceInfo]:
        return await self._engine.send(_workspaces())

    async def get(self, identifier: str) -> WorkspaceInfo:
        return await self._engine.send(_workspace(identifier))

    async def upsert(self, data: WorkspaceData | Mapping[str, Any]) -> Upserted[WorkspaceInfo]:
        return await self._engine.send(_upsert_workspace(data))


class AsyncAdminMasters(AsyncResource):
    async def upsert(self, data: MasterChannelData | Mapping[str, Any]) -> Upserted[ExternalMasterChannelGet]:
        return await self._engine.send(_upsert_master(data))

    async def get(self, identifier: str) -> ExternalMasterChannelGet:
        return await self._engine.send(_master(identifier))


class AsyncContentItems(AsyncResource):
    async def upsert(
        self, channel: str, data: ContentItemData | Mapping[str, Any]
    ) -> Upserted[ContentItemInfo]:
        body = c.body(ContentItemData, data)
        return await self._engine.send(_upsert_item(CONTENT_ITEMS, channel, body, ContentItemInfo))

    async def list(self, channel: str) -> builtins.list[ContentItemInfo]:
        return await self._engine.send(_items(CONTENT_ITEMS, channel, ContentItemInfo))

    async def get(self, channel: str, item: str) -> ContentItemInfo:
        return await self._engine.send(_item(CONTENT_ITEMS, channel, item, ContentItemInfo))

    async def delete(self, channel: str, item: str) -> None:
        await self._engine.send(_delete_item(CONTENT_ITEMS, channel, item))


class AsyncTrainingEvents(AsyncResource):
    async def upsert(
        self, channel: str, data: TrainingEventData | Mapping[str, Any]
    ) -> Upserted[TrainingEventInfo]:
        body = c.body(TrainingEventData, data)
        return await self._engine.send(_upsert_item(TRAINING_EVENTS, channel, body, TrainingEventInfo))

    async def list(self, channel: str) -> builtins.list[TrainingEventInfo]:
        return await self._engine.send(_items(TRAINING_EVENTS, channel, TrainingEventInfo))

    async def get(self, channel: str, item: str) -> TrainingEventInfo:
        return await self._engine.send(_item(TRAINING_EVENTS, channel, item, TrainingEventInfo))

    async def delete(self, channel: str, item: str) -> None:
        await self._engine.send(_delete_item(TRAINING_EVENTS, channel, item))


class AsyncChannelDetailsResource(AsyncResource):
    async def get(self, channel: str) -> ChannelDetails:
        return await self._engine.send(_details(channel))

    async def set(self, channel: str, data: ChannelDetailsData | Mapping[str, Any]) -> ChannelDetails:
        return await self._engine.send(_set_details(channel, data))


class AsyncAdminCertificates(AsyncResource):
    async def upsert(self, data: CertificateData | Mapping[str, Any]) -> Upserted[CertificateInformation]:
        return await self._engine.send(_upsert_certificate(data))

    async def get(self, certificate: str) -> CertificateInformation:
        return await self._engine.send(_certificate(certificate))

    async def revoke(self, certificate: str, user: str) -> ExternalUserCertificateState:
        return await self._engine.send(_certificate_action("revoke", certificate, user))

    async def confirm(self, certificate: str, user: str) -> ExternalUserCertificateState:
        return await self._engine.send(_certificate_action("confirm", certificate, user))


class AsyncAdminCatalog(AsyncResource):
    async def list(self) -> builtins.list[CatalogEntryInfo]:
        return await self._engine.send(_catalog())

    async def publish(
        self, channel: str, sub_account_name: str | None = None
    ) -> Upserted[ExternalCatalogItemGet]:
        return await self._engine.send(_publish(channel, sub_account_name))

    async def withdraw(self, channel: str, sub_account_name: str | None = None) -> None:
        await self._engine.send(_withdraw(channel, sub_account_name))


class AsyncActivity(AsyncResource):
    async def record(self, data: ActivityData | Mapping[str, Any]) -> ExternalUserChannelPerformance:
        return await self._engine.send(_activity(data))


class AsyncAdmin:
    """``client.admin`` of the ``AsyncClient``."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.groups = AsyncAdminGroups(engine)
        self.workspaces = AsyncWorkspaces(engine)
        self.masters = AsyncAdminMasters(engine)
        self.content_items = AsyncContentItems(engine)
        self.training_events = AsyncTrainingEvents(engine)
        self.channel_details = AsyncChannelDetailsResource(engine)
        self.certificates = AsyncAdminCertificates(engine)
        self.catalog = AsyncAdminCatalog(engine)
        self.activity = AsyncActivity(engine)
        self.compliance = AsyncCompliance(engine)
        self.webhooks = AsyncWebhooks(engine)
        self.events = AsyncEvents(engine)
