"""Channels, master channels and their instances."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import Row, Select, func, insert
from sqlalchemy.orm import Session, aliased

from enabley.accounts import service as accounts_service
from enabley.channels import rules
from enabley.channels.schemas import (
    ChannelAvailability,
    ChannelData,
    ChannelDetails,
    ChannelDetailsData,
    ChannelInfo,
    ChannelQuery,
    ChannelStatus,
    ChannelType,
    ExternalChannelInstance,
    ExternalMasterChannelGet,
    MasterChannelData,
    MasterChannelQuery,
    Schedule,
)
from enabley.db.base import AnySelect, HasAccount, owned
from enabley.db.columns import utcnow
from enabley.db.upsert import add, insert_or_find
from enabley.errors import InvalidRequest, ItemExists, NotFound
from enabley.events import log
from enabley.models import Channel, ChannelItem, SubAccount
from enabley.pagination import Page, Walk


def require_channel(
    session: Session, tenant: HasAccount, identifier: str, *, master: bool | None = False
) -> Channel:
    """The tenant's channel with this identifier; 404 otherwise.

    ``master``: False for ordinary channels (the default), True for master channels, None for either
    (they share one identifier space).
    """
    stmt = owned(Channel, tenant).where(Channel.external_id == identifier)
    if master is not None:
        stmt = stmt.where(Channel.is_master.is_(master))
    channel = session.scalar(stmt)
    if channel is None:
        kind = "Master channel" if master else "Channel"
        raise NotFound(f"{kind} {identifier!r} not found")
    return channel


# Reading: every list is one query for the channels plus one aggregate for their items.

_Master = aliased(Channel, name="master_channel")
_SUB_NAME = SubAccount.name.label("sub_account_name")
_INFO_COLUMNS = (
    Channel.id,
    Channel.external_id,
    Channel.name,
    Channel.type,
    Channel.status,
    Channel.categories,
    Channel.schedule_start,
    Channel.schedule_end,
    Channel.created_at,
    _SUB_NAME,
    _Master.external_id.label("master_external_id"),
)
_MASTER_COLUMNS = (
    Channel.external_id,
    Channel.name,
    Channel.published,
    Channel.categories,
    Channel.created_at,
    _SUB_NAME,
)


def _info_select(tenant: HasAccount) -> AnySelect:
    return (
        owned(Channel, tenant)
        .with_only_columns(*_INFO_COLUMNS)
        .outerjoin(SubAccount, SubAccount.id == Channel.sub_account_id)
        .outerjoin(_Master, _Master.id == Channel.master_id)
        .where(Channel.is_master.is_(False))
    )


def _master_select(tenant: HasAccount) -> AnySelect:
    return (
        owned(Channel, tenant)
        .with_only_columns(*_MASTER_COLUMNS)
        .outerjoin(SubAccount, SubAccount.id == Channel.sub_account_id)
        .where(Channel.is_master.is_(True))
    )


def item_totals(
    session: Session, tenant: HasAccount, channel_ids: Sequence[int]
) -> dict[int, rules.ItemTotals]:
    """Item counts and content duration of many channels, in one aggregate query."""
    if not channel_ids:
        return {}
    rows = session.execute(
        owned(ChannelItem, tenant)
        .with_only_columns(
            ChannelItem.channel_id, ChannelItem.kind, func.count(), func.sum(ChannelItem.duration_seconds)
        )
        .where(ChannelItem.channel_id.in_(channel_ids))
        .group_by(ChannelItem.channel_id, ChannelItem.kind)
    )
    by_channel: dict[int, list[tuple[str, int, int | None]]] = {}
    for channel_id, kind, count, seconds in rows:
        by_channel.setdefault(channel_id, []).append((kind, count, seconds))
    return {channel_id: rules.tally(kinds) for channel_id, kinds in by_channel.items()}


def schedule_of(start: datetime | None, end: datetime | None) -> Schedule | None:
    if start is None and end is None:
        return None
    return Schedule(start_date=start, end_date=end)


def direct_link(base_url: str, identifier: str) -> str:
    return f"{base_url}/channels/{quote(identifier, safe='')}"


def _to_info(
    base_url: str, row: Any, totals: rules.ItemTotals, include_categories: bool, now: datetime
) -> ChannelInfo:
    return ChannelInfo(
        availability=ChannelAvailability(
            schedule=schedule_of(row.schedule_start, row.schedule_end),
            status=rules.availability(row.status, totals, row.schedule_start, row.schedule_end, now),
        ),
        categories=list(row.categories) if include_categories else None,
        created=row.created_at,
        direct_link=direct_link(base_url, row.external_id),
        duration=rules.duration(totals),
        identifier=row.external_id,
        master_channel_id=row.master_external_id,
        master_channel_instance=row.master_external_id is not None,
        name=row.name,
        sub_account_name=row.sub_account_name,
        type=ChannelType(row.type),
    )


def infos(
    session: Session, tenant: HasAccount, rows: Sequence[Row[Any]], *, base_url: str, include_categories: bool
) -> list[ChannelInfo]:
    """``rows`` (of ``_info_select``) as the API answers them; ``base_url``: the server's public
    address, which channels' direct links start with."""
    totals = item_totals(session, tenant, [row.id for row in rows])
    now = utcnow()
    empty = rules.ItemTotals()
    return [_to_info(base_url, r, totals.get(r.id, empty), include_categories, now) for r in rows]


