"""Publishing channels in catalogs: the account-wide one, or one sub-account's."""

from __future__ import annotations

import uuid

from sqlalchemy import delete
from sqlalchemy.orm import Session

from enabley.accounts import service as accounts_service
from enabley.catalog.schemas import CatalogEntryInfo, ExternalCatalogItemGet
from enabley.channels import service as channels_service
from enabley.db.base import HasAccount, owned
from enabley.db.columns import utcnow
from enabley.db.upsert import add, insert_or_find
from enabley.errors import NotFound
from enabley.models import CatalogEntry, Channel, SubAccount


def link(base_url: str, catalog_item_id: str) -> str:
    return f"{base_url}/catalog/{catalog_item_id}"


def _item(base_url: str, entry: CatalogEntry) -> ExternalCatalogItemGet:
    return ExternalCatalogItemGet(
        catalog_item_id=entry.catalog_item_id, link=link(base_url, entry.catalog_item_id)
    )


def _catalog_name(sub_account_name: str | None) -> str:
    return f"sub-account {sub_account_name!r}" if sub_account_name is not None else "the account-wide catalog"


def _find(
    session: Session, tenant: HasAccount, channel_identifier: str, sub_account_name: str | None
) -> tuple[Channel, SubAccount | None, CatalogEntry | None]:
    sub = accounts_service.resolve_sub_account(session, tenant, sub_account_name)
    channel = channels_service.require_channel(session, tenant, channel_identifier)
    stmt = owned(CatalogEntry, tenant).where(CatalogEntry.channel_id == channel.id)
    stmt = stmt.where(
        CatalogEntry.sub_account_id == sub.id if sub is not None else CatalogEntry.sub_account_id.is_(None)
    )
    return channel, sub, session.scalar(stmt)


def get_item(
    session: Session, tenant: HasAccount, base_url: str, channel_identifier: str, sub_account_name: str | None
) -> ExternalCatalogItemGet:
    """The catalog item of a published channel; 404 when it isn't published in that catalog."""
    _, _, entry = _find(session, tenant, channel_identifier, sub_account_name)
    if entry is None:
        raise NotFound(
            f"Channel {channel_identifier!r} is not published in {_catalog_name(sub_account_name)}"
        )
    return _item(base_url, entry)


def publish(
    session: Session, tenant: HasAccount, base_url: str, channel_identifier: str, sub_account_name: str | None
) -> tuple[ExternalCatalogItemGet, bool]:
    """Publish a channel in a catalog; returns its item and whether it was newly published."""
    channel, sub, entry = _find(session, tenant, channel_identifier, sub_account_name)
    if entry is not None:
        return _item(base_url, entry), False
    new = CatalogEntry(
        account_id=tenant.account_id,
        catalog_item_id=str(uuid.uuid4()),
        channel_id=channel.id,
        sub_account_id=sub.id if sub is not None else None,
        created_at=utcnow(),
    )
    stored, created = insert_or_find(
        lambda: add(session, new), lambda: _find(session, tenant, channel_identifier, sub_account_name)[2]
    )
    return _item(base_url, stored), created


def withdraw(
    session: Session, tenant: HasAccount, channel_identifier: str, sub_account_name: str | None
) -> None:
    _, _, entry = _find(session, tenant, channel_identifier, sub_account_name)
    if entry is None:
        raise NotFound(
            f"Channel {channel_identifier!r} is not published in {_catalog_name(sub_account_name)}"
        )
    session.execute(
        delete(CatalogEntry).where(CatalogEntry.id == entry.id).execution_options(synchronize_session=False)
    )
    session.expunge(entry)


def list_entries(session: Session, tenant: HasAccount, base_url: str) -> list[CatalogEntryInfo]:
    rows = session.execute(
        owned(CatalogEntry, tenant)
        .with_only_columns(
            CatalogEntry.catalog_item_id,
            CatalogEntry.created_at,
            Channel.external_id,
            SubAccount.name,
        )
        .join(Channel, Channel.id == CatalogEntry.channel_id)
        .outerjoin(SubAccount, SubAccount.id == CatalogEntry.sub_account_id)
        .order_by(CatalogEntry.id)
    )
    return [
        CatalogEntryInfo(
            catalog_item_id=item_id,
            link=link(base_url, item_id),
            channel_identifier=channel_identifier,
            sub_account_name=sub_name,
            created=created,
        )
        for item_id, created, channel_identifier, sub_name in rows
    ]
