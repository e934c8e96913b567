"""A new change-log row is added to one index but its primary key: the unnumbered rows' by account

See docs/decisions/0015-one-index-for-new-events.md: the index on ``(account_id, position)``
holds numbered rows only; the index of unnumbered rows is on ``(account_id, id)``.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NUMBERED = sa.text("position IS NOT NULL")
UNNUMBERED = sa.text("position IS NULL")


def _drop_indexes() -> None:
    op.drop_index("ix_events_unsequenced", table_name="events")
    op.drop_index("ix_events_account_id_position", table_name="events")


def upgrade() -> None:
    _drop_indexes()
    op.create_index(
        "ix_events_account_id_position",
        "events",
        ["account_id", "position"],
        postgresql_where=NUMBERED,
        sqlite_where=NUMBERED,
    )
    op.create_index(
        "ix_events_unsequenced",
        "events",
        ["account_id", "id"],
        postgresql_where=UNNUMBERED,
        sqlite_where=UNNUMBERED,
    )


def downgrade() -> None:
    _drop_indexes()
    op.create_index("ix_events_account_id_position", "events", ["account_id", "position"])
    op.create_index(
        "ix_events_unsequenced", "events", ["id"], postgresql_where=UNNUMBERED, sqlite_where=UNNUMBERED
    )
