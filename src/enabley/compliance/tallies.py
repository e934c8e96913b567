"""Kept counts for the compliance summary: per group subtree, certificate and bucket, how many
required (learner, certificate) pairs there are (decision 0014).

A pair's bucket is its unearned state or, for a certificate held, the UTC day its ``due`` falls
on (its expiration, or ``NEVER_ENDS``'s day). Whatever depends on ``now`` (expired, about to
expire, expiring) is the same for every pair of a day but on the days of ``now``, ``now`` plus
the warning window and ``now`` plus ``withinDays``: a read takes those days' pairs from the
standings themselves.

Three tables (``models.certificate``):

- ``compliance_contributions``: where each learner's required standings are counted, one row per
  (learner, certificate, group he counts in: each group he belongs to and every group above
  them, and ``ACCOUNT`` for the whole account), with the pair's bucket;
- ``compliance_tallies``: their sums per (group, certificate, bucket);
- ``compliance_learners``: one row per learner counted, or marked for a recount (``waiting``)
  because what his contributions depend on may have changed: marked in the transaction that
  changed it, by ``standings`` for a standing and by the triggers of migration 0013 for a
  membership, a group's parent or deletion, a user's deletion. A mark holds its row until that
  transaction ends; a trigger finds in one probe whether the learner is counted or marked.

Only ``recount`` writes contributions and tallies, both at once: the tallies are always the sum
of the contributions, and every learner without a mark is counted as his standings and groups
say. ``counted`` reads a summary's buckets from the tallies, less what the marked learners
contributed; the caller adds, from the standings, the marked learners' pairs and the pairs of
the three days, in the same statement (one snapshot).

Concurrency (PostgreSQL, READ COMMITTED). The triggers mark only learners already counted or
marked, so a learner's first required standing and a change of his memberships can be written
side by side, neither seeing the other. ``recount_waiting`` therefore claims marks with SKIP
LOCKED (a mark being written is a transaction in flight: it is recounted after) and leaves
marked, for a later pass, every learner whose inputs another transaction holds: his user row (a
membership being added holds it, for the key's check; a deletion), one of his memberships (being
deleted) or one of his groups (moved, deleted). A writer has thus either committed before the
recount's statements, which see it, or marks the learner after the recount, which leaves the
mark. One recount per account at a time (an advisory lock, tried and never waited for).
SQLite writes one transaction at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    CTE,
    ColumnElement,
    Date,
    Table,
    delete,
    func,
    insert,
    literal,
    select,
    true,
    type_coerce,
    union_all,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect

from enabley.certificates.rules import CertificateState
from enabley.db.base import AccountScope, AnySelect, HasAccount, owned
from enabley.db.sql import OrderedJoin, insert_adding, insert_setting
from enabley.models import (
    CertificateStanding,
    ComplianceContribution,
    ComplianceLearner,
    ComplianceTally,
    Group,
    User,
    UserGroup,
)

ACCOUNT = 0
"""The group id under which every required pair of the account is counted."""
EARNED = ""
"""The bucket's unearned state when the certificate is held."""
BATCH = 1000
"""Learners recounted in one transaction."""
READ_LIMIT = 5000
"""Marked learners beyond which a read computes everything from the standings instead."""
_LOCK_CLASS = 0x0C0A
"""The advisory locks' first key on PostgreSQL (the second is the account)."""

S = CertificateState
_KEYS = ["account_id", "group_id", "certificate_id", "unearned_state", "day"]


@dataclass(frozen=True, slots=True)
class Days:
    """The UTC days on which a bucket's pairs may classify differently against ``now``."""

    now: date
    warning: date
    within: date

    @classmethod
    def of(cls, now: datetime, warning: timedelta, within: timedelta) -> Days:
        return cls(_day(now), _day(now + warning), _day(now + within))

    def ranges(self) -> list[tuple[datetime, datetime]]:
        """Each boundary day as [start, end) instants, the ranges of ``due`` read pair by pair."""
        return day_ranges((self.now, self.warning, self.within))

    def classify(self, unearned_state: str, day: date) -> tuple[str, int] | None:
        """(state, expiring) of every pair of the bucket, as ``query.classified`` has it; None for
        a boundary day's bucket of held certificates."""
        if unearned_state != EARNED:
            return unearned_state, 0
        if day == self.now or day == self.warning or day == self.within:
            return None
        # Every ``due`` of the day is before, or after, each instant together.
        if day < self.now:
            return S.EXPIRED.value, 0
        state = S.ABOUT_TO_EXPIRE if day < self.warning else S.CERTIFIED
        return state.value, int(day < self.within)


def day_ranges(days: Iterable[date]) -> list[tuple[datetime, datetime]]:
    """Each UTC day as [start, end) instants."""
    starts = sorted(datetime.combine(day, time(), UTC) for day in set(days))
    return [(start, start + timedelta(days=1)) for start in starts]


def _day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def day_of(dialect: str, due: Any) -> ColumnElement[date]:
    """The UTC day of a stored instant."""
    if dialect == "postgresql":
        return func.timezone("UTC", due).cast(Date)
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC.
    return type_coerce(func.substr(due, 1, 10), Date())


