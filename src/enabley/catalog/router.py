from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from enabley.catalog import service
from enabley.catalog.schemas import ExternalCatalogItemGet
from enabley.deps import BaseUrl, CurrentTenant
from enabley.models.lengths import TEXT_LENGTH
from enabley.schemas import ERRORS, NOT_FOUND, SubAccountQuery

router = APIRouter(responses=ERRORS, prefix="/api")


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
            max_length=TEXT_LENGTH,
            description="externalChannelId",
        ),
    ],
    sub_account_name: SubAccountQuery = None,
) -> ExternalCatalogItemGet:
    """The catalog item of a channel published in the sub-account's catalog (without subAccountName:
    the account-wide catalog); 404 when the channel is not published there."""
    return await tenant.read(service.get_item, base_url, external_channel_id, sub_account_name)
