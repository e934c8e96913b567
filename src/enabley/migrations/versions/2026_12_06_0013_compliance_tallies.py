"""Compliance tallies: kept counts per group subtree, certificate and bucket (decision 0014)

Three tables (``compliance.tallies``) and the triggers that mark for a recount the learners
already counted, or marked, whose memberships change (from any door: the API, SCIM, uploads, a
group's or user's deletion cascading), whose group moves or is deleted, or who is deleted. A mark
updates the learner's row, which it holds until the writing transaction ends; a learner neither
counted nor marked has none, and costs a membership's insert one probe. PostgreSQL's triggers
run once per statement over its rows (a 500-row insert of the bulk upload is one statement);
SQLite's once per row. Filled by the same recount the worker keeps them with.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 17:00:00
"""

# ruff: noqa: S608 - the statements are built from this module's own constant names, no input

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK = "UPDATE compliance_learners SET waiting = true WHERE user_id IN ({users})"
"""A mark of the learners among ``users`` (a SELECT of user ids) counted or marked already."""
IN_GROUP = (
    "SELECT c.user_id FROM compliance_contributions c "
    "JOIN {groups} g ON c.account_id = g.account_id AND c.group_id = g.id"
)
"""The learners counted in groups (``groups``: rows of their id and account)."""

# (trigger name, event, table, the transition table or row, the user's column; None: the group's)
TRIGGERS = (
    ("compliance_membership_added", "INSERT", "user_groups", "new", "user_id"),
    ("compliance_membership_removed", "DELETE", "user_groups", "old", "user_id"),
    ("compliance_user_deleted", "DELETE", "users", "old", "id"),
    ("compliance_group_moved", "UPDATE", "groups", "new", None),
    ("compliance_group_deleted", "DELETE", "groups", "old", None),
)


def _postgresql() -> None:
    for name, event, table, rows, user in TRIGGERS:
        if user is not None:
            users = f"SELECT {user} FROM {rows}_rows"
        elif event == "UPDATE":
            moved = (
                "SELECT n.id, n.account_id FROM new_rows n JOIN old_rows o ON o.id = n.id "
                "WHERE n.parent_id IS DISTINCT FROM o.parent_id"
            )
            users = IN_GROUP.format(groups=f"({moved})")
        else:
            users = IN_GROUP.format(groups="old_rows")
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{MARK.format(users=users)}; RETURN NULL; END $$"
        )
        transitions = f"{rows.upper()} TABLE AS {rows}_rows"
        if event == "UPDATE":
            transitions = "NEW TABLE AS new_rows OLD TABLE AS old_rows"
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )


def _sqlite() -> None:
    for name, event, table, row, user in TRIGGERS:
        when = ""
        if user is not None:
            mark = f"UPDATE compliance_learners SET waiting = 1 WHERE user_id = {row}.{user}"
        else:
            groups = f"(SELECT {row}.id AS id, {row}.account_id AS account_id)"
            mark = MARK.format(users=IN_GROUP.format(groups=groups))
            if event == "UPDATE":
                when = " WHEN old.parent_id IS NOT new.parent_id"
        of = " OF parent_id" if event == "UPDATE" else ""
        op.execute(f"CREATE TRIGGER {name} AFTER {event}{of} ON {table} FOR EACH ROW{when} BEGIN {mark}; END")


def upgrade() -> None:
    op.create_table(
        "compliance_tallies",
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("unearned_state", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pairs", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_compliance_tallies_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_compliance_tallies_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "account_id",
            "group_id",
            "certificate_id",
            "unearned_state",
            "day",
            name=op.f("pk_compliance_tallies"),
        ),
    )
    op.create_table(
        "compliance_contributions",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("unearned_state", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_compliance_contributions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_compliance_contributions_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "certificate_id", "group_id", name=op.f("pk_compliance_contributions")
        ),
    )
    op.create_index(
        "ix_compliance_contributions_account_id_group_id",
        "compliance_contributions",
        ["account_id", "group_id"],
    )
    op.create_index(
        "ix_compliance_contributions_certificate_id", "compliance_contributions", ["certificate_id"]
    )
    op.create_index("ix_compliance_tallies_certificate_id", "compliance_tallies", ["certificate_id"])
    op.create_table(
        "compliance_learners",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Boolean(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_compliance_learners_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_compliance_learners")),
    )
    op.create_index(
        "ix_compliance_learners_waiting",
        "compliance_learners",
        ["account_id", "user_id"],
        sqlite_where=sa.text("waiting = 1"),  # as SQLAlchemy writes the test
        postgresql_where=sa.text("waiting"),
    )
    if op.get_bind().dialect.name == "postgresql":
        # No membership, group or user changes between the count below and the triggers.
        op.execute("LOCK TABLE user_groups, groups, users IN SHARE ROW EXCLUSIVE MODE")
        _postgresql()
    else:
        _sqlite()
    # Filled by the recount the worker keeps them with, account by account.
    from enabley.compliance import tallies
    from enabley.db.base import AccountScope

    session = Session(bind=op.get_bind())
    for account_id in list(session.scalars(sa.text("SELECT id FROM accounts ORDER BY id"))):
        tallies.recount_account(session, AccountScope(account_id))
    session.flush()


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, _event, table, _rows, _user in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_compliance_learners_waiting", table_name="compliance_learners")
    op.drop_table("compliance_learners")
    op.drop_index("ix_compliance_contributions_certificate_id", table_name="compliance_contributions")
    op.drop_index("ix_compliance_contributions_account_id_group_id", table_name="compliance_contributions")
    op.drop_table("compliance_contributions")
    op.drop_index("ix_compliance_tallies_certificate_id", table_name="compliance_tallies")
    op.drop_table("compliance_tallies")