# --- marks ---------------------------------------------------------------------------------


def marked(tenant: HasAccount) -> AnySelect:
    """The ids of the tenant's learners awaiting a recount."""
    learner = ComplianceLearner
    return owned(learner, tenant).with_only_columns(learner.user_id).where(learner.waiting == true())


def mark(session: Session, tenant: HasAccount, users: AnySelect | CompoundSelect[Any]) -> None:
    """Mark ``users`` (a SELECT of user ids) for a recount, by an upsert that holds the mark's row
    until the transaction ends."""
    table = cast(Table, ComplianceLearner.__table__)
    stmt = insert_setting(session.get_bind().dialect, table, ["user_id"], {"waiting": True})
    rows = select(users.subquery().c[0], literal(tenant.account_id), literal(True)).distinct()
    # ``WHERE true``: SQLite's parser needs it between an INSERT's SELECT and ON CONFLICT.
    session.execute(stmt.from_select(["user_id", "account_id", "waiting"], rows.where(literal(True))))


def counted_users(
    tenant: HasAccount, users: Sequence[int] | None, certificate_ids: Sequence[int]
) -> AnySelect:
    """Of ``users`` (every learner when None), those counted in ``certificate_ids`` now."""
    c = ComplianceContribution
    stmt = (
        owned(c, tenant)
        .with_only_columns(c.user_id)
        .where(c.certificate_id.in_(list(certificate_ids)), c.group_id == ACCOUNT)
    )
    return stmt if users is None else stmt.where(c.user_id.in_(list(users)))


# --- recount -------------------------------------------------------------------------------


def closure(users: Any) -> CTE:
    """(user_id, group_id): each of ``users``' groups and every group above them, each once."""
    seed = select(UserGroup.user_id, UserGroup.group_id).where(UserGroup.user_id.in_(users))
    tree = seed.cte("counted_groups", recursive=True)
    up = (
        select(tree.c.user_id, Group.parent_id)
        .join(Group, Group.id == tree.c.group_id)
        .where(Group.parent_id.is_not(None))
    )
    return tree.union(up)


def _desired(dialect: str, tenant: HasAccount, users: Any) -> CompoundSelect[Any]:
    """The contributions ``users``' required standings and groups call for."""
    kept = CertificateStanding
    columns = (
        kept.certificate_id,
        func.coalesce(kept.unearned_state, EARNED).label("unearned_state"),
        day_of(dialect, kept.due).label("day"),
    )
    required = owned(kept, tenant).where(kept.is_required.is_(True))
    groups = closure(users)
    account = literal(tenant.account_id)
    return union_all(
        # Each (learner, group) of the closure finds his standings by their primary key.
        required.with_only_columns(account, groups.c.user_id, groups.c.group_id, *columns).join(
            groups, kept.user_id == groups.c.user_id
        ),
        required.with_only_columns(account, kept.user_id, literal(ACCOUNT), *columns).where(
            kept.user_id.in_(users)
        ),
    )


def recount(session: Session, tenant: HasAccount, users: Any) -> None:
    """Make ``users``' contributions (a list of ids, or a SELECT of them) what their standings and
    groups call for, the tallies following, and clear their marks."""
    dialect = session.get_bind().dialect.name
    c = ComplianceContribution
    tallies = cast(Table, ComplianceTally.__table__)
    adding = insert_adding(session.get_bind().dialect, tallies, _KEYS, "pairs")

    def tally(sign: int) -> AnySelect:
        keys = (c.group_id, c.certificate_id, c.unearned_state, c.day)
        return (
            owned(c, tenant)
            .with_only_columns(literal(tenant.account_id), *keys, (func.count() * sign).label("pairs"))
            .where(c.user_id.in_(users))
            .group_by(*keys)
            .order_by(*keys)
        )

    session.execute(adding.from_select([*_KEYS, "pairs"], tally(-1)))
    session.execute(delete(c).where(c.account_id == tenant.account_id, c.user_id.in_(users)))
    session.execute(
        insert(c).from_select(
            ["account_id", "user_id", "group_id", "certificate_id", "unearned_state", "day"],
            _desired(dialect, tenant, users),
        )
    )
    session.execute(adding.from_select([*_KEYS, "pairs"], tally(1)))
    # The learners counted now keep a row, no longer waiting; the others none.
    learner = cast(Table, ComplianceLearner.__table__)
    counted = owned(c, tenant).with_only_columns(c.user_id).where(c.user_id.in_(users), c.group_id == ACCOUNT)
    session.execute(
        insert_setting(session.get_bind().dialect, learner, ["user_id"], {"waiting": False}).from_select(
            ["user_id", "account_id", "waiting"],
            # Once a learner (he has a row of group 0 for each certificate).
            counted.with_only_columns(c.user_id, c.account_id, literal(False))
            .distinct()
            .where(literal(True)),
        )
    )
    session.execute(
        learner.delete().where(
            learner.c.account_id == tenant.account_id,
            learner.c.user_id.in_(users),
            learner.c.user_id.not_in(counted),
        )
    )


