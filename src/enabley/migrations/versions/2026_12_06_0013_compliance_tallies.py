"""Compliance tallies: kept counts per group subtree, certificate and bucket (decision 0014)

Three tables (``compliance.tallies``) and the triggers that mark for a recount the learners
already counted, or marked, whose memberships change (from any door: the API, SCIM, uploads, a
group's or user's deletion cascading), whose group moves or is deleted, or who is deleted. A mark
is an upsert: it holds the mark's row until the writing transaction ends. PostgreSQL's triggers
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

MARK = (
    "INSERT INTO compliance_recounts (user_id, account_id) {rows} "
    "ON CONFLICT (user_id) DO UPDATE SET account_id = excluded.account_id"
)
"""The upsert of a mark; ``rows`` selects (user_id, account_id), each user once."""
COUNTED = (
    "SELECT account_id FROM compliance_contributions WHERE user_id = {user} AND group_id = 0 "
    "UNION ALL SELECT account_id FROM compliance_recounts WHERE user_id = {user}"
)
"""The account of a learner counted or marked (one row, or two alike, or none)."""
IN_GROUP = (
    "SELECT DISTINCT c.user_id, c.account_id FROM compliance_contributions c "
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
            picked = (
                f"SELECT DISTINCT ON (r.{user}) r.{user}, c.account_id FROM {rows}_rows r "
                f"CROSS JOIN LATERAL ({COUNTED.format(user=f'r.{user}')} LIMIT 1) c ORDER BY r.{user}"
            )
        elif event == "UPDATE":
            moved = (
                "SELECT n.id, n.account_id FROM new_rows n JOIN old_rows o ON o.id = n.id "
                "WHERE n.parent_id IS DISTINCT FROM o.parent_id"
            )
            picked = IN_GROUP.format(groups=f"({moved})")
        else:
            picked = IN_GROUP.format(groups="old_rows")
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{MARK.format(rows=picked)}; RETURN NULL; END $$"
        )
        transitions = (
            "NEW TABLE AS new_rows OLD TABLE AS old_rows"
            if event == "UPDATE"
            else f"{rows.upper()} TABLE AS {rows}_rows"
        )
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {transitions} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()"
        )


def _sqlite() -> None:
    for name, event, table, row, user in TRIGGERS:
        when = ""
        if user is not None:
            picked = f"SELECT {row}.{user}, account_id FROM ({COUNTED.format(user=f'{row}.{user}')}) LIMIT 1"
        else:
            picked = IN_GROUP.format(groups=f"(SELECT {row}.id AS id, {row}.account_id AS account_id)")
            if event == "UPDATE":
                when = " WHEN old.parent_id IS NOT new.parent_id"
        # ``WHERE true``: SQLite's parser needs it between an INSERT's SELECT and ON CONFLICT.
        picked = f"SELECT * FROM ({picked}) WHERE true"
        of = " OF parent_id" if event == "UPDATE" else ""
        op.execute(
            f"CREATE TRIGGER {name} AFTER {event}{of} ON {table} FOR EACH ROW{when} BEGIN "
            f"{MARK.format(rows=picked)}; END"
        )


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
        "compliance_recounts",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_compliance_recounts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_compliance_recounts")),
    )
    op.create_index(
        "ix_compliance_recounts_account_id_user_id", "compliance_recounts", ["account_id", "user_id"]
    )
    if op.get_bind().dialect.name == "postgresql":
        # No membership, group or user changes between the count below and the triggers.
        op.execute("LOCK TABLE user_groups, groups, users IN SHARE ROW EXCLUSIVE MODE")
        _postgresql()
    else:
        _sqlite()
    # Filled by the recount the worker keeps them with, account by account.
    from enabley.compliance import tallies

    session = Session(bind=op.get_bind())
    for account_id in list(session.scalars(sa.text("SELECT id FROM accounts ORDER BY id"))):
        tallies.recount_account(session, tallies.Account(account_id))
    session.flush()


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name, _event, table, _rows, _user in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if postgresql else ""))
        if postgresql:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_compliance_recounts_account_id_user_id", table_name="compliance_recounts")
    op.drop_table("compliance_recounts")
    op.drop_index("ix_compliance_contributions_certificate_id", table_name="compliance_contributions")
    op.drop_index("ix_compliance_contributions_account_id_group_id", table_name="compliance_contributions")
    op.drop_table("compliance_contributions")
    op.drop_index("ix_compliance_tallies_certificate_id", table_name="compliance_tallies")
    op.drop_table("compliance_tallies")