def channel_info(
    session: Session, tenant: HasAccount, identifier: str, *, base_url: str, include_categories: bool = False
) -> ChannelInfo:
    row = session.execute(_info_select(tenant).where(Channel.external_id == identifier)).first()
    if row is None:
        raise NotFound(f"Channel {identifier!r} not found")
    return infos(session, tenant, [row], base_url=base_url, include_categories=include_categories)[0]


def _sub_account_filter(session: Session, tenant: HasAccount, stmt: Select[Any], name: Any) -> Select[Any]:
    sub = accounts_service.resolve_sub_account(session, tenant, name)
    return stmt if sub is None else stmt.where(Channel.sub_account_id == sub.id)


def list_channels(
    session: Session,
    tenant: HasAccount,
    *,
    base_url: str,
    created_since: datetime | None,
    include_categories: bool,
    sub_account_name: str | None,
) -> list[ChannelInfo]:
    stmt = _sub_account_filter(session, tenant, _info_select(tenant), sub_account_name)
    if created_since is not None:
        stmt = stmt.where(Channel.created_at >= created_since)
    rows = session.execute(stmt.order_by(Channel.id)).all()
    return infos(session, tenant, rows, base_url=base_url, include_categories=include_categories)


def channels_page(
    session: Session, tenant: HasAccount, walk: Walk[ChannelQuery], base_url: str
) -> Page[ChannelInfo]:
    query = walk.query
    stmt = _sub_account_filter(session, tenant, _info_select(tenant), query.sub_account_name)
    page = walk.fetch(session, stmt, [Channel.id])
    included = bool(query.include_categories)
    return page.page(infos(session, tenant, page.rows, base_url=base_url, include_categories=included))


def _masters_filtered(
    session: Session, tenant: HasAccount, only_published: Any, sub_account_name: Any
) -> Select[Any]:
    stmt = _sub_account_filter(session, tenant, _master_select(tenant), sub_account_name)
    return stmt.where(Channel.published.is_(True)) if only_published else stmt


def list_masters(
    session: Session, tenant: HasAccount, *, only_published: bool, sub_account_name: str | None
) -> list[ExternalMasterChannelGet]:
    stmt = _masters_filtered(session, tenant, only_published, sub_account_name)
    return [
        ExternalMasterChannelGet.model_validate(row) for row in session.execute(stmt.order_by(Channel.id))
    ]


