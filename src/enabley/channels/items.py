"""A channel's content items and training events: one identifier space per channel."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import delete
from sqlalchemy.orm import Session

from enabley.channels import rules
from enabley.channels.schemas import (
    ContentItemData,
    ContentItemInfo,
    ContentItemType,
    TrainingEvent,
    TrainingEventData,
    TrainingEventInfo,
)
from enabley.channels.service import require_channel
from enabley.compliance import standings
from enabley.db.base import HasAccount, owned
from enabley.db.columns import utcnow
from enabley.db.upsert import add, insert_or_find
from enabley.errors import InvalidRequest, ItemExists, NotFound
from enabley.models import Channel, ChannelItem

_NOUN = {rules.CONTENT: "Content item", rules.EVENT: "Training event"}


def content_info(item: ChannelItem) -> ContentItemInfo:
    return ContentItemInfo(
        identifier=item.external_id,
        name=item.name,
        type=ContentItemType(item.content_type or ContentItemType.OTHER),
        optional=item.optional,
        duration_seconds=item.duration_seconds,
        scored=item.scored,
    )


def _event_fields(item: ChannelItem) -> dict[str, object]:
    return {
        "all_day_event": item.all_day_event,
        "description": item.description,
        "from_date": item.from_date,
        "include_grade": item.scored,
        "is_published": item.is_published,
        "live_session": item.live_session,
        "location": item.location,
        "name": item.name,
        "until_date": item.until_date,
    }


def training_event(item: ChannelItem) -> TrainingEvent:
    return TrainingEvent.model_validate(_event_fields(item))


def event_info(item: ChannelItem) -> TrainingEventInfo:
    return TrainingEventInfo.model_validate(
        {**_event_fields(item), "identifier": item.external_id, "optional": item.optional}
    )


def list_items(session: Session, tenant: HasAccount, channel: Channel, kind: str) -> list[ChannelItem]:
    return list(
        session.scalars(
            owned(ChannelItem, tenant)
            .where(ChannelItem.channel_id == channel.id, ChannelItem.kind == kind)
            .order_by(ChannelItem.id)
        )
    )


def course_events(session: Session, tenant: HasAccount, channel_identifier: str) -> list[TrainingEvent]:
    """The training events of an ordinary channel."""
    channel = require_channel(session, tenant, channel_identifier)
    return [training_event(item) for item in list_items(session, tenant, channel, rules.EVENT)]


def content_items(session: Session, tenant: HasAccount, channel_identifier: str) -> list[ContentItemInfo]:
    channel = require_channel(session, tenant, channel_identifier, master=None)
    return [content_info(item) for item in list_items(session, tenant, channel, rules.CONTENT)]


def training_events(session: Session, tenant: HasAccount, channel_identifier: str) -> list[TrainingEventInfo]:
    channel = require_channel(session, tenant, channel_identifier, master=None)
    return [event_info(item) for item in list_items(session, tenant, channel, rules.EVENT)]


def content_item(
    session: Session, tenant: HasAccount, channel_identifier: str, identifier: str
) -> ContentItemInfo:
    return content_info(require_item(session, tenant, channel_identifier, identifier, rules.CONTENT))


def training_event_of(
    session: Session, tenant: HasAccount, channel_identifier: str, identifier: str
) -> TrainingEventInfo:
    return event_info(require_item(session, tenant, channel_identifier, identifier, rules.EVENT))


def delete_content_item(
    session: Session, tenant: HasAccount, channel_identifier: str, identifier: str
) -> None:
    _delete(session, tenant, require_item(session, tenant, channel_identifier, identifier, rules.CONTENT))


def delete_training_event(
    session: Session, tenant: HasAccount, channel_identifier: str, identifier: str
) -> None:
    _delete(session, tenant, require_item(session, tenant, channel_identifier, identifier, rules.EVENT))


def _find(session: Session, tenant: HasAccount, channel: Channel, identifier: str) -> ChannelItem | None:
    return session.scalar(
        owned(ChannelItem, tenant).where(
            ChannelItem.channel_id == channel.id, ChannelItem.external_id == identifier
        )
    )


def require_item(
    session: Session, tenant: HasAccount, channel_identifier: str, identifier: str, kind: str
) -> ChannelItem:
    channel = require_channel(session, tenant, channel_identifier, master=None)
    item = _find(session, tenant, channel, identifier)
    if item is None or item.kind != kind:
        raise NotFound(f"{_NOUN[kind]} {identifier!r} not found in channel {channel_identifier!r}")
    return item


def _delete(session: Session, tenant: HasAccount, item: ChannelItem) -> None:
    # The database cascades to learners' progress on the item.
    session.execute(
        delete(ChannelItem).where(ChannelItem.id == item.id).execution_options(synchronize_session=False)
    )
    channel_id = item.channel_id
    session.expunge(item)
    _course_changed(session, tenant, channel_id)


def _course_changed(session: Session, tenant: HasAccount, channel_id: int) -> None:
    """An item that counts towards completion was added, removed, or made optional or required:
    every learner's completion of the course may have changed, so may his standing in the
    certificates it counts towards."""
    standings.refresh_course(session, tenant, channel_id)


def _upsert(
    session: Session,
    tenant: HasAccount,
    channel: Channel,
    identifier: str,
    kind: str,
    fill: Callable[[ChannelItem, bool], None],
) -> tuple[ChannelItem, bool]:
    """The item of this identifier, or a new one, filled in by ``fill(item, created)`` and stored:
    (item, created). 409 when the identifier has the other kind."""

    def build() -> ChannelItem:
        now = utcnow()
        new = ChannelItem(
            account_id=tenant.account_id,
            channel_id=channel.id,
            external_id=identifier,
            kind=kind,
            optional=False,
            scored=False,
            all_day_event=False,
            is_published=False,
            live_session=False,
            created_at=now,
            modified_at=now,
        )
        fill(new, True)
        return new

    item = _find(session, tenant, channel, identifier)
    if item is None:
        stored, created = insert_or_find(
            lambda: add(session, build()), lambda: _find(session, tenant, channel, identifier)
        )
        if created:
            _course_changed(session, tenant, channel.id)
            return stored, True
        item = stored
    if item.kind != kind:
        other = _NOUN[item.kind].lower()
        raise ItemExists(f"Identifier {identifier!r} is already used by a {other} of this channel")
    optional = item.optional
    fill(item, False)
    item.modified_at = utcnow()
    session.flush()
    if item.optional != optional:
        _course_changed(session, tenant, channel.id)
    return item, False


def put_content_item(
    session: Session, tenant: HasAccount, channel_identifier: str, data: ContentItemData
) -> tuple[ContentItemInfo, bool]:
    item, created = upsert_content_item(session, tenant, channel_identifier, data)
    return content_info(item), created


def put_training_event(
    session: Session, tenant: HasAccount, channel_identifier: str, data: TrainingEventData
) -> tuple[TrainingEventInfo, bool]:
    item, created = upsert_training_event(session, tenant, channel_identifier, data)
    return event_info(item), created


def upsert_content_item(
    session: Session, tenant: HasAccount, channel_identifier: str, data: ContentItemData
) -> tuple[ChannelItem, bool]:
    channel = require_channel(session, tenant, channel_identifier, master=None)
    given = data.model_fields_set

    def fill(item: ChannelItem, created: bool) -> None:
        item.name = data.name
        if data.type is not None or created:
            item.content_type = (data.type or ContentItemType.OTHER).value
        if "duration_seconds" in given:
            item.duration_seconds = data.duration_seconds
        for field in ("optional", "scored"):
            value = getattr(data, field)
            if value is not None:
                setattr(item, field, value)

    return _upsert(session, tenant, channel, data.identifier, rules.CONTENT, fill)


def upsert_training_event(
    session: Session, tenant: HasAccount, channel_identifier: str, data: TrainingEventData
) -> tuple[ChannelItem, bool]:
    channel = require_channel(session, tenant, channel_identifier, master=None)
    given = data.model_fields_set

    def fill(item: ChannelItem, created: bool) -> None:
        item.name = data.name
        for field in ("description", "from_date", "until_date", "location"):
            if field in given:
                setattr(item, field, getattr(data, field))
        for field, column in (
            ("all_day_event", "all_day_event"),
            ("include_grade", "scored"),
            ("is_published", "is_published"),
            ("live_session", "live_session"),
            ("optional", "optional"),
        ):
            value = getattr(data, field)
            if value is not None:
                setattr(item, column, value)
        if item.from_date and item.until_date and item.until_date < item.from_date:
            raise InvalidRequest(f"Training event {data.identifier!r}: untilDate must not be before fromDate")

    return _upsert(session, tenant, channel, data.identifier, rules.EVENT, fill)
