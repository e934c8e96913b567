"""Performance: recorded item progress, aggregated per learner and channel in SQL.

Every listing is one statement: the learners, each row's tally read by correlated subqueries
from that learner's progress in that channel. A page costs the same few queries whatever its
size, and reads the progress of its own rows only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select, update
from sqlalchemy.orm import Session

from enabley.channels import enrolment
from enabley.channels import service as channels_service
from enabley.compliance import standings
from enabley.db.base import HasAccount, locked, owned
from enabley.db.columns import utcnow
from enabley.db.sql import insert_ignore
from enabley.db.upsert import add, insert_or_find
from enabley.errors import InvalidRequest, NotFound
from enabley.events import log
from enabley.models import (
    Channel,
    ChannelItem,
    ItemProgress,
    User,
)
from enabley.pagination import Page, Walk
from enabley.performance import rules
from enabley.performance.schemas import ActivityData, ExternalUserChannelPerformance, PerformanceQuery
from enabley.users import service as users_service

MAX_UNPAGED_ROWS = 10_000
COMPLETE = 100
"""The progress, in percent, of a learner who completed the channel."""


def tally_columns(tenant: HasAccount, user_id: Any, channel_id: Any) -> tuple[ColumnElement[Any], ...]:
    """The tally of a user in a channel (values or the enclosing query's columns), as labelled
    correlated subqueries: required items, completed ones, the last completion, scored totals.

    Each reads one (channel, user) range of an index, so a page of rows costs what its own rows
    cost, however much progress the channel holds; aggregating every learner's progress first
    and joining the page to it cost as much as the whole channel, on every page.
    """
    done = ItemProgress.completed.is_(True)
    required = and_(done, ChannelItem.optional.is_(False))
    scored = and_(done, ChannelItem.scored.is_(True))
    progress = (
        owned(ChannelItem, tenant)
        .select_from(ItemProgress)
        .join(ChannelItem, ChannelItem.id == ItemProgress.item_id)
        .where(
            ItemProgress.channel_id == channel_id,
            ItemProgress.user_id == user_id,
            ChannelItem.kind.in_(rules.ITEM_KINDS),
        )
        .correlate_except(ItemProgress, ChannelItem)
    )

    def aggregate(value: ColumnElement[Any], label: str, empty: Any = None) -> ColumnElement[Any]:
        column = progress.with_only_columns(value).scalar_subquery()
        return (column if empty is None else func.coalesce(column, empty)).label(label)

    required_items = (
        owned(ChannelItem, tenant)
        .with_only_columns(func.count())
        .where(
            ChannelItem.channel_id == channel_id,
            ChannelItem.optional.is_(False),
            ChannelItem.kind.in_(rules.ITEM_KINDS),
        )
        .correlate_except(ChannelItem)
        .scalar_subquery()
        .label("required")
    )
    return (
        required_items,
        aggregate(func.count(case((required, 1))), "completed"),
        aggregate(func.max(case((required, ItemProgress.completed_at))), "last_completed_at"),
        aggregate(func.sum(case((scored, ItemProgress.score))), "score_total", 0),
        aggregate(func.count(case((scored, ItemProgress.score))), "score_count"),
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


def _row_columns(tenant: HasAccount, channel_id: Any = Channel.id) -> tuple[ColumnElement[Any], ...]:
    return (
        User.external_id.label("user_identifier"),
        Channel.external_id.label("channel_identifier"),
        Channel.name.label("channel_name"),
        *tally_columns(tenant, User.id, channel_id),
    )


def performance_stmt(
    tenant: HasAccount,
    *,
    channel: Channel | None,
    user: User | None,
    after: tuple[Any, ...] | None = None,
) -> tuple[Select[Any], list[Any]]:
    """The performance rows of current learners (of ``channel``, of ``user``, both or neither)
    and the unique order they are listed in; ``after``, a position in that order, only narrows
    what the database reads (the caller still filters on it)."""
    columns = _row_columns(tenant)
    order: list[Any]  # mapped columns, in a unique order
    if channel is not None:
        stmt = (
            owned(User, tenant)
            .with_only_columns(*columns)
            .select_from(User)
            .join(Channel, Channel.id == channel.id)
        )
        if user is not None:
            stmt = stmt.where(User.id == user.id, enrolment.is_learner_clause(channel.id, user.id))
        else:
            # The page's learners all come after its position: reading only those, a page deep in
            # the walk costs no more than the first.
            learners = enrolment.learner_ids(channel.id, after=after[0] if after is not None else None)
            stmt = stmt.where(User.id.in_(learners))
        order = [User.id]
    elif user is not None:
        stmt = (
            owned(Channel, tenant)
            .with_only_columns(*columns)
            .select_from(Channel)
            .join(User, User.id == user.id)
            .where(Channel.id.in_(enrolment.channel_ids_of_learner(user.id)), Channel.is_master.is_(False))
        )
        order = [Channel.id]
    else:
        pairs = enrolment.learner_pairs(tenant)
        stmt = (
            owned(Channel, tenant)
            .with_only_columns(*columns)
            .select_from(pairs)
            .join(Channel, Channel.id == pairs.c.channel_id)
            .join(User, User.id == pairs.c.user_id)
            .where(Channel.is_master.is_(False))
        )
        order = [Channel.id, User.id]
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
    session: Session, tenant: HasAccount, walk: Walk[PerformanceQuery]
) -> Page[ExternalUserChannelPerformance]:
    query = walk.query
    if query.channel_identifier is None and query.user_identifier is None:
        raise InvalidRequest("Give channelIdentifier, userIdentifier or both")
    channel, user = _resolve(session, tenant, query.channel_identifier, query.user_identifier)
    if walk.cursor.total is None and channel is not None and user is None:
        # A channel's rows are its learners: counted from the memberships alone, without the
        # users they join to (which PostgreSQL would visit one by one).
        walk = walk.counted(enrolment.count_learners(session, channel.id))
    stmt, order = performance_stmt(tenant, channel=channel, user=user, after=walk.cursor.after)
    page = walk.fetch(session, stmt, order)
    return page.page([_to_row(row) for row in page.rows])


def learner_row(
    session: Session, tenant: HasAccount, channel: Channel, user: User
) -> ExternalUserChannelPerformance:
    stmt, _ = performance_stmt(tenant, channel=channel, user=user)
    row = session.execute(stmt).first()
    if row is None:
        raise InvalidRequest(f"User {user.external_id!r} is not a learner of channel {channel.external_id!r}")
    return _to_row(row)


def _require_learner(session: Session, channel: Channel, user: User) -> None:
    if not enrolment.is_learner(session, channel.id, user.id):
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
                ChannelItem.kind.in_(rules.ITEM_KINDS),
            ),
        )
    )
    if item is None:
        raise NotFound(f"Item {data.item_identifier!r} not found in channel {channel.external_id!r}")
    _require_learner(session, channel, user)
    emit_changes = _watch_completion(session, tenant, channel, user)
    occurred = data.occurred_at or utcnow()
    score_given = "score" in data.model_fields_set
    progress = _progress_of(session, user.id, item.id)
    created = False
    if progress is None:
        new = ItemProgress(user_id=user.id, item_id=item.id, channel_id=channel.id, completed=False)
        _apply(new, data.completed, data.score, score_given, occurred)
        stored, created = insert_or_find(
            lambda: add(session, new), lambda: _progress_of(session, user.id, item.id)
        )
        progress = stored
    if not created:
        _apply(progress, data.completed, data.score, score_given, occurred)
        session.flush()
    standings.refresh_course(session, tenant, channel.id, [user.id])
    return emit_changes()


def _watch_completion(
    session: Session, tenant: HasAccount, channel: Channel, user: User
) -> Callable[[], ExternalUserChannelPerformance]:
    """Before a change of the learner's progress: what to call after it, which answers his row
    and emits ``learner.completed`` when his progress reached 100 % and ``certificate.certified``
    for each certificate he holds since."""
    # Imported here: certificates derive their states from this module.
    from enabley.certificates import events as certificate_events

    before = learner_row(session, tenant, channel, user).progress
    held = certificate_events.held(session, tenant, user, channel.id)

    def after() -> ExternalUserChannelPerformance:
        row = learner_row(session, tenant, channel, user)
        if row.progress >= COMPLETE and before < COMPLETE:
            log.emit_object(session, tenant.account_id, "learner.completed", row)
        now_held = certificate_events.held(session, tenant, user, channel.id)
        certificate_events.emit_newly_held(session, tenant, held, now_held)
        return row

    return after


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
    emit_changes = _watch_completion(session, tenant, channel, user)
    # Locked: an item deleted meanwhile would fail the progress rows' foreign key.
    item_ids: Sequence[int] = session.scalars(
        locked(
            session,
            owned(ChannelItem, tenant)
            .with_only_columns(ChannelItem.id)
            .where(
                ChannelItem.channel_id == channel.id,
                ChannelItem.optional.is_(False),
                ChannelItem.kind.in_(rules.ITEM_KINDS),
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
    standings.refresh_course(session, tenant, channel.id, [user.id])
    emit_changes()


def performance_rows(
    session: Session, tenant: HasAccount, user: User, *, limit: int
) -> list[ExternalUserChannelPerformance]:
    """The performance rows of a user's first ``limit`` channels, in their order."""
    stmt, order = performance_stmt(tenant, channel=None, user=user)
    return [_to_row(row) for row in session.execute(stmt.order_by(*order).limit(limit))]


def learner_rows(
    session: Session, tenant: HasAccount, channel: Channel, learners: Sequence[int]
) -> list[ExternalUserChannelPerformance]:
    """The performance rows of ``learners``, ids known to be the channel's learners, in id order.

    From the (owned) channel to the users by their ids: a query from the users' side filters on
    their account too, and SQLite, with no statistics, reads the account's whole range of their
    account index for it rather than seeking each id."""
    if not learners:
        return []
    stmt = (
        owned(Channel, tenant)
        # The channel as a value: its required items are counted once, not once per row.
        .with_only_columns(*_row_columns(tenant, channel.id))
        .select_from(Channel)
        .join(User, User.id.in_(learners))
        .where(Channel.id == channel.id)
        .order_by(User.id)
    )
    return [_to_row(row) for row in session.execute(stmt)]
