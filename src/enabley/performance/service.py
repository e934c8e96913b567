"""Performance: recorded item progress, aggregated per learner and channel in SQL.

Every listing is one aggregate statement (GROUP BY over the progress rows, joined to the
learners), so a page costs the same few queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from enabley.channels import membership
from enabley.channels import service as channels_service
from enabley.db import HasAccount, insert_ignore, locked, owned, utcnow
from enabley.errors import InvalidRequest, NotFound
from enabley.models import (
    Channel,
    ChannelItem,
    ItemProgress,
    User,
)
from enabley.pagination import Cursor, PageResult, Paginator
from enabley.performance import rules
from enabley.performance.schemas import ActivityData, ExternalUserChannelPerformance
from enabley.users import service as users_service

MAX_UNPAGED_ROWS = 10_000
ITEM_KINDS = ("CONTENT", "EVENT")


def _required_counts(tenant: HasAccount, channel_id: int | None) -> Subquery:
    stmt = (
        owned(ChannelItem, tenant)
        .with_only_columns(ChannelItem.channel_id, func.count().label("required"))
        .where(ChannelItem.optional.is_(False), ChannelItem.kind.in_(ITEM_KINDS))
        .group_by(ChannelItem.channel_id)
    )
    if channel_id is not None:
        stmt = stmt.where(ChannelItem.channel_id == channel_id)
    return stmt.subquery("required_items")


def _tallies(tenant: HasAccount, *, channel_id: int | None, user_id: int | None) -> Subquery:
    """Per (user, channel): completed required items, the last completion, scored totals."""
    done = ItemProgress.completed.is_(True)
    required = and_(done, ChannelItem.optional.is_(False))
    scored = and_(done, ChannelItem.scored.is_(True))
    stmt = (
        owned(ChannelItem, tenant)
        .with_only_columns(
            ItemProgress.user_id,
            ItemProgress.channel_id,
            func.count(case((required, 1))).label("completed"),
            func.max(case((required, ItemProgress.completed_at))).label("last_completed_at"),
            func.sum(case((scored, ItemProgress.score))).label("score_total"),
            func.count(case((scored, ItemProgress.score))).label("score_count"),
        )
        .select_from(ChannelItem)
        .join(ItemProgress, ItemProgress.item_id == ChannelItem.id)
        .where(ChannelItem.kind.in_(ITEM_KINDS))
        .group_by(ItemProgress.user_id, ItemProgress.channel_id)
    )
    if channel_id is not None:
        stmt = stmt.where(ItemProgress.channel_id == channel_id)
    if user_id is not None:
        stmt = stmt.where(ItemProgress.user_id == user_id)
    return stmt.subquery("tallies")


def _tally_columns(required: Subquery, tallies: Subquery) -> tuple[ColumnElement[Any], ...]:
    return (
        func.coalesce(required.c.required, 0).label("required"),
        func.coalesce(tallies.c.completed, 0).label("completed"),
        tallies.c.last_completed_at,
        func.coalesce(tallies.c.score_total, 0).label("score_total"),
        func.coalesce(tallies.c.score_count, 0).label("score_count"),
    )


def tally_of(row: Any) -> rules.Tally:
    return rules.Tally(
        required=int(row.required),
        completed=int(row.completed),
        last_completed_at=row.last_completed_at,
        score_total=int(row.score_total),
        score_count=int(row.score_count),
    )


def _to_row(row: Any) -> ExternalUserChannelPerformance:
    tally = tally_of(row)
    return ExternalUserChannelPerformance(
        channel_name=row.channel_name,
        completion_date=rules.completion_date(tally),
        external_channel_id=row.channel_identifier,
        external_user_id=row.user_identifier,
        progress=rules.progress(tally),
        score=rules.mean_score(tally),
    )


def performance_stmt(
    tenant: HasAccount, *, channel: Channel | None, user: User | None
) -> tuple[Select[Any], list[Any]]:
    """The performance rows of current learners (of ``channel``, of ``user``, both or neither)
    and the unique order they are listed in."""
    required = _required_counts(tenant, channel.id if channel is not None else None)
    tallies = _tallies(
        tenant,
        channel_id=channel.id if channel is not None else None,
        user_id=user.id if user is not None else None,
    )
    columns = (
        User.external_id.label("user_identifier"),
        Channel.external_id.label("channel_identifier"),
        Channel.name.label("channel_name"),
        *_tally_columns(required, tallies),
    )
    order: list[Any]  # mapped columns, in a unique order
    if channel is not None:
        stmt = (
            owned(User, tenant)
            .with_only_columns(*columns)
            .select_from(User)
            .join(Channel, Channel.id == channel.id)
            .where(User.id.in_(membership.learner_ids(channel.id)))
        )
        if user is not None:
            stmt = stmt.where(User.id == user.id)
        order = [User.id]
    elif user is not None:
        stmt = (
            owned(Channel, tenant)
            .with_only_columns(*columns)
            .select_from(Channel)
            .join(User, User.id == user.id)
            .where(Channel.id.in_(membership.channel_ids_of_learner(user.id)), Channel.is_master.is_(False))
        )
        order = [Channel.id]
    else:
        pairs = membership.learner_pairs(tenant)
        stmt = (
            owned(Channel, tenant)
            .with_only_columns(*columns)
            .select_from(pairs)
            .join(Channel, Channel.id == pairs.c.channel_id)
            .join(User, User.id == pairs.c.user_id)
            .where(Channel.is_master.is_(False))
        )
        order = [Channel.id, User.id]
    stmt = stmt.outerjoin(required, required.c.channel_id == Channel.id).outerjoin(
        tallies, and_(tallies.c.user_id == User.id, tallies.c.channel_id == Channel.id)
    )
    return stmt, order


def _resolve(
    session: Session, tenant: HasAccount, channel_identifier: str | None, user_identifier: str | None
) -> tuple[Channel | None, User | None]:
    channel = (
        channels_service.require_channel(session, tenant, channel_identifier)
        if channel_identifier is not None
        else None
    )
    user = (
        users_service.require_user(session, tenant, user_identifier) if user_identifier is not None else None
    )
    return channel, user


def list_performance(
    session: Session, tenant: HasAccount, channel_identifier: str | None, user_identifier: str | None
) -> list[ExternalUserChannelPerformance]:
    """Every row matching the filters, at most ``MAX_UNPAGED_ROWS`` of them."""
    channel, user = _resolve(session, tenant, channel_identifier, user_identifier)
    stmt, order = performance_stmt(tenant, channel=channel, user=user)
    rows = session.execute(stmt.order_by(*order).limit(MAX_UNPAGED_ROWS + 1)).all()
    if len(rows) > MAX_UNPAGED_ROWS:
        raise InvalidRequest(
            f"More than {MAX_UNPAGED_ROWS} performance rows match: narrow the query with "
            "externalChannelId or externalUserId, or page through them with GET /api/v2/performance"
        )
    return [_to_row(row) for row in rows]


def performance_page(
    session: Session, tenant: HasAccount, paginator: Paginator, cursor: Cursor
) -> tuple[PageResult, list[ExternalUserChannelPerformance]]:
    channel_identifier = cursor.filters.get("channelIdentifier")
    user_identifier = cursor.filters.get("userIdentifier")
    if channel_identifier is None and user_identifier is None:
        raise InvalidRequest("Give channelIdentifier, userIdentifier or both")
    channel, user = _resolve(
        session,
        tenant,
        str(channel_identifier) if channel_identifier is not None else None,
        str(user_identifier) if user_identifier is not None else None,
    )
    stmt, order = performance_stmt(tenant, channel=channel, user=user)
    page = paginator.fetch(session, cursor, stmt, order, account_id=tenant.account_id)
    return page, [_to_row(row) for row in page.rows]


def learner_row(
    session: Session, tenant: HasAccount, channel: Channel, user: User
) -> ExternalUserChannelPerformance:
    stmt, _ = performance_stmt(tenant, channel=channel, user=user)
    row = session.execute(stmt).first()
    if row is None:
        raise InvalidRequest(f"User {user.external_id!r} is not a learner of channel {channel.external_id!r}")
    return _to_row(row)


def course_tallies(
    session: Session, tenant: HasAccount, user_id: int, channel_ids: Iterable[int]
) -> dict[int, rules.Tally]:
    """The user's recorded progress in each of these channels, learner or not, in one query."""
    wanted = list(set(channel_ids))
    if not wanted:
        return {}
    required = _required_counts(tenant, None)
    tallies = _tallies(tenant, channel_id=None, user_id=user_id)
    rows = session.execute(
        owned(Channel, tenant)
        .with_only_columns(Channel.id, *_tally_columns(required, tallies))
        .outerjoin(required, required.c.channel_id == Channel.id)
        .outerjoin(tallies, tallies.c.channel_id == Channel.id)
        .where(Channel.id.in_(wanted))
    )
    return {row.id: tally_of(row) for row in rows}


