"""SCIM: the tokens identity providers provision with, and the externalId they know users and groups by

The externalId of a user or a group gets a column of its own, indexed per account: Entra ID looks
resources up by it (``filter=externalId eq "..."``) before changing them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import enabley.db

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scim_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("sub_account_id", sa.Integer(), nullable=True),
        sa.Column("group_type", sa.String(length=255), nullable=True),
        sa.Column("token_hash", sa.String(length=128), nullable=False),
        sa.Column("created_at", enabley.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", enabley.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", enabley.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_scim_tokens_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sub_account_id"],
            ["sub_accounts.id"],
            name=op.f("fk_scim_tokens_sub_account_id_sub_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scim_tokens")),
        sa.UniqueConstraint("public_id", name=op.f("uq_scim_tokens_public_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_scim_tokens_token_hash")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("scim_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_scim_tokens_account_id", ["account_id"], unique=False)
        batch_op.create_index("ix_scim_tokens_sub_account_id", ["sub_account_id"], unique=False)
    for table in ("users", "groups"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("scim_external_id", sa.String(length=255), nullable=True))
            batch_op.create_index(
                f"ix_{table}_account_id_scim_external_id", ["account_id", "scim_external_id"], unique=False
            )


def downgrade() -> None:
    for table in ("users", "groups"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_account_id_scim_external_id")
            batch_op.drop_column("scim_external_id")
    op.drop_table("scim_tokens")
