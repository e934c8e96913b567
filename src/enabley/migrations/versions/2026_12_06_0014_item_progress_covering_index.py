"""The (channel, user) index of progress rows also holds each row's item and completion

A channel's progress distribution reads every completed required row of the channel; with the
item and the completion in the index it reads the index alone, not a table row per progress row.
It replaces the (channel, user) index, whose look-ups it serves as well.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "ix_item_progress_channel_id_user_id"
NEW = "ix_item_progress_channel_id_user_id_item_id_completed"


def upgrade() -> None:
    op.create_index(NEW, "item_progress", ["channel_id", "user_id", "item_id", "completed"])
    op.drop_index(OLD, table_name="item_progress")


def downgrade() -> None:
    op.create_index(OLD, "item_progress", ["channel_id", "user_id"])
    op.drop_index(NEW, table_name="item_progress")
