"""User tallies: how many users each account and sub-account holds, kept by triggers

The first page of a user walk answers with its page count. Counting a million users costs tens of
milliseconds on either database; reading a tally costs a few microseconds. Triggers keep the
tallies exact whichever path writes users (the API, the bulk upload, an account's deletion).

On PostgreSQL statement-level triggers add one row per statement (a 500-row insert of the bulk
upload is one update), each into the stripe of its backend so that two transactions writing the
same account rarely wait on one tally row. SQLite has row triggers only, and writes one
transaction at a time: stripe 0.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 09:00:00
"""

# ruff: noqa: S608 - the statements are built from this module's own constant names, no input

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STRIPES = 16
# (tally table, its key column, the table that key points to, the counted table, the counted
# table's column holding that key)
TALLIES = (
    ("user_tallies", "account_id", "accounts", "users", "account_id"),
    ("sub_account_tallies", "sub_account_id", "sub_accounts", "user_sub_accounts", "sub_account_id"),
)


def _postgresql(tally: str, key: str, counted: str, column: str) -> None:
    for event, rows, sign in (("insert", "new_rows", "+"), ("delete", "old_rows", "-")):
        function = f"{tally}_{event}"
        op.execute(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {tally} ({key}, stripe, users) "
            f"SELECT {column}, pg_backend_pid() % {STRIPES}, {sign}count(*) FROM {rows} GROUP BY {column} "
            f"ON CONFLICT ({key}, stripe) DO UPDATE SET users = {tally}.users + excluded.users; "
            "RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {function} AFTER {event.upper()} ON {counted} "
            f"REFERENCING {'NEW' if event == 'insert' else 'OLD'} TABLE AS {rows} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )


def _sqlite(tally: str, key: str, counted: str, column: str) -> None:
    op.execute(
        f"CREATE TRIGGER {tally}_insert AFTER INSERT ON {counted} BEGIN "
        f"INSERT INTO {tally} ({key}, stripe, users) VALUES (new.{column}, 0, 1) "
        f"ON CONFLICT ({key}, stripe) DO UPDATE SET users = users + 1; END"
    )
    op.execute(
        f"CREATE TRIGGER {tally}_delete AFTER DELETE ON {counted} BEGIN "
        f"UPDATE {tally} SET users = users - 1 WHERE {key} = old.{column} AND stripe = 0; END"
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for tally, key, parent, _counted, _column in TALLIES:
        op.create_table(
            tally,
            sa.Column(key, sa.Integer(), nullable=False),
            sa.Column("stripe", sa.SmallInteger(), nullable=False),
            sa.Column("users", sa.BigInteger(), nullable=False),
            sa.ForeignKeyConstraint([key], [f"{parent}.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint(key, "stripe"),
        )
    for tally, key, _parent, counted, column in TALLIES:
        # Lock the counted table while the tally is filled, so no write falls between the count
        # and the trigger (SQLite's migration already holds the database's write lock).
        if dialect == "postgresql":
            op.execute(f"LOCK TABLE {counted} IN SHARE ROW EXCLUSIVE MODE")
            _postgresql(tally, key, counted, column)
        else:
            _sqlite(tally, key, counted, column)
        op.execute(
            f"INSERT INTO {tally} ({key}, stripe, users) "
            f"SELECT {column}, 0, count(*) FROM {counted} GROUP BY {column}"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for tally, _key, _parent, counted, _column in TALLIES:
        for event in ("insert", "delete"):
            op.execute(
                f"DROP TRIGGER IF EXISTS {tally}_{event}"
                + (f" ON {counted}" if dialect == "postgresql" else "")
            )
            if dialect == "postgresql":
                op.execute(f"DROP FUNCTION IF EXISTS {tally}_{event}()")
        op.drop_table(tally)
