"""The migrations build exactly the schema the models describe, and run both ways."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, text

from enabley import migrate
from enabley.db.base import Base
from enabley.db.bulk import Direct
from enabley.db.engine import make_engine
from enabley.events import log, stored
from enabley.models import (
    Account,
    Certificate,
    CertificateCourse,
    CertificateStanding,
    Channel,
    ChannelItem,
    ComplianceLearner,
    ComplianceTally,
    Event,
    Group,
    ItemProgress,
    User,
    UserCertificate,
    UserGroup,
    UserPermission,
    UserTally,
)
from enabley.uploads import row_events


def test_models_and_migrations_agree(engine):
    """What `alembic check` verifies: autogenerate would find nothing to add."""
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": migrate.include_object}
        )
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_upgrade_downgrade_upgrade(scratch):
    url = scratch.new()
    migrate.upgrade(url)
    assert migrate.current_revision(url) == migrate.head_revision()
    config = migrate.alembic_config(url)
    with migrate.locked_connection(url) as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "base")
    engine = make_engine(url)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    engine.dispose()
    migrate.upgrade(url)
    migrate.upgrade(url)  # a second run finds nothing to do
    assert migrate.current_revision(url) == migrate.head_revision()


def _database_at(scratch, revision: str) -> str:
    """A new database migrated up to ``revision`` only."""
    url = scratch.new()
    config = migrate.alembic_config(url)
    with migrate.locked_connection(url) as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    return url


def _two_users_and_a_course(conn) -> tuple[int, list[int], int, int]:
    """Core inserts of the columns they name (the schemas of older revisions have them): an
    account, users ana and bob, a channel and its one content item."""
    account = conn.execute(insert(Account).values(name="acme").returning(Account.id)).scalar_one()
    users = [
        conn.execute(
            insert(User)
            .values(account_id=account, external_id=name, email_key=f"{name}@example.com")
            .returning(User.id)
        ).scalar_one()
        for name in ("ana", "bob")
    ]
    channel = conn.execute(
        insert(Channel).values(account_id=account, external_id="c", name="C").returning(Channel.id)
    ).scalar_one()
    item = conn.execute(
        insert(ChannelItem)
        .values(account_id=account, channel_id=channel, external_id="i", kind="CONTENT", name="I")
        .returning(ChannelItem.id)
    ).scalar_one()
    return account, users, channel, item


def test_0004_keeps_every_row_and_the_triggers_on_users(scratch):
    """On SQLite, 0004 rebuilds tables that others reference, and users with its triggers."""
    url = _database_at(scratch, "0003")
    engine = make_engine(url)
    try:
        # Core inserts of the columns they name, as the schema of 0003 has them.
        with engine.begin() as conn:
            account, users, channel, item = _two_users_and_a_course(conn)
            conn.execute(insert(UserPermission).values(user_id=users[0], permission="ADMIN"))
            conn.execute(insert(ItemProgress).values(user_id=users[0], item_id=item, channel_id=channel))
            conn.execute(insert(Certificate).values(account_id=account, external_id="cert", name="Cert"))
        migrate.upgrade(url)
        with engine.begin() as conn:
            counts = {
                table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (User.__table__, UserPermission.__table__, ItemProgress.__table__)
            }
            assert counts == {"users": 2, "user_permissions": 1, "item_progress": 1}
            link_ids = conn.execute(select(User.link_id)).scalars().all()
            link_ids += conn.execute(select(Certificate.link_id)).scalars().all()
            assert len(set(link_ids)) == 3 and None not in link_ids
            carla = conn.execute(
                insert(User)
                .values(account_id=account, external_id="carla", email_key="carla@example.com")
                .returning(User.id)
            ).scalar_one()
            assert carla > max(users)
            tally = conn.execute(select(func.sum(UserTally.users)).where(UserTally.account_id == account))
            assert tally.scalar_one() == 3
            if conn.dialect.name == "sqlite":
                found = conn.execute(text("SELECT rowid FROM users_search WHERE users_search MATCH 'carla'"))
                assert found.scalars().all() == [carla]
    finally:
        engine.dispose()


def test_0011_fills_the_standings_from_the_records(scratch):
    """0011 derives each learner's standing from what was recorded before it existed."""
    url = _database_at(scratch, "0010")
    engine = make_engine(url)
    done = datetime(2026, 1, 31, 9, 30, tzinfo=UTC)
    try:
        with engine.begin() as conn:
            account, (ana, bob), channel, item = _two_users_and_a_course(conn)
            conn.execute(
                insert(ItemProgress).values(
                    user_id=ana, item_id=item, channel_id=channel, completed=True, completed_at=done
                )
            )
            certificate = conn.execute(
                insert(Certificate)
                .values(
                    account_id=account,
                    external_id="cert",
                    name="Cert",
                    expiration_duration=1,
                    expiration_period="MONTH",
                )
                .returning(Certificate.id)
            ).scalar_one()
            conn.execute(insert(CertificateCourse).values(certificate_id=certificate, channel_id=channel))
            conn.execute(
                insert(UserCertificate),
                [{"user_id": u, "certificate_id": certificate, "is_required": True} for u in (ana, bob)],
            )
        migrate.upgrade(url)
        with engine.begin() as conn:
            kept = conn.execute(
                select(
                    CertificateStanding.user_id,
                    CertificateStanding.unearned_state,
                    CertificateStanding.certification_date,
                    CertificateStanding.expiration_date,
                ).order_by(CertificateStanding.user_id)
            ).all()
        # January 31 plus one month: the last day of February.
        assert [tuple(row) for row in kept] == [
            (ana, None, done, datetime(2026, 2, 28, 9, 30, tzinfo=UTC)),
            (bob, "INIT", None, None),
        ]
    finally:
        engine.dispose()