def masters_page(
    session: Session, tenant: HasAccount, walk: Walk[MasterChannelQuery]
) -> Page[ExternalMasterChannelGet]:
    query = walk.query
    stmt = _masters_filtered(session, tenant, query.only_published, query.sub_account_name)
    page = walk.fetch(session, stmt, [Channel.id])
    return page.page([ExternalMasterChannelGet.model_validate(row) for row in page.rows])


def master_info(session: Session, tenant: HasAccount, identifier: str) -> ExternalMasterChannelGet:
    row = session.execute(_master_select(tenant).where(Channel.external_id == identifier)).first()
    if row is None:
        raise NotFound(f"Master channel {identifier!r} not found")
    return ExternalMasterChannelGet.model_validate(row)


# Writing.


def _find(session: Session, tenant: HasAccount, identifier: str) -> Channel | None:
    return session.scalar(owned(Channel, tenant).where(Channel.external_id == identifier))


def _taken(identifier: str, master: bool) -> ItemExists:
    kind = "a master channel" if master else "a channel"
    return ItemExists(f"Identifier {identifier!r} is already used by {kind}")


def _find_or_add(
    session: Session, tenant: HasAccount, identifier: str, build: Callable[[], Channel]
) -> tuple[Channel, bool]:
    """The channel with this identifier, or the one ``build`` makes, added: (channel, created)."""
    found = _find(session, tenant, identifier)
    if found is not None:
        return found, False
    return insert_or_find(lambda: add(session, build()), lambda: _find(session, tenant, identifier))


def put_channel(
    session: Session, tenant: HasAccount, data: ChannelData, base_url: str
) -> tuple[ChannelInfo, bool]:
    """*Create or update Channel*: the channel as it now is, and whether it was created."""
    channel, created = upsert_channel(session, tenant, data)
    info = channel_info(session, tenant, channel.external_id, base_url=base_url)
    log.emit_object(session, tenant.account_id, "channel.created" if created else "channel.updated", info)
    return info, created


def put_master(
    session: Session, tenant: HasAccount, data: MasterChannelData
) -> tuple[ExternalMasterChannelGet, bool]:
    """*Create or update master channel*: the master as it now is, and whether it was created."""
    channel, created = upsert_master(session, tenant, data)
    info = master_info(session, tenant, channel.external_id)
    log.emit_object(session, tenant.account_id, "channel.created" if created else "channel.updated", info)
    return info, created


def upsert_channel(session: Session, tenant: HasAccount, data: ChannelData) -> tuple[Channel, bool]:
    """Create or update an ordinary channel; returns it and whether it was created."""
    given = data.model_fields_set
    sub = accounts_service.resolve_sub_account(session, tenant, data.sub_account_name)
    now = utcnow()

    def fill(channel: Channel, created: bool) -> Channel:
        channel.name = data.name
        if data.type is not None:
            channel.type = data.type.value
        if data.status is not None:
            channel.status = data.status.value
        if created or "sub_account_name" in given:
            channel.sub_account_id = sub.id if sub is not None else None
        channel.modified_at = now
        return channel

    def build() -> Channel:
        new = Channel(
            account_id=tenant.account_id,
            external_id=data.identifier,
            is_master=False,
            published=False,
            categories=[],
            created_at=now,
            type=ChannelType.COURSE.value,
            status=ChannelStatus.ACTIVE.value,
        )
        return fill(new, True)

    channel, created = _find_or_add(session, tenant, data.identifier, build)
    if created:
        return channel, True
    if channel.is_master:
        raise _taken(data.identifier, master=True)
    if channel.master_id is not None and data.type == ChannelType.STREAM:
        raise InvalidRequest(f"Channel {data.identifier!r} is a master channel instance: it is a COURSE")
    fill(channel, False)
    session.flush()
    return channel, False


