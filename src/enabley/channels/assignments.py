"""Who is assigned to a channel: groups (their members learn, live) and users with their roles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from enabley.channels import enrolment
from enabley.channels.schemas import ChannelRole
from enabley.channels.service import require_channel
from enabley.db.base import HasAccount, locked, owned
from enabley.db.sql import insert_ignoring
from enabley.errors import NotFound
from enabley.events import log
from enabley.models import ChannelGroup, ChannelUser, Group
from enabley.users import service as users_service


def _require_group(session: Session, tenant: HasAccount, identifier: str) -> Group:
    group = session.scalar(locked(session, owned(Group, tenant).where(Group.external_id == identifier)))
    if group is None:
        raise NotFound(f"Group {identifier!r} not found")
    return group


def assign_group(
    session: Session,
    tenant: HasAccount,
    channel_identifier: str,
    group_identifier: str,
    recursive: bool | None,
) -> None:
    """Assign a group's members as learners; assigning again updates ``recursive`` when it is given."""
    channel = require_channel(session, tenant, channel_identifier)
    group = _require_group(session, tenant, group_identifier)
    added = session.execute(
        insert_ignoring(session.get_bind().dialect, ChannelGroup.__table__).returning(ChannelGroup.group_id),
        {
            "channel_id": channel.id,
            "group_id": group.id,
            "recursive": bool(recursive),
            "role": enrolment.LEARNER,
        },
    ).first()
    if added is not None:
        _emit(session, tenant, "enrollment.created", channel_identifier, groupIdentifier=group_identifier)
    if recursive is not None:
        session.execute(
            update(ChannelGroup)
            .where(ChannelGroup.channel_id == channel.id, ChannelGroup.group_id == group.id)
            .values(recursive=recursive)
        )


def remove_group(
    session: Session, tenant: HasAccount, channel_identifier: str, group_identifier: str
) -> None:
    channel = require_channel(session, tenant, channel_identifier)
    group = _require_group(session, tenant, group_identifier)
    removed = session.connection().execute(
        delete(ChannelGroup).where(ChannelGroup.channel_id == channel.id, ChannelGroup.group_id == group.id)
    )
    if removed.rowcount:
        _emit(session, tenant, "enrollment.deleted", channel_identifier, groupIdentifier=group_identifier)


def _emit(session: Session, tenant: HasAccount, type: str, channel: str, **assigned: object) -> None:
    """An enrollment's ``data``: the channel, and the user (with the roles given or taken) or group."""
    log.emit(session, tenant.account_id, type, {"channelIdentifier": channel, **assigned})


def assign_user(
    session: Session,
    tenant: HasAccount,
    channel_identifier: str,
    user_identifier: str,
    roles: Sequence[ChannelRole],
) -> None:
    """Give a user roles in a channel, in addition to any it already has there."""
    channel = require_channel(session, tenant, channel_identifier)
    user = users_service.require_user(session, tenant, user_identifier)
    wanted = dict.fromkeys(roles) or {ChannelRole.LEARNER: None}
    stmt = insert_ignoring(session.get_bind().dialect, ChannelUser.__table__).returning(ChannelUser.role)
    given = [
        session.execute(stmt, {"channel_id": channel.id, "user_id": user.id, "role": role.value}).scalar()
        for role in wanted
    ]
    if any(given):
        roles_given = [role for role in given if role is not None]
        _emit(
            session,
            tenant,
            "enrollment.created",
            channel_identifier,
            userIdentifier=user_identifier,
            roles=roles_given,
        )


def remove_user(session: Session, tenant: HasAccount, channel_identifier: str, user_identifier: str) -> None:
    """Remove every direct assignment of the user (all roles); group memberships are untouched."""
    channel = require_channel(session, tenant, channel_identifier)
    user = users_service.require_user(session, tenant, user_identifier)
    taken = session.execute(
        delete(ChannelUser)
        .where(ChannelUser.channel_id == channel.id, ChannelUser.user_id == user.id)
        .returning(ChannelUser.role)
    ).scalars()
    roles = sorted(taken)
    if roles:
        _emit(
            session,
            tenant,
            "enrollment.deleted",
            channel_identifier,
            userIdentifier=user_identifier,
            roles=roles,
        )


def count_learners(session: Session, tenant: HasAccount, channel_identifier: str) -> int:
    channel = require_channel(session, tenant, channel_identifier)
    return enrolment.count_learners(session, channel.id)