def test_0013_counts_the_required_learners_in_their_groups(scratch):
    """0013 fills the compliance tallies from the standings and memberships already there."""
    url = _database_at(scratch, "0012")
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            account, (ana, bob), channel, _item = _two_users_and_a_course(conn)
            top, team = None, None
            for name in ("top", "team"):
                made = conn.execute(
                    insert(Group)
                    .values(account_id=account, external_id=name, name=name, parent_id=top)
                    .returning(Group.id)
                ).scalar_one()
                top, team = (made, None) if top is None else (top, made)
            conn.execute(
                insert(UserGroup), [{"user_id": ana, "group_id": team}, {"user_id": bob, "group_id": top}]
            )
            certificate = conn.execute(
                insert(Certificate)
                .values(account_id=account, external_id="cert", name="Cert")
                .returning(Certificate.id)
            ).scalar_one()
            conn.execute(insert(CertificateCourse).values(certificate_id=certificate, channel_id=channel))
            conn.execute(
                insert(UserCertificate).values(user_id=ana, certificate_id=certificate, is_required=True)
            )
            conn.execute(
                insert(CertificateStanding).values(
                    account_id=account,
                    user_id=ana,
                    certificate_id=certificate,
                    is_required=True,
                    unearned_state="INIT",
                    due=datetime(9999, 12, 31, tzinfo=UTC),
                )
            )
        migrate.upgrade(url)
        with engine.begin() as conn:
            t = ComplianceTally
            counted = conn.execute(select(t.group_id, t.unearned_state, t.pairs).order_by(t.group_id)).all()
            assert [tuple(row) for row in counted] == [(0, "INIT", 1), (top, "INIT", 1), (team, "INIT", 1)]
            # The triggers are in place: bob, not counted, is not marked; ana is.
            conn.execute(
                insert(UserGroup), [{"user_id": u, "group_id": top if u == ana else team} for u in (ana, bob)]
            )
            assert list(conn.scalars(select(ComplianceLearner.user_id).where(ComplianceLearner.waiting))) == [
                ana
            ]
    finally:
        engine.dispose()


def test_0016_downgrade_lays_each_bundle_out_as_its_events(scratch):
    """Going back to one row an event keeps every event: its id, type, data and position."""
    url = scratch.new()
    migrate.upgrade(url)
    engine = make_engine(url)
    pairs = [["g1", "u1"], ["g2", "u1"], ["g1", "u2"]]
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # bundles are large: stored with lz4
                compression = "SELECT attcompression FROM pg_attribute WHERE attrelid = 'events'::regclass "
                assert conn.execute(text(compression + "AND attname = 'data'")).scalar() == "l"
            account = conn.execute(insert(Account).values(name="acme").returning(Account.id)).scalar_one()
            direct = Direct(conn.dialect, conn.connection.driver_connection)
            members = stored.Table.of_rows("group.member_added", row_events.MEMBERSHIP_KEYS, pairs, {})
            deletion = ("user.deleted", '{"identifier":"x","type":"user"}', 1)
            log.emit_encoded(direct, account, [deletion, *stored.encode(members)])
            log.number_waiting(conn)
            waiting = stored.Table.of_rows("group.member_removed", row_events.MEMBERSHIP_KEYS, pairs[:2], {})
            log.emit_encoded(direct, account, stored.encode(waiting))
            rows = conn.execute(select(*stored.ROW_COLUMNS).order_by(Event.id)).all()
            before = [(e.position, e.event_id, e.type, json.loads(e.data)) for e in stored.events(rows[:2])]
            as_if_numbered = SimpleNamespace(**{**rows[2]._asdict(), "position": 2})
            unnumbered = stored.events([as_if_numbered])
            later = [(e.event_id, e.type, json.loads(e.data)) for e in unnumbered]
        assert [p for p, *_ in before] == [1, 2, 3, 4] and len(later) == 2
        config = migrate.alembic_config(url)
        with migrate.locked_connection(url) as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0015")
        with engine.begin() as conn:
            after = conn.execute(text("SELECT position, event_id, type, data FROM events ORDER BY id")).all()
        laid_out = [(p, i, t, json.loads(d) if isinstance(d, str) else d) for p, i, t, d in after]
        numbered = sorted(row for row in laid_out if row[0] is not None)
        assert numbered == before
        assert [row[1:] for row in laid_out if row[0] is None] == later
        assert later[1][2] == {"groupIdentifier": "g2", "userIdentifier": "u1"}
        migrate.upgrade(url)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM events WHERE span <> 1")).scalar() == 0
    finally:
        engine.dispose()
