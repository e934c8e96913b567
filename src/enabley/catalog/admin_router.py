"""The admin API of catalog: routes under /api/admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from enabley.catalog import service
from enabley.catalog.schemas import CatalogEntryInfo, ExternalCatalogItemGet
from enabley.deps import BaseUrl, CurrentTenant
from enabley.models.lengths import TEXT_LENGTH
from enabley.schemas import ERRORS, NOT_FOUND, OK_EMPTY, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api/admin", tags=["Admin"])

CatalogSubAccount = Annotated[
    str | None,
    Query(
        alias="subAccountName",
        max_length=TEXT_LENGTH,
        description="The sub-account whose catalog is meant; left out: the account-wide catalog",
    ),
]


@router.get(
    "/v1/catalog",
    summary="List catalog entries",
    response_model=list[CatalogEntryInfo],
)
async def list_catalog_entries(tenant: CurrentTenant, base_url: BaseUrl) -> list[CatalogEntryInfo]:
    """Every channel published in a catalog of the account, in the order they were published."""
    return await tenant.read(service.list_entries, base_url)


@router.put(
    "/v1/catalog/{channelIdentifier}",
    summary="Publish a channel in a catalog",
    response_model=ExternalCatalogItemGet,
    responses={
        200: {"description": "The channel was already published there"},
        201: {"description": "The channel was published", "model": ExternalCatalogItemGet},
        **NOT_FOUND,
    },
)
async def publish_channel_in_catalog(
    channel_identifier: Annotated[str, path_identifier("channelIdentifier", "Channel identifier")],
    tenant: CurrentTenant,
    base_url: BaseUrl,
    response: Response,
    sub_account_name: CatalogSubAccount = None,
) -> ExternalCatalogItemGet:
    """Publish a channel in the sub-account's catalog (without subAccountName: the account-wide
    catalog). The catalogItemId stays the same while the channel stays published there."""
    item, created = await tenant.write(service.publish, base_url, channel_identifier, sub_account_name)
    if created:
        response.status_code = status.HTTP_201_CREATED
    return item


@router.delete(
    "/v1/catalog/{channelIdentifier}",
    summary="Withdraw a channel from a catalog",
    response_class=Response,
    responses={**OK_EMPTY, **NOT_FOUND},
)
async def withdraw_channel_from_catalog(
    channel_identifier: Annotated[str, path_identifier("channelIdentifier", "Channel identifier")],
    tenant: CurrentTenant,
    sub_account_name: CatalogSubAccount = None,
) -> Response:
    """Withdraw a channel from the sub-account's catalog (without subAccountName: the account-wide
    catalog); 404 when it is not published there."""
    await tenant.write(service.withdraw, channel_identifier, sub_account_name)
    return Response(status_code=status.HTTP_200_OK)
