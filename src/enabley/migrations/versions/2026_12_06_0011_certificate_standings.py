"""Each learner's stored standing in each certificate, filled from the records

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 15:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.orm import Session

import enabley.db

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "certificate_standings",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("is_required", sa.Boolean(), nullable=False),
        sa.Column("unearned_state", sa.String(length=32), nullable=True),
        sa.Column("certification_date", enabley.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("expiration_date", enabley.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("due", enabley.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_certificate_standings_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_certificate_standings_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_certificate_standings_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "certificate_id", name=op.f("pk_certificate_standings")),
    )
    op.create_index(
        "ix_certificate_standings_account_id_due",
        "certificate_standings",
        ["account_id", "due", "user_id", "certificate_id"],
    )
    op.create_index(
        "ix_certificate_standings_certificate_id_due",
        "certificate_standings",
        ["certificate_id", "due", "user_id"],
    )
    # Filled by the same derivation the writes keep it with, account by account.
    from enabley.compliance import standings
    from enabley.db.base import AccountScope

    session = Session(bind=op.get_bind())
    for account_id in list(session.scalars(sa.text("SELECT id FROM accounts ORDER BY id"))):
        standings.refresh_account(session, AccountScope(account_id), tallied=False)  # 0013 adds them
    session.flush()


def downgrade() -> None:
    op.drop_index("ix_certificate_standings_certificate_id_due", table_name="certificate_standings")
    op.drop_index("ix_certificate_standings_account_id_due", table_name="certificate_standings")
    op.drop_table("certificate_standings")