def _require_learner(session: Session, channel: Channel, user: User) -> None:
    if not membership.is_learner(session, channel.id, user.id):
        raise InvalidRequest(f"User {user.external_id!r} is not a learner of channel {channel.external_id!r}")


def record_activity(
    session: Session, tenant: HasAccount, data: ActivityData
) -> ExternalUserChannelPerformance:
    """Record a learner's progress on one item (one row per user and item, updated in place)."""
    user = users_service.require_user(session, tenant, data.user_identifier)
    channel = channels_service.require_channel(session, tenant, data.channel_identifier)
    # Locked: an item deleted meanwhile would fail the progress row's foreign key.
    item = session.scalar(
        locked(
            session,
            owned(ChannelItem, tenant).where(
                ChannelItem.channel_id == channel.id,
                ChannelItem.external_id == data.item_identifier,
                ChannelItem.kind.in_(ITEM_KINDS),
            ),
        )
    )
    if item is None:
        raise NotFound(f"Item {data.item_identifier!r} not found in channel {channel.external_id!r}")
    _require_learner(session, channel, user)
    occurred = data.occurred_at or utcnow()
    score_given = "score" in data.model_fields_set
    progress = _progress_of(session, user.id, item.id)
    if progress is None:
        progress = ItemProgress(user_id=user.id, item_id=item.id, channel_id=channel.id, completed=False)
        _apply(progress, data.completed, data.score, score_given, occurred)
        try:
            with session.begin_nested():
                session.add(progress)
        except IntegrityError:
            # Recorded meanwhile by a concurrent request: update that row instead.
            progress = _progress_of(session, user.id, item.id)
            if progress is None:
                raise
            _apply(progress, data.completed, data.score, score_given, occurred)
    else:
        _apply(progress, data.completed, data.score, score_given, occurred)
    session.flush()
    return learner_row(session, tenant, channel, user)