def recount_account(session: Session, tenant: HasAccount) -> None:
    """Count the whole account afresh (the migration that added the tallies, and data written
    around the services, as the benchmarks' generator does)."""
    c, kept = ComplianceContribution, CertificateStanding
    session.execute(delete(c).where(c.account_id == tenant.account_id))
    session.execute(delete(ComplianceTally).where(ComplianceTally.account_id == tenant.account_id))
    required = (
        owned(kept, tenant).with_only_columns(kept.user_id).where(kept.is_required.is_(True)).distinct()
    )
    known = owned(ComplianceLearner, tenant).with_only_columns(ComplianceLearner.user_id)
    recount(session, tenant, required.union(known))


def recount_waiting(session: Session, limit: int = BATCH) -> int:
    """Recount about ``limit`` marked learners, shared among the accounts with marks, each at
    least one (so that one account's learners, held by its long upload, never hold up
    another's): how many were."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    learner = ComplianceLearner
    waiting = learner.waiting == true()
    accounts = list(session.scalars(select(learner.account_id).where(waiting).distinct()))
    done = 0
    for account_id in accounts:
        claim = (
            owned(learner, AccountScope(account_id))
            .with_only_columns(learner.user_id)
            .where(waiting)
            .order_by(learner.user_id)  # the marks' own index
            .limit(max(1, limit // len(accounts)))  # each account at least one
        )
        if postgresql:
            claim = claim.with_for_update(skip_locked=True)
        users = list(session.scalars(claim))
        if postgresql and users:
            if not session.scalar(select(func.pg_try_advisory_xact_lock(_LOCK_CLASS, account_id))):
                continue
            users = _unheld(session, users)
        if users:
            recount(session, AccountScope(account_id), users)
            done += len(users)
    return done


def _unheld(session: Session, users: list[int]) -> list[int]:
    """Of ``users``, those whose inputs no other transaction holds (PostgreSQL), locked until the
    recount commits: the user row, the memberships, the groups he counts in."""
    held: set[int] = set()
    them = select(User.id).where(User.id.in_(users))
    held |= set(session.scalars(them)) - set(session.scalars(them.with_for_update(skip_locked=True)))
    memberships = select(UserGroup.user_id, UserGroup.group_id).where(UserGroup.user_id.in_(users))
    every = {(user, group) for user, group in session.execute(memberships)}
    free = {
        (user, group)
        for user, group in session.execute(memberships.with_for_update(key_share=True, skip_locked=True))
    }
    held |= {user for user, _ in every - free}
    tree = closure(users)
    counted_in = [(user, group) for user, group in session.execute(select(tree.c.user_id, tree.c.group_id))]
    groups = {group for _, group in counted_in}
    free_groups = set(
        session.scalars(
            select(Group.id).where(Group.id.in_(groups)).with_for_update(read=True, skip_locked=True)
        )
    )
    held |= {user for user, group in counted_in if group not in free_groups}
    return [user for user in users if user not in held]


def purge_empty(session: Session) -> int:
    """Forget the tallies that came down to nothing (every account's)."""
    t = ComplianceTally
    return int(cast(CursorResult[Any], session.execute(delete(t).where(t.pairs == 0))).rowcount or 0)


# --- reads ---------------------------------------------------------------------------------


def waiting(session: Session, tenant: HasAccount) -> int:
    """How many of the tenant's learners await a recount, counted up to ``READ_LIMIT`` + 1."""
    found = marked(tenant).limit(READ_LIMIT + 1).subquery()
    return int(session.scalar(select(func.count()).select_from(found)) or 0)


def buckets(tenant: HasAccount, group_ids: Iterable[int], certificate_ids: Sequence[int]) -> AnySelect:
    """(group_id, certificate_id, unearned_state, day, pairs) of ``group_ids``' tallies, less what
    the marked learners contributed to them."""
    t, c = ComplianceTally, ComplianceContribution
    groups, ids = list(group_ids), list(certificate_ids)
    keys = (t.group_id, t.certificate_id, t.unearned_state, t.day)
    kept = (
        owned(t, tenant)
        .with_only_columns(*keys, t.pairs)
        .where(t.group_id.in_(groups), t.certificate_id.in_(ids))
    )
    waiting = marked(tenant).subquery("waiting")
    stale = (
        select(c.group_id, c.certificate_id, c.unearned_state, c.day, literal(-1).label("pairs"))
        # From the few marked learners to their rows, never from a group's many rows.
        .select_from(OrderedJoin(waiting, c, c.user_id == waiting.c.user_id))
        .where(c.group_id.in_(groups), c.certificate_id.in_(ids))
    )
    both = union_all(kept, stale).subquery("tallied")
    by = (both.c.group_id, both.c.certificate_id, both.c.unearned_state, both.c.day)
    total = func.sum(both.c.pairs)
    return select(*by, total.label("pairs")).group_by(*by).having(total != 0)
