"""Wire models of the catalog."""

from __future__ import annotations

from pydantic import Field

from enabley.schemas import ApiModel, Timestamp


class ExternalCatalogItemGet(ApiModel):
    catalog_item_id: str = Field(
        description="The catalog item's id, stable while the channel stays published"
    )
    link: str = Field(description="Link to the catalog item")


class CatalogEntryInfo(ExternalCatalogItemGet):
    """A channel published in a catalog."""

    channel_identifier: str = Field(description="The published channel")
    sub_account_name: str | None = Field(
        description="The sub-account whose catalog holds it; null for the account-wide catalog"
    )
    created: Timestamp = Field(description="When the channel was published there")
