"""Who is assigned to a channel: groups (their members learn, live) and users with their roles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from enabley.channels import enrolment
from enabley.channels.schemas import ChannelRole
from enabley.channels.service import require_channel
from enabley.db.base import HasAccount, locked, owned
from enabley.db.sql import insert_ignore
from enabley.errors import NotFound
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
    insert_ignore(
        session,
        ChannelGroup.__table__,
        [
            {
                "channel_id": channel.id,
                "group_id": group.id,
                "recursive": bool(recursive),
                "role": enrolment.LEARNER,
            }
        ],
    )
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
    session.execute(
        delete(ChannelGroup).where(ChannelGroup.channel_id == channel.id, ChannelGroup.group_id == group.id)
    )


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
    insert_ignore(
        session,
        ChannelUser.__table__,
        [{"channel_id": channel.id, "user_id": user.id, "role": role.value} for role in wanted],
    )


def remove_user(session: Session, tenant: HasAccount, channel_identifier: str, user_identifier: str) -> None:
    """Remove every direct assignment of the user (all roles); group memberships are untouched."""
    channel = require_channel(session, tenant, channel_identifier)
    user = users_service.require_user(session, tenant, user_identifier)
    session.execute(
        delete(ChannelUser).where(ChannelUser.channel_id == channel.id, ChannelUser.user_id == user.id)
    )


def count_learners(session: Session, tenant: HasAccount, channel_identifier: str) -> int:
    channel = require_channel(session, tenant, channel_identifier)
    return enrolment.count_learners(session, channel.id)
