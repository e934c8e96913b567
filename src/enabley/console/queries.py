"""What the console's pages show, read through the domains' services and the tallies.

Every function takes ``(session, tenant, ...)`` and runs in one unit of work of the tenant's door.
A console user limited to a sub-account (``tenant.sub_account_name``) sees that sub-account's
users, groups and channels only, as the API's ``subAccountName`` filters give them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from enabley.accounts import service as accounts_service
from enabley.certificates import service as certificates_service
from enabley.channels import enrolment
from enabley.channels import service as channels_service
from enabley.console.auth import ConsoleTenant
from enabley.deps import AppContext
from enabley.errors import NotFound
from enabley.groups import service as groups_service
from enabley.groups.schemas import GroupInfo
from enabley.models import Channel, Group, SubAccountTally, UserGroup, UserSubAccount, UserTally
from enabley.pagination import Walk
from enabley.performance import distribution
from enabley.performance import rules as performance_rules
from enabley.performance import service as performance_service
from enabley.profiles import service as profiles_service
from enabley.users import service as users_service
from enabley.users.schemas import UserInfo, UserQuery

PROGRESS_BANDS = ("0 %", "1-24 %", "25-49 %", "50-74 %", "75-99 %", "100 %")
MAX_MEMBERS_SHOWN = 100


@dataclass(frozen=True, slots=True)
class Totals:
    users: int
    groups: int
    channels: int


def totals(session: Session, tenant: ConsoleTenant) -> Totals:
    """The overview's quick counts: users from the tallies the database keeps, groups and channels
    counted (an account has thousands, not millions); learners are ``learner_counts``'."""
    sub = accounts_service.resolve_sub_account(session, tenant, tenant.sub_account_name)
    users = _user_total(session, tenant)
    groups = select(func.count()).select_from(Group).where(Group.account_id == tenant.account_id)
    channels = (
        select(func.count())
        .select_from(Channel)
        .where(Channel.account_id == tenant.account_id, Channel.is_master.is_(False))
    )
    if sub is not None:
        groups = groups.where(Group.sub_account_id == sub.id)
        channels = channels.where(Channel.sub_account_id == sub.id)
    return Totals(
        users=users,
        groups=int(session.scalar(groups) or 0),
        channels=int(session.scalar(channels) or 0),
    )


def learner_counts(session: Session, tenant: ConsoleTenant) -> dict[str, int]:
    """Each channel's learners (by the one rule of ``enrolment``), by channel identifier: a pass
    over every enrolment of the account, which is why the pages ask for it apart (``figures``)."""
    pairs = enrolment.learner_pairs(tenant)
    stmt = (
        select(Channel.external_id, func.count())
        .select_from(pairs)
        .join(Channel, Channel.id == pairs.c.channel_id)
        .where(Channel.is_master.is_(False))
        .group_by(Channel.external_id)
    )
    sub = accounts_service.resolve_sub_account(session, tenant, tenant.sub_account_name)
    if sub is not None:
        stmt = stmt.where(Channel.sub_account_id == sub.id)
    return {identifier: int(count) for identifier, count in session.execute(stmt)}


@dataclass(slots=True)
class TreeNode:
    group: GroupInfo
    children: list[TreeNode] = field(default_factory=list)


def group_tree(session: Session, tenant: ConsoleTenant) -> list[TreeNode]:
    """The groups as a forest (a group whose parent is out of sight is a root); their member
    counts are ``member_counts``'."""
    infos = groups_service.list_groups(session, tenant, tenant.sub_account_name)
    nodes = {g.identifier: TreeNode(g) for g in infos}
    roots: list[TreeNode] = []
    for node in nodes.values():
        parent = nodes.get(node.group.parent_identifier or "")
        (parent.children if parent is not None else roots).append(node)
    return roots


def group_choices(session: Session, tenant: ConsoleTenant) -> list[tuple[int, str, str]]:
    """(depth, identifier, name) of every group, in tree order: a picker's options, read as bare
    rows (an account's thousands of groups, without building each one's full description)."""
    parent = aliased(Group)
    stmt = (
        select(Group.external_id, Group.name, parent.external_id)
        .outerjoin(parent, parent.id == Group.parent_id)
        .where(Group.account_id == tenant.account_id)
        .order_by(Group.name, Group.id)
    )
    sub = accounts_service.resolve_sub_account(session, tenant, tenant.sub_account_name)
    if sub is not None:
        stmt = stmt.where(Group.sub_account_id == sub.id)
    rows = session.execute(stmt).all()
    known = {identifier for identifier, _, _ in rows}
    children: dict[str | None, list[tuple[str, str]]] = {}
    for identifier, name, above in rows:
        children.setdefault(above if above in known else None, []).append((identifier, name))
    found: list[tuple[int, str, str]] = []
    stack = [(0, item) for item in reversed(children.get(None, []))]
    while stack:
        depth, (identifier, name) = stack.pop()
        found.append((depth, identifier, name))
        stack.extend((depth + 1, item) for item in reversed(children.get(identifier, [])))
    return found


def member_counts(session: Session, tenant: ConsoleTenant) -> dict[str, int]:
    """Each group's direct members, by group identifier: a pass over every membership of the
    account, which is why the pages ask for it apart (``figures``)."""
    stmt = (
        select(Group.external_id, func.count())
        .select_from(UserGroup)
        .join(Group, Group.id == UserGroup.group_id)
        .where(Group.account_id == tenant.account_id)
        .group_by(Group.external_id)
    )
    return {identifier: int(count) for identifier, count in session.execute(stmt)}


