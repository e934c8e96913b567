from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from enabley.catalog import service
from enabley.catalog.schemas import CatalogEntryInfo, ExternalCatalogItemGet
from enabley.deps import BaseUrl, CurrentTenant
from enabley.schemas import ERRORS, MAX_IDENTIFIER, NOT_FOUND, OK_EMPTY, SubAccountQuery, path_identifier

router = APIRouter(responses=ERRORS, prefix="/api")

CatalogSubAccount = Annotated[
    str | None,
    Query(
        alias="subAccountName",
        max_length=255,
        description="The sub-account whose catalog is meant; left out: the account-wide catalog",
    ),
]


@router.get(
    "/v1/catalog/catalogItem",
    tags=["Catalog"],
    summary="getCatalogItem",
    response_model=ExternalCatalogItemGet,
    responses={**NOT_FOUND},
)
async def get_catalog_item(
    tenant: CurrentTenant,
    base_url: BaseUrl,
    external_channel_id: Annotated[
        str,
        Query(
            alias="externalChannelId",
            min_length=1,
            max_length=MAX_IDENTIFIER,
            description="externalChannelId",
        ),
    ],
    sub_account_name: SubAccountQuery = None,
) -> ExternalCatalogItemGet:
    """The catalog item of a channel published in the sub-account's catalog (without subAccountName:
    the account-wide catalog); 404 when the channel is not published there."""
    return await tenant.read(service.get_item, base_url, external_channel_id, sub_account_name)


@router.get(
    "/admin/v1/catalog",
    tags=["Admin"],
    summary="List catalog entries",
    response_model=list[CatalogEntryInfo],
)
async def list_catalog_entries(tenant: CurrentTenant, base_url: BaseUrl) -> list[CatalogEntryInfo]:
    """Every channel published in a catalog of the account, in the order they were published."""
    return await tenant.read(service.list_entries, base_url)


@router.put(
    "/admin/v1/catalog/{channelIdentifier}",
    tags=["Admin"],
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
    "/admin/v1/catalog/{channelIdentifier}",
    tags=["Admin"],
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
