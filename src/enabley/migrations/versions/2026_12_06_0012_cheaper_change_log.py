"""The change log's rows touch fewer indexes and checks as they are written

See docs/decisions/0013-cheaper-change-log-rows.md: no unique index on ``event_id``; the unique
index on ``position`` holds numbered rows only; no foreign key from ``account_id`` (the change
log holds the account once per write, and deleting an account deletes its events); on
PostgreSQL ``data`` is ``json`` rather than ``jsonb``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUMBERED = sa.text("position IS NOT NULL")
UNSEQUENCED = sa.text("position IS NULL")
FOREIGN_KEY = "fk_events_account_id_accounts"


def _drop_indexes() -> None:
    # Dropped before SQLite's rebuild of the table and made again after it: the rebuild would
    # otherwise copy a partial index without its condition.
    op.drop_index("ix_events_unsequenced", table_name="events")
    op.drop_index("ix_events_account_id_position", table_name="events")


def _create_indexes() -> None:
    op.create_index("ix_events_account_id_position", "events", ["account_id", "position"])
    op.create_index(
        "ix_events_unsequenced", "events", ["id"], postgresql_where=UNSEQUENCED, sqlite_where=UNSEQUENCED
    )


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_indexes()
    with op.batch_alter_table("events", table_kwargs={"sqlite_autoincrement": True}) as batch:
        batch.drop_constraint("uq_events_event_id", type_="unique")
        batch.drop_constraint("uq_events_position", type_="unique")
        batch.drop_constraint(FOREIGN_KEY, type_="foreignkey")
        if dialect == "postgresql":
            batch.alter_column(
                "data",
                type_=sa.JSON(),
                existing_type=postgresql.JSONB(astext_type=sa.Text()),
                existing_nullable=False,
                postgresql_using="data::json",
            )
    _create_indexes()
    op.create_index(
        "uq_events_position",
        "events",
        ["position"],
        unique=True,
        postgresql_where=NUMBERED,
        sqlite_where=NUMBERED,
    )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.drop_index("uq_events_position", table_name="events")
    _drop_indexes()
    # Events of an account deleted meanwhile, which the foreign key would refuse (none: deleting an
    # account deletes its events, and the change log holds the account while it writes).
    op.execute("DELETE FROM events WHERE account_id NOT IN (SELECT id FROM accounts)")
    with op.batch_alter_table("events", table_kwargs={"sqlite_autoincrement": True}) as batch:
        if dialect == "postgresql":
            batch.alter_column(
                "data",
                type_=postgresql.JSONB(astext_type=sa.Text()),
                existing_type=sa.JSON(),
                existing_nullable=False,
                postgresql_using="data::jsonb",
            )
        batch.create_foreign_key(FOREIGN_KEY, "accounts", ["account_id"], ["id"], ondelete="CASCADE")
        batch.create_unique_constraint("uq_events_position", ["position"])
        batch.create_unique_constraint("uq_events_event_id", ["event_id"])
    _create_indexes()