@dataclass(frozen=True, slots=True)
class GroupPage:
    group: GroupInfo
    members: list[UserInfo]
    total: int


def group_members(session: Session, tenant: ConsoleTenant, identifier: str) -> GroupPage:
    """A group and its first members (by id), bounded."""
    info = groups_service.get_group(session, tenant, identifier, tenant.sub_account_name)
    group = groups_service.require_group(session, tenant, identifier)
    member_ids = select(UserGroup.user_id).where(UserGroup.group_id == group.id)
    total = session.scalar(select(func.count()).select_from(member_ids.subquery())) or 0
    members = users_service.infos_of_ids(session, tenant, member_ids, limit=MAX_MEMBERS_SHOWN)
    return GroupPage(group=info, members=members, total=int(total))


def search_users(session: Session, tenant: ConsoleTenant, walk: Walk[UserQuery]) -> Any:
    """A page of the API's user search (its substring filters, keyset pages). Unfiltered, its page
    count comes from the tallies, as the API's own unfiltered walk counts it, not from a count of
    every user."""
    if not walk.query.narrows_by_text():
        walk = walk.counted(_user_total(session, tenant))
    return users_service.users_page(session, tenant, walk)


def _user_total(session: Session, tenant: ConsoleTenant) -> int:
    sub = accounts_service.resolve_sub_account(session, tenant, tenant.sub_account_name)
    if sub is None:
        stmt = select(func.sum(UserTally.users)).where(UserTally.account_id == tenant.account_id)
    else:
        stmt = select(func.sum(SubAccountTally.users)).where(SubAccountTally.sub_account_id == sub.id)
    return int(session.scalar(stmt) or 0)


@dataclass(frozen=True, slots=True)
class UserPage:
    user: UserInfo
    groups: list[GroupInfo]
    profiles: list[Any]
    channels: list[Any]
    certificates: list[Any]


def user_page(session: Session, tenant: ConsoleTenant, context: AppContext, identifier: str) -> UserPage:
    user = users_service.require_user(session, tenant, identifier)
    if tenant.sub_account_name is not None:
        sub = accounts_service.resolve_sub_account(session, tenant, tenant.sub_account_name)
        inside = session.scalar(
            select(UserSubAccount.user_id).where(
                UserSubAccount.user_id == user.id, UserSubAccount.sub_account_id == (sub.id if sub else -1)
            )
        )
        if inside is None:
            raise NotFound(f"User {identifier!r} not found")
    channels = performance_service.performance_rows(session, tenant, user, limit=200)
    return UserPage(
        user=users_service.info_of(session, user),
        groups=groups_service.groups_of_user(session, tenant, identifier, tenant.sub_account_name),
        profiles=profiles_service.profiles_of_user(session, tenant, identifier),
        channels=channels,
        certificates=certificates_service.user_certificates(session, tenant, context, identifier),
    )


@dataclass(frozen=True, slots=True)
class ChannelRow:
    identifier: str
    name: str
    type: str


def channel_list(session: Session, tenant: ConsoleTenant) -> list[ChannelRow]:
    """The channels, by name (their learner counts are ``learner_counts``')."""
    stmt = (
        select(Channel.external_id, Channel.name, Channel.type)
        .where(Channel.account_id == tenant.account_id, Channel.is_master.is_(False))
        .order_by(Channel.name, Channel.id)
        .limit(500)
    )
    sub = accounts_service.resolve_sub_account(session, tenant, tenant.sub_account_name)
    if sub is not None:
        stmt = stmt.where(Channel.sub_account_id == sub.id)
    return [ChannelRow(row.external_id, row.name, str(row.type)) for row in session.execute(stmt)]


@dataclass(frozen=True, slots=True)
class ChannelPage:
    channel: Any
    learners: list[Any]
    total: int
    bands: list[tuple[str, int]]


def channel_page(session: Session, tenant: ConsoleTenant, base_url: str, identifier: str) -> ChannelPage:
    """A channel, its learners' progress as a distribution, and its first learners.

    The distribution is counted, not listed: how many learners completed how many required items,
    with the learners' count and first ids, in one statement (``performance.distribution``); each
    count turned into a percentage by the rule the performance API uses."""
    sub = accounts_service.resolve_sub_account(session, tenant, tenant.sub_account_name)
    channel = channels_service.require_channel(session, tenant, identifier)
    if sub is not None and channel.sub_account_id != sub.id:
        raise NotFound(f"Channel {identifier!r} not found")
    info = channels_service.channel_info(session, tenant, identifier, base_url=base_url)
    counted = distribution.of_channel(session, tenant, channel.id, first=MAX_MEMBERS_SHOWN)
    bands = Counter({PROGRESS_BANDS[0]: counted.learners - sum(counted.by_completed.values())})
    for completed, learners in counted.by_completed.items():
        tally = performance_rules.Tally(counted.required, completed, None, 0, 0)
        bands[_band(performance_rules.progress(tally))] += learners
    return ChannelPage(
        channel=info,
        learners=performance_service.learner_rows(session, tenant, channel, counted.first),
        total=counted.learners,
        bands=[(band, bands.get(band, 0)) for band in PROGRESS_BANDS],
    )


def _band(progress: int) -> str:
    if progress <= 0:
        return PROGRESS_BANDS[0]
    if progress >= 100:
        return PROGRESS_BANDS[5]
    return PROGRESS_BANDS[1 + min(3, progress // 25)]