def _progress_of(session: Session, user_id: int, item_id: int) -> ItemProgress | None:
    return session.scalar(
        select(ItemProgress)
        .where(ItemProgress.user_id == user_id, ItemProgress.item_id == item_id)
        .execution_options(populate_existing=True)
    )


def _apply(
    progress: ItemProgress, completed: bool, score: int | None, score_given: bool, occurred: datetime
) -> None:
    if not completed:
        progress.completed, progress.completed_at = False, None
    elif not progress.completed:
        progress.completed, progress.completed_at = True, occurred
    if score_given:
        progress.score = score
    progress.updated_at = utcnow()


def force_complete(
    session: Session, tenant: HasAccount, channel_identifier: str, user_identifier: str
) -> None:
    """Complete every non-optional item of the channel for the learner now; earlier completions
    keep their date."""
    channel = channels_service.require_channel(session, tenant, channel_identifier)
    user = users_service.require_user(session, tenant, user_identifier)
    _require_learner(session, channel, user)
    # Locked: an item deleted meanwhile would fail the progress rows' foreign key.
    item_ids: Sequence[int] = session.scalars(
        locked(
            session,
            owned(ChannelItem, tenant)
            .with_only_columns(ChannelItem.id)
            .where(
                ChannelItem.channel_id == channel.id,
                ChannelItem.optional.is_(False),
                ChannelItem.kind.in_(ITEM_KINDS),
            ),
        )
    ).all()
    if not item_ids:
        return
    now = utcnow()
    insert_ignore(
        session,
        ItemProgress.__table__,
        [
            {
                "user_id": user.id,
                "item_id": item_id,
                "channel_id": channel.id,
                "completed": True,
                "score": None,
                "completed_at": now,
                "updated_at": now,
            }
            for item_id in item_ids
        ],
    )
    session.execute(
        update(ItemProgress)
        .where(
            ItemProgress.user_id == user.id,
            ItemProgress.item_id.in_(item_ids),
            ItemProgress.completed.is_(False),
        )
        .values(completed=True, completed_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