def upsert_master(session: Session, tenant: HasAccount, data: MasterChannelData) -> tuple[Channel, bool]:
    given = data.model_fields_set
    sub = accounts_service.resolve_sub_account(session, tenant, data.sub_account_name)
    now = utcnow()

    def fill(channel: Channel, created: bool) -> Channel:
        channel.name = data.name
        if data.published is not None:
            channel.published = data.published
        if data.categories is not None:
            channel.categories = data.categories
        if created or "sub_account_name" in given:
            channel.sub_account_id = sub.id if sub is not None else None
        channel.modified_at = now
        return channel

    def build() -> Channel:
        new = Channel(
            account_id=tenant.account_id,
            external_id=data.identifier,
            is_master=True,
            type=ChannelType.COURSE.value,
            status=ChannelStatus.ACTIVE.value,
            published=False,
            categories=[],
            created_at=now,
        )
        return fill(new, True)

    channel, created = _find_or_add(session, tenant, data.identifier, build)
    if created:
        return channel, True
    if not channel.is_master:
        raise _taken(data.identifier, master=False)
    fill(channel, False)
    session.flush()
    return channel, False


_COPIED_ITEM_COLUMNS = (
    "account_id",
    "external_id",
    "kind",
    "name",
    "optional",
    "scored",
    "content_type",
    "duration_seconds",
    "description",
    "from_date",
    "until_date",
    "all_day_event",
    "is_published",
    "live_session",
    "location",
)


def create_instance(
    session: Session, tenant: HasAccount, data: ExternalChannelInstance, base_url: str
) -> ChannelInfo:
    """A COURSE channel made from a master: its items, training events, categories and schedule."""
    master = require_channel(session, tenant, data.master_course_identifier, master=True)
    sub = accounts_service.resolve_sub_account(session, tenant, data.sub_account_name)
    existing = _find(session, tenant, data.identifier)
    if existing is not None:
        raise _taken(data.identifier, master=existing.is_master)
    now = utcnow()
    channel = Channel(
        account_id=tenant.account_id,
        external_id=data.identifier,
        name=data.name or master.name,
        type=ChannelType.COURSE.value,
        status=ChannelStatus.ACTIVE.value,
        is_master=False,
        published=False,
        master_id=master.id,
        sub_account_id=sub.id if sub is not None else None,
        categories=list(master.categories),
        schedule_start=master.schedule_start,
        schedule_end=master.schedule_end,
        created_at=now,
        modified_at=now,
    )
    if add(session, channel) is None:  # created meanwhile by a concurrent request
        raise _taken(data.identifier, master=False)
    items = session.execute(
        owned(ChannelItem, tenant)
        .with_only_columns(*(getattr(ChannelItem, name) for name in _COPIED_ITEM_COLUMNS))
        .where(ChannelItem.channel_id == master.id)
        .order_by(ChannelItem.id)
    ).all()
    if items:
        session.execute(
            insert(ChannelItem),
            [
                {**row._asdict(), "channel_id": channel.id, "created_at": now, "modified_at": now}
                for row in items
            ],
        )
    info = channel_info(session, tenant, channel.external_id, base_url=base_url)
    log.emit_object(session, tenant.account_id, "channel.created", info)
    return info


def details_of(channel: Channel) -> ChannelDetails:
    return ChannelDetails(
        identifier=channel.external_id,
        categories=list(channel.categories),
        schedule=schedule_of(channel.schedule_start, channel.schedule_end),
    )


def get_details(session: Session, tenant: HasAccount, identifier: str) -> ChannelDetails:
    return details_of(require_channel(session, tenant, identifier, master=None))


def set_details(
    session: Session, tenant: HasAccount, identifier: str, data: ChannelDetailsData
) -> ChannelDetails:
    channel = require_channel(session, tenant, identifier, master=None)
    given = data.model_fields_set
    if "categories" in given:
        channel.categories = data.categories or []
    if "schedule" in given:
        schedule = data.schedule
        channel.schedule_start = schedule.start_date if schedule else None
        channel.schedule_end = schedule.end_date if schedule else None
    channel.modified_at = utcnow()
    session.flush()
    return details_of(channel)
