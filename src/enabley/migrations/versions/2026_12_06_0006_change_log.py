"""The change log: every change's events, written in its transaction, numbered after it commits

See docs/decisions/0009-change-log.md. ``certificate_notices`` remembers the time-driven
certificate events already emitted for each certification.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import enabley.db

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNSEQUENCED = sa.text("position IS NULL")


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", enabley.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column(
            "data",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("position", sa.BigInteger(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_events_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("event_id", name=op.f("uq_events_event_id")),
        sa.UniqueConstraint("position", name=op.f("uq_events_position")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_events_account_id_position", "events", ["account_id", "position"])
    op.create_index(
        "ix_events_unsequenced",
        "events",
        ["id"],
        postgresql_where=UNSEQUENCED,
        sqlite_where=UNSEQUENCED,
    )
    op.create_table(
        "certificate_notices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("certified_at", enabley.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_notices_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_certificate_notices_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "certificate_id", "type", name=op.f("pk_certificate_notices")),
    )
    op.create_index("ix_certificate_notices_certificate_id", "certificate_notices", ["certificate_id"])


def downgrade() -> None:
    op.drop_index("ix_certificate_notices_certificate_id", table_name="certificate_notices")
    op.drop_table("certificate_notices")
    op.drop_index("ix_events_unsequenced", table_name="events")
    op.drop_index("ix_events_account_id_position", table_name="events")
    op.drop_table("events")
